//! The bundled channels compiled ahead of time and carried at the end of the
//! executable, so that a first start after installing compiles nothing.
//!
//! Compiling all 31 bundled plugins took 3.4 s on an idle machine and 14 s
//! on a busy one, and a first `mcp-push mcp` could make a client give up.
//! `mcp-push plugin precompile --out FILE` writes a copy of the running
//! executable followed by, for each bundled plugin, its compiled code (as
//! wasmtime serializes it) and what it said about itself; packages ship that
//! copy. On start the executable reads its last bytes, and when they carry
//! the trailer (read by `trailer`), the bundled plugins are described from it and compiled
//! code is taken from it on a plugin's first call.
//!
//! Layout, appended after the executable:
//! `code... | index (JSON) | index length (u64 LE) | start of the first code (u64 LE) | MAGIC`.
//! An ELF loader maps only the segments its headers name, so the bytes after
//! them are never executed by being there.
//!
//! Compiled code is checked by wasmtime against the engine on load (its
//! version, settings and this CPU's features); code it refuses is compiled
//! again, as without a trailer.

use super::bundled::BUNDLED;
use super::cache::Described;
use super::error::LoadError;
use super::runtime::Runtime;
use super::trailer::{Entry, Index, MAGIC, Precompiled, TRAILER};
use super::types::PluginSource;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What [`write_executable`] wrote.
#[derive(Debug, Serialize)]
pub struct Written {
    pub path: PathBuf,
    pub plugins: usize,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PrecompileError {
    #[error("bundled plugin {name}: {error}")]
    Plugin {
        name: &'static str,
        error: LoadError,
    },
    #[error("compiling bundled plugin {name}: {error}")]
    Compile { name: &'static str, error: String },
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Write a copy of the running executable to `out`, followed by every bundled
/// plugin compiled for this engine and described; to the running executable
/// itself when `out` is `None` (or names it): the copy is written beside it
/// and renamed over it (the running process keeps the file it started from),
/// with its permissions.
pub async fn write_executable(
    rt: &Runtime,
    out: Option<&Path>,
) -> Result<Written, PrecompileError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| PrecompileError::Io { path, error }
    };
    let exe = std::env::current_exe().map_err(io(Path::new("the running executable")))?;
    let out = out.map_or_else(|| exe.clone(), Path::to_path_buf);
    let mut original = std::fs::read(&exe).map_err(io(&exe))?;
    // Precompiling a precompiled copy replaces its trailer.
    if let Some(found) = Precompiled::read(&exe).ok().flatten() {
        original.truncate(found.base as usize);
    }
    let mut code = Vec::new();
    let mut entries = Vec::new();
    for b in BUNDLED {
        let plugin = rt
            .load(b.wasm, Some(b.sha256), PluginSource::Bundled)
            .await
            .map_err(|error| PrecompileError::Plugin {
                name: b.name,
                error,
            })?;
        let compiled = super::runtime::component(rt, b.wasm, b.sha256)
            .map_err(|e| e.to_string())
            .and_then(|c| c.serialize().map_err(|e| format!("{e:#}")))
            .map_err(|error| PrecompileError::Compile {
                name: b.name,
                error,
            })?;
        entries.push(Entry {
            sha256: b.sha256.to_string(),
            offset: code.len() as u64,
            len: compiled.len() as u64,
            described: Described {
                wit_version: plugin.wit_version().to_string(),
                info: plugin.info().clone(),
            },
        });
        code.extend_from_slice(&compiled);
    }
    let index = serde_json::to_vec(&Index {
        version: env!("CARGO_PKG_VERSION").to_string(),
        entries,
    })
    .expect("an index serializes");
    let base = original.len() as u64;
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        let itself = out.canonicalize().is_ok_and(|out| out == exe);
        let kept = itself.then(|| std::fs::metadata(&exe).ok()).flatten();
        kept.map_or(0o755, |m| m.permissions().mode())
    };
    let tmp = out.with_extension("partial");
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&original)?;
        file.write_all(&code)?;
        file.write_all(&index)?;
        file.write_all(&(index.len() as u64).to_le_bytes())?;
        file.write_all(&base.to_le_bytes())?;
        file.write_all(MAGIC)?;
        file.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        std::fs::rename(&tmp, &out)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(PrecompileError::Io {
            path: out.clone(),
            error,
        });
    }
    Ok(Written {
        path: out,
        plugins: BUNDLED.len(),
        bytes: base + code.len() as u64 + index.len() as u64 + TRAILER as u64,
    })
}
