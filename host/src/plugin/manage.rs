//! The plugins directory, managed: check a `.wasm` without sending anything,
//! install it as `<id>.wasm`, remove an installed plugin, list what is there,
//! and record what the user approved of a plugin file.

use super::error::LoadError;
use super::registry::{Registry, wasm_files};
use super::runtime::{Plugin, Runtime};
use super::trust::{self, Approval, Capabilities, TrustError, TrustFile, Verdict};
use super::types::PluginSource;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::registry::MAX_PLUGIN_BYTES;

/// Load `path` the way the host would (component, WIT version, imports,
/// `info()`), without sending anything.
pub async fn check(rt: &Runtime, path: &Path) -> Result<Plugin, LoadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(LoadError::Io(std::io::Error::other("not a file")));
    }
    if meta.len() > MAX_PLUGIN_BYTES {
        return Err(LoadError::Invalid(format!(
            "{} MiB is more than the {} MiB a plugin may be",
            meta.len() >> 20,
            MAX_PLUGIN_BYTES >> 20
        )));
    }
    let bytes = std::fs::read(path)?;
    rt.load(bytes, None, PluginSource::File(path.to_path_buf()))
        .await
}

/// Things worth telling the author that do not stop the plugin from loading.
pub fn advice(plugin: &Plugin) -> Vec<String> {
    let i = plugin.info();
    let mut notes = Vec::new();
    if i.allowed_hosts.is_empty() {
        notes.push("it declares no allowed host, so it cannot make any request".into());
    }
    for s in &i.settings {
        if s.secret && s.default.is_some() {
            notes.push(format!(
                "secret setting `{}` has a default value, which anyone can read in the .wasm",
                s.key
            ));
        }
        if s.required && s.default.is_some() {
            notes.push(format!(
                "setting `{}` is required but has a default, so it is never missing",
                s.key
            ));
        }
        if s.help.trim().is_empty() {
            notes.push(format!("setting `{}` has no help text", s.key));
        }
    }
    if i.version.trim().is_empty() {
        notes.push("its version is empty".into());
    }
    notes
}

/// A file in the plugins directory and what it holds.
pub struct DirEntry {
    pub path: PathBuf,
    pub sha256: String,
    pub plugin: Result<Plugin, LoadError>,
}

/// Every `*.wasm` in `dir`, loaded (the compile cache makes this cheap).
pub async fn scan(rt: &Runtime, dir: &Path) -> Vec<DirEntry> {
    let mut out = Vec::new();
    for path in wasm_files(dir) {
        let (sha256, plugin) = match std::fs::read(&path) {
            Ok(bytes) => {
                let sha = hex::encode(Sha256::digest(&bytes));
                let p = rt
                    .load(bytes, Some(&sha), PluginSource::File(path.clone()))
                    .await;
                (sha, p)
            }
            Err(e) => (String::new(), Err(LoadError::Io(e))),
        };
        out.push(DirEntry {
            path,
            sha256,
            plugin,
        });
    }
    out
}

/// How a plugin file stands with the user, and what approving it gives.
#[derive(Clone)]
pub struct Standing {
    pub verdict: Verdict,
    /// What it would get once approved.
    pub capabilities: Capabilities,
    /// What the user approved before under this id, if anything.
    pub previous: Option<Approval>,
}

impl Standing {
    /// For people: what approving gives, and how that differs from before.
    pub fn lines(&self, id: &str) -> Vec<String> {
        let mut out = self.capabilities.lines(id);
        if let Some(p) = &self.previous {
            let diff = p.capabilities.diff(&self.capabilities);
            if diff.is_empty() {
                out.push(format!("same as you approved for {} {}", id, p.version));
            } else {
                out.push(format!("changed since you approved {} {}:", id, p.version));
                out.extend(diff.lines().into_iter().map(|l| format!("  {l}")));
            }
        }
        out
    }
}

/// How `plugin`, a plugin file, stands given the user's record.
pub async fn standing(rt: &Runtime, plugin: &Plugin, trust: &TrustFile) -> Standing {
    let id = &plugin.info().id;
    let bundled = bundled_plugin(rt, id).await;
    Standing {
        verdict: trust::judge(trust, plugin, bundled.as_deref()),
        capabilities: Capabilities::of(plugin, bundled.is_some()),
        previous: trust.get(id).cloned(),
    }
}

/// What the user approved by installing or trusting a plugin file.
pub struct Approved {
    pub capabilities: Capabilities,
    pub previous: Option<Approval>,
}

/// Record `plugin` as approved (not for the bundled build itself, which
/// needs no approval).
fn record(
    plugin: &Plugin,
    standing: Standing,
    trust: &mut TrustFile,
) -> Result<Option<Approved>, TrustError> {
    if standing.verdict == Verdict::Shipped {
        return Ok(None);
    }
    let previous = trust.approve(plugin, standing.capabilities.clone());
    trust.save()?;
    Ok(Some(Approved {
        capabilities: standing.capabilities,
        previous,
    }))
}

