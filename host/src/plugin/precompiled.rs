//! The bundled channels compiled ahead of time and carried at the end of the
//! executable, so that a first start after installing compiles nothing.
//!
//! Compiling all 31 bundled plugins took 3.4 s on an idle machine and 14 s
//! on a busy one, and a first `mcp-push mcp` could make a client give up.
//! `mcp-push plugin precompile --out FILE` writes a copy of the running
//! executable followed by, for each bundled plugin, its compiled code (as
//! wasmtime serializes it) and what it said about itself; packages ship that
//! copy. On start the executable reads its last bytes, and when they carry
//! the trailer below, the bundled plugins are described from it and compiled
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
use super::runtime::{PluginSource, Runtime};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 16] = b"mcp-push:precomp";
const TRAILER: usize = 8 + 8 + MAGIC.len();
/// An index larger than this is not one this code wrote.
const MAX_INDEX: u64 = 16 << 20;

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    /// The mcp-push version that wrote it: descriptions are checked by the
    /// host, and only the same build reads them back.
    version: String,
    entries: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    sha256: String,
    /// Offset from the start of the first code, and length.
    offset: u64,
    len: u64,
    described: Described,
}

/// What this executable carries, read once per process.
pub(crate) struct Precompiled {
    /// The executable as it was opened at start: an upgrade that replaces
    /// the file while this process runs must not hand it another file's
    /// bytes at the offsets of this one's index.
    file: std::fs::File,
    /// Where the first code starts in `file`.
    base: u64,
    index: Index,
}

impl Precompiled {
    /// The trailer of the running executable, if it has one.
    pub fn this() -> Option<&'static Precompiled> {
        static THIS: OnceLock<Option<Precompiled>> = OnceLock::new();
        THIS.get_or_init(|| {
            let exe = std::env::current_exe().ok()?;
            match Precompiled::read(&exe) {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(
                        "ignoring the precompiled channels at the end of {}: {e}",
                        exe.display()
                    );
                    None
                }
            }
        })
        .as_ref()
    }

    fn read(exe: &Path) -> std::io::Result<Option<Precompiled>> {
        let mut file = std::fs::File::open(exe)?;
        let len = file.metadata()?.len();
        if len < TRAILER as u64 {
            return Ok(None);
        }
        let mut trailer = [0u8; TRAILER];
        file.seek(SeekFrom::Start(len - TRAILER as u64))?;
        file.read_exact(&mut trailer)?;
        if &trailer[16..] != MAGIC {
            return Ok(None);
        }
        let index_len = u64::from_le_bytes(trailer[..8].try_into().expect("8 bytes"));
        let base = u64::from_le_bytes(trailer[8..16].try_into().expect("8 bytes"));
        let bad = |what: &str| std::io::Error::other(format!("the trailer is damaged ({what})"));
        if index_len > MAX_INDEX || index_len + (TRAILER as u64) > len - base.min(len) {
            return Err(bad("index length"));
        }
        let mut index = vec![0u8; index_len as usize];
        file.seek(SeekFrom::Start(len - TRAILER as u64 - index_len))?;
        file.read_exact(&mut index)?;
        let index: Index = serde_json::from_slice(&index).map_err(|e| bad(&e.to_string()))?;
        if index.version != env!("CARGO_PKG_VERSION") {
            return Err(bad("written by another version"));
        }
        let code_end = len - TRAILER as u64 - index_len;
        if index
            .entries
            .iter()
            .any(|e| base.saturating_add(e.offset).saturating_add(e.len) > code_end)
        {
            return Err(bad("an entry past the code"));
        }
        Ok(Some(Precompiled { file, base, index }))
    }

    fn entry(&self, sha256: &str) -> Option<&Entry> {
        self.index.entries.iter().find(|e| e.sha256 == sha256)
    }

    /// What the component with this hash said about itself.
    pub fn described(&self, sha256: &str) -> Option<&Described> {
        self.entry(sha256).map(|e| &e.described)
    }

    /// The compiled component with this hash, when this executable carries
    /// it and the engine accepts it.
    pub fn component(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let entry = self.entry(sha256)?;
        let read = || -> std::io::Result<Vec<u8>> {
            use std::os::unix::fs::FileExt;
            let mut bytes = vec![0u8; entry.len as usize];
            self.file
                .read_exact_at(&mut bytes, self.base + entry.offset)?;
            Ok(bytes)
        };
        let bytes = match read() {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("cannot read precompiled {}: {e}", &sha256[..12]);
                return None;
            }
        };
        // SAFETY: the bytes are part of this executable, written by
        // `write_executable` from `Component::serialize`; wasmtime checks its
        // own header, version and the engine's settings before using them.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!("precompiled {} not usable here: {e:#}", &sha256[..12]);
                None
            }
        }
    }
}

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
/// plugin compiled for this engine and described.
pub async fn write_executable(rt: &Runtime, out: &Path) -> Result<Written, PrecompileError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| PrecompileError::Io { path, error }
    };
    let exe = std::env::current_exe().map_err(io(Path::new("the running executable")))?;
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
            file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::rename(&tmp, out)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(PrecompileError::Io {
            path: out.to_path_buf(),
            error,
        });
    }
    Ok(Written {
        path: out.to_path_buf(),
        plugins: BUNDLED.len(),
        bytes: base + code.len() as u64 + index.len() as u64 + TRAILER as u64,
    })
}
