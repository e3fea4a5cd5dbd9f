//! The trailer of precompiled bundled channels at the end of the executable:
//! its format, and reading it (see `precompiled` for why, and for writing
//! it). Below the runtime, which takes compiled code and descriptions from
//! it; writing one needs a runtime, so it lives above, in `precompiled`.

use super::cache::Described;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;
use wasmtime::Engine;
use wasmtime::component::Component;

pub(crate) const MAGIC: &[u8; 16] = b"mcp-push:precomp";
pub(crate) const TRAILER: usize = 8 + 8 + MAGIC.len();
/// An index larger than this is not one this code wrote.
const MAX_INDEX: u64 = 16 << 20;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Index {
    /// The mcp-push version that wrote it: descriptions are checked by the
    /// host, and only the same build reads them back.
    pub version: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub sha256: String,
    /// Offset from the start of the first code, and length.
    pub offset: u64,
    pub len: u64,
    pub described: Described,
}

/// What this executable carries, read once per process.
pub(crate) struct Precompiled {
    /// The executable as it was opened at start: an upgrade that replaces
    /// the file while this process runs must not hand it another file's
    /// bytes at the offsets of this one's index.
    file: std::fs::File,
    /// Where the first code starts in `file`.
    pub base: u64,
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

    pub(crate) fn read(exe: &Path) -> std::io::Result<Option<Precompiled>> {
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