/// What `install` did.
pub struct Installed {
    pub path: PathBuf,
    /// Files of the same id that were replaced: (path, version).
    pub replaced: Vec<(PathBuf, String)>,
    /// A broken file at the target path that was overwritten.
    pub overwrote_broken: bool,
    /// The very same file was already installed (at `path`); nothing changed.
    pub unchanged: bool,
    /// The id is one of the bundled plugins, which this file now replaces.
    pub replaces_bundled: bool,
    /// What installing approved (`None` for the bundled build itself).
    pub approved: Option<Approved>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Check(#[from] LoadError),
    #[error(
        "the plugins directory already has `{id}` {version} ({path}), a different build; \
         pass --force to replace it"
    )]
    Exists {
        id: String,
        version: String,
        path: PathBuf,
    },
    #[error(
        "{path} holds another plugin, `{other}`; pass --force to overwrite it, or remove it first"
    )]
    NameTaken { path: PathBuf, other: String },
    #[error("cannot write to the plugins directory {dir}: {source}")]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{id}` {version} {why}. Installing it approves:\n{approves}\n\
         To approve it and install it: mcp-push plugin install --force {}",
        file.display()
    )]
    NeedsApproval {
        id: String,
        version: String,
        why: String,
        /// Indented lines: what it gets, and the diff.
        approves: String,
        file: PathBuf,
    },
    #[error("{0}")]
    Trust(#[from] TrustError),
}

/// Check `file`, then copy it into `dir` as `<id>.wasm` (written beside and
/// renamed into place, so a watching server never reads half a file), and
/// record what it gets as approved. A file that replaces a bundled plugin or
/// asks for more than the user approved before needs `force`.
pub async fn install(
    rt: &Runtime,
    file: &Path,
    dir: &Path,
    trust: &mut TrustFile,
    force: bool,
) -> Result<(Plugin, Installed), InstallError> {
    let plugin = check(rt, file).await?;
    let id = plugin.info().id.clone();
    let standing = standing(rt, &plugin, trust).await;
    if !force && let Verdict::Awaiting { diff, .. } = &standing.verdict {
        return Err(InstallError::NeedsApproval {
            why: match diff {
                Some(_) => "asks for what you did not approve".into(),
                None => format!("replaces the bundled `{id}`"),
            },
            version: plugin.info().version.clone(),
            approves: standing
                .lines(&id)
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            file: file.to_path_buf(),
            id,
        });
    }
    let target = dir.join(format!("{id}.wasm"));
    let existing = scan(rt, dir).await;
    let mut installed = Installed {
        path: target.clone(),
        replaced: Vec::new(),
        overwrote_broken: false,
        unchanged: false,
        replaces_bundled: standing.capabilities.replaces_bundled,
        approved: None,
    };
    // The same bytes already there, under any name: nothing to copy.
    if let Some(same) = existing
        .iter()
        .find(|e| e.sha256 == plugin.sha256() && e.plugin.as_ref().is_ok_and(|p| p.info().id == id))
    {
        installed.path = same.path.clone();
        installed.unchanged = true;
        installed.approved = record(&plugin, standing, trust)?;
        if installed.approved.is_some() {
            touch(&same.path);
        }
        return Ok((plugin, installed));
    }
    let mut to_remove = Vec::new();
    for e in &existing {
        match &e.plugin {
            Ok(p) if p.info().id == id => {
                if !force {
                    return Err(InstallError::Exists {
                        id,
                        version: p.info().version.clone(),
                        path: e.path.clone(),
                    });
                }
                installed
                    .replaced
                    .push((e.path.clone(), p.info().version.clone()));
                if e.path != target {
                    to_remove.push(e.path.clone());
                }
            }
            Ok(p) if e.path == target && !force => {
                return Err(InstallError::NameTaken {
                    path: e.path.clone(),
                    other: p.info().id.clone(),
                });
            }
            Err(_) if e.path == target => installed.overwrote_broken = true,
            _ => {}
        }
    }
    let write = |source| InstallError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    // Approved before the file lands: a watching server reloads as soon as
    // it does, and must find the approval already there.
    installed.approved = record(&plugin, standing, trust)?;
    std::fs::create_dir_all(dir).map_err(write)?;
    // Not `*.wasm`, so neither the host nor the watcher looks at it.
    let tmp = dir.join(format!(".{id}.wasm.{}.tmp", std::process::id()));
    std::fs::copy(file, &tmp).map_err(write)?;
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write(e));
    }
    for path in to_remove {
        std::fs::remove_file(&path).map_err(write)?;
    }
    Ok((plugin, installed))
}

#[derive(Debug, thiserror::Error)]
pub enum TrustCommandError {
    #[error(
        "`{0}` is bundled with mcp-push and trusted as shipped; no plugin file in {1} has this id"
    )]
    Bundled(String, PathBuf),
    #[error("no plugin file `{id}` in {dir} (plugin files there: {installed})")]
    NotFound {
        id: String,
        dir: PathBuf,
        installed: String,
    },
    #[error("{0}")]
    Trust(#[from] TrustError),
}

