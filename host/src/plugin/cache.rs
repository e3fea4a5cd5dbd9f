//! Compiled components on disk, keyed by the wasm's hash and the engine's
//! compatibility hash, so a second start deserializes instead of compiling;
//! what each component said about itself, so a start that does not call a
//! plugin does not even deserialize it; and the plugin files that could not
//! describe themselves, so a start does not wait for them again.

use super::info::PluginInfo;
use super::types::Compiler;
use serde::{Deserialize, Serialize};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Characters of a remembered failure kept.
const MAX_REMEMBERED: usize = 1024;

#[derive(Debug)]
pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_key: String,
    compiler: Compiler,
    /// This build of mcp-push: a description is checked by the host that
    /// reads it (ids, settings, hosts), and another build may check otherwise.
    build_key: String,
}

/// What a component said about itself, as the host checked it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Described {
    pub wit_version: String,
    pub info: PluginInfo,
}

impl CompileCache {
    pub fn new(dir: &Path, engine: &Engine, compiler: Compiler) -> Self {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        // wasmtime's hash tells the compilers apart already; a file is
        // never loaded by the other's engine, whatever a later wasmtime does.
        compiler.hash(&mut h);
        let engine_key = format!("{:016x}", h.finish());
        let mut h = DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut h);
        // The executable's size and time: a rebuilt or upgraded binary
        // describes its plugins again (one stat, no read).
        if let Some(meta) = std::env::current_exe()
            .ok()
            .and_then(|p| std::fs::metadata(p).ok())
        {
            meta.len().hash(&mut h);
            meta.modified().ok().hash(&mut h);
        }
        CompileCache {
            dir: dir.to_path_buf(),
            engine_key,
            compiler,
            build_key: format!("{:016x}", h.finish()),
        }
    }

    fn described_path(&self, sha256: &str) -> PathBuf {
        let short = &sha256[..sha256.len().min(32)];
        self.dir
            .join(format!("{short}-{}.info.json", self.build_key))
    }

    /// What the component with this hash said about itself on an earlier
    /// start of this build, if it did.
    pub fn described(&self, sha256: &str) -> Option<Described> {
        let bytes = std::fs::read(self.described_path(sha256)).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::debug!("ignoring a kept description of {}: {e}", &sha256[..12]);
                None
            }
        }
    }

    pub fn remember_described(&self, sha256: &str, described: &Described) {
        let written = serde_json::to_vec(described)
            .map_err(std::io::Error::other)
            .and_then(|bytes| self.write(&self.described_path(sha256), &bytes));
        if let Err(e) = written {
            tracing::warn!("cannot write the compile cache {}: {e}", self.dir.display());
        }
    }

    /// Write then rename, so a concurrent start never reads half a file.
    fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }

    fn path(&self, sha256: &str) -> PathBuf {
        let short = &sha256[..sha256.len().min(32)];
        self.dir.join(format!("{short}-{}.cwasm", self.engine_key))
    }

    /// The component, from the cache when it holds it, else compiled (and
    /// stored for next time; a cache that cannot be written is only a warning).
    pub fn load(&self, engine: &Engine, wasm: &[u8], sha256: &str) -> wasmtime::Result<Component> {
        let path = self.path(sha256);
        if path.exists() {
            // SAFETY: the file is one this cache wrote with `serialize` for an
            // engine with the same compatibility hash (it is in the name); the
            // cache directory belongs to the user running mcp-push.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => {
                    tracing::debug!("loaded {} from the compile cache", &sha256[..12]);
                    return Ok(c);
                }
                Err(e) => {
                    tracing::warn!("ignoring unreadable compile cache {}: {e}", path.display())
                }
            }
        }
        let started = std::time::Instant::now();
        let component = Component::new(engine, wasm)?;
        tracing::debug!(
            "compiled {} with {} in {} ms",
            &sha256[..12],
            self.compiler.name(),
            started.elapsed().as_millis()
        );
        if let Err(e) = self.store(&path, &component) {
            tracing::warn!("cannot write the compile cache {}: {e}", self.dir.display());
        }
        Ok(component)
    }

    /// Where a failure of the file with this hash is remembered. Keyed by
    /// mcp-push's version too: a newer host may load what an older one could not.
    fn failure_path(&self, sha256: &str) -> PathBuf {
        let short = &sha256[..sha256.len().min(32)];
        self.dir
            .join(format!("{short}-{}.failed", env!("CARGO_PKG_VERSION")))
    }

    /// Why the file with this hash failed to load before, if it did.
    pub fn failure(&self, sha256: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.failure_path(sha256)).ok()?;
        Some(text.chars().take(MAX_REMEMBERED).collect())
    }

    pub fn remember_failure(&self, sha256: &str, why: &str) {
        let why: String = why.chars().take(MAX_REMEMBERED).collect();
        if let Err(e) = self.write(&self.failure_path(sha256), why.as_bytes()) {
            tracing::warn!("cannot write the compile cache {}: {e}", self.dir.display());
        }
    }

    fn store(&self, path: &Path, component: &Component) -> anyhow::Result<()> {
        let bytes = component.serialize().map_err(anyhow::Error::from)?;
        self.write(path, &bytes)?;
        Ok(())
    }
}