/// What `trust` found and did.
pub struct Trusted {
    pub plugin: Arc<Plugin>,
    /// How it stood before.
    pub standing: Standing,
    /// `None` when there was nothing to approve.
    pub approved: Option<Approved>,
}

/// Approve the plugin file `id` in `dir` as it is now: its hosts, secret
/// settings, environment names, and replacing the bundled plugin of that id.
pub async fn approve(
    rt: &Runtime,
    dir: &Path,
    trust: &mut TrustFile,
    id: &str,
) -> Result<Trusted, TrustCommandError> {
    let entries = scan(rt, dir).await;
    // The last file of this id is the one discovery uses.
    let Some(plugin) = entries
        .into_iter()
        .filter_map(|e| e.plugin.ok())
        .filter(|p| p.info().id == id)
        .last()
        .map(Arc::new)
    else {
        if is_bundled(rt, id).await {
            return Err(TrustCommandError::Bundled(id.into(), dir.to_path_buf()));
        }
        let mut ids: Vec<String> = scan(rt, dir)
            .await
            .into_iter()
            .filter_map(|e| e.plugin.ok().map(|p| p.info().id.clone()))
            .collect();
        ids.dedup();
        return Err(TrustCommandError::NotFound {
            id: id.into(),
            dir: dir.to_path_buf(),
            installed: if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            },
        });
    };
    let now = standing(rt, &plugin, trust).await;
    let approved = match now.verdict {
        Verdict::Shipped | Verdict::Approved { .. } => None,
        _ => {
            let approved = record(&plugin, now.clone(), trust)?;
            if let PluginSource::File(path) = plugin.source() {
                touch(path);
            }
            approved
        }
    };
    Ok(Trusted {
        plugin,
        standing: now,
        approved,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error(
        "`{0}` is bundled with mcp-push and cannot be removed; to turn it off, unset its \
         environment variables or leave it out of the config file"
    )]
    Bundled(String),
    #[error("no plugin `{id}` in {dir} (installed there: {installed})")]
    NotFound {
        id: String,
        dir: PathBuf,
        installed: String,
    },
    #[error("cannot remove {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Trust(#[from] TrustError),
}

/// What `remove` did.
pub struct Removed {
    /// (path, version or `None` for a broken file named `<id>.wasm`)
    pub files: Vec<(PathBuf, Option<String>)>,
    /// A bundled plugin of this id is used again.
    pub bundled_again: bool,
    /// The user's approval of this id was dropped, so that a later file of
    /// the same id is asked about again.
    pub forgot_approval: bool,
}

/// Remove every file in `dir` that holds plugin `id` (and a broken
/// `<id>.wasm`). Only files in the plugins directory are ever touched.
pub async fn remove(
    rt: &Runtime,
    dir: &Path,
    trust: &mut TrustFile,
    id: &str,
) -> Result<Removed, RemoveError> {
    let bundled = is_bundled(rt, id).await;
    let entries = scan(rt, dir).await;
    let named = dir.join(format!("{id}.wasm"));
    let files: Vec<(PathBuf, Option<String>)> = entries
        .iter()
        .filter_map(|e| match &e.plugin {
            Ok(p) if p.info().id == id => Some((e.path.clone(), Some(p.info().version.clone()))),
            Err(_) if e.path == named => Some((e.path.clone(), None)),
            _ => None,
        })
        .collect();
    if files.is_empty() {
        if bundled {
            return Err(RemoveError::Bundled(id.to_string()));
        }
        let mut ids: Vec<String> = entries
            .iter()
            .filter_map(|e| e.plugin.as_ref().ok().map(|p| p.info().id.clone()))
            .collect();
        ids.dedup();
        return Err(RemoveError::NotFound {
            id: id.to_string(),
            dir: dir.to_path_buf(),
            installed: if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            },
        });
    }
    for (path, _) in &files {
        std::fs::remove_file(path).map_err(|source| RemoveError::Io {
            path: path.clone(),
            source,
        })?;
    }
    let forgot_approval = trust.forget(id).is_some();
    if forgot_approval {
        trust.save()?;
    }
    Ok(Removed {
        files,
        bundled_again: bundled,
        forgot_approval,
    })
}

/// The plugins the host would use, with the directory's files: the same
/// discovery as a start.
pub async fn list(rt: &Runtime, dir: Option<&Path>) -> Registry {
    Registry::discover(rt, dir).await
}

/// A watching server notices a file by its modification time: bumping it
/// makes a running server reload and apply the new approval.
fn touch(path: &Path) {
    let done = std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    if let Err(e) = done {
        tracing::debug!("cannot touch {}: {e}", path.display());
    }
}

/// Whether a plugin built into this binary has this id.
async fn is_bundled(rt: &Runtime, id: &str) -> bool {
    bundled_plugin(rt, id).await.is_some()
}

/// The plugin built into this binary with this id.
async fn bundled_plugin(rt: &Runtime, id: &str) -> Option<Arc<Plugin>> {
    Registry::discover(rt, None)
        .await
        .bundled()
        .iter()
        .find(|p| p.info().id == id)
        .cloned()
}
