//! Discovery: the bundled channels, then every `*.wasm` in the plugins
//! directory (a file with a bundled plugin's id replaces it).

use super::bundled::BUNDLED;
use super::error::LoadError;
use super::runtime::{Plugin, PluginSource, Runtime};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file that was skipped, and why.
#[derive(Debug)]
pub struct LoadWarning {
    pub path: PathBuf,
    pub error: LoadError,
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipping plugin {}: {}", self.path.display(), self.error)
    }
}

#[derive(Default)]
pub struct Registry {
    plugins: BTreeMap<String, Arc<Plugin>>,
    warnings: Vec<LoadWarning>,
    /// Every bundled plugin, even one a file replaces (it comes back when
    /// the file goes).
    bundled: Vec<Arc<Plugin>>,
    /// Every plugin file loaded, by path, even one another file shadows.
    files: BTreeMap<PathBuf, Arc<Plugin>>,
}

impl Registry {
    pub async fn discover(rt: &Runtime, dir: Option<&Path>) -> Registry {
        let mut reg = Registry::default();
        for b in BUNDLED {
            match rt.load(b.wasm, Some(b.sha256), PluginSource::Bundled).await {
                Ok(p) => reg.insert(Arc::new(p)),
                Err(error) => reg.warn(PathBuf::from(format!("<bundled {}>", b.name)), error),
            }
        }
        reg.load_dir(rt, dir, None).await;
        reg
    }

    /// The plugins as the directory holds them now: the bundled ones and the
    /// files whose content did not change are kept as they are (the same
    /// `Arc`), new and changed files are loaded, removed ones dropped.
    pub async fn reload(&self, rt: &Runtime, dir: Option<&Path>) -> Registry {
        let mut reg = Registry::default();
        for p in &self.bundled {
            reg.insert(p.clone());
        }
        reg.load_dir(rt, dir, Some(&self.files)).await;
        reg
    }

    async fn load_dir(
        &mut self,
        rt: &Runtime,
        dir: Option<&Path>,
        // On a reload, the files loaded before.
        known: Option<&BTreeMap<PathBuf, Arc<Plugin>>>,
    ) {
        let Some(dir) = dir else { return };
        for path in wasm_files(dir) {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    self.warn(path, LoadError::Io(e));
                    continue;
                }
            };
            let sha256 = hex::encode(Sha256::digest(&bytes));
            if let Some(p) = known
                .and_then(|k| k.get(&path))
                .filter(|p| p.sha256() == sha256)
            {
                self.insert(p.clone());
                continue;
            }
            match rt
                .load(&bytes, Some(&sha256), PluginSource::File(path.clone()))
                .await
            {
                Ok(p) => {
                    if known.is_some() {
                        tracing::info!(
                            "loaded plugin {} {} from {}",
                            p.info().id,
                            p.info().version,
                            path.display()
                        );
                    }
                    self.insert(Arc::new(p))
                }
                Err(error) => self.warn(path, error),
            }
        }
    }

    fn insert(&mut self, plugin: Arc<Plugin>) {
        let id = plugin.info().id.clone();
        match plugin.source() {
            PluginSource::Bundled => self.bundled.push(plugin.clone()),
            PluginSource::File(path) => {
                self.files.insert(path.clone(), plugin.clone());
            }
        }
        if let Some(old) = self.plugins.get(&id) {
            let verb = if *old.source() == PluginSource::Bundled {
                "replaces"
            } else {
                "shadows"
            };
            tracing::info!("plugin {id}: {} {verb} {}", plugin.source(), old.source());
        }
        self.plugins.insert(id, plugin);
    }

    fn warn(&mut self, path: PathBuf, error: LoadError) {
        let w = LoadWarning { path, error };
        tracing::warn!("{w}");
        self.warnings.push(w);
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Plugin>> {
        self.plugins.get(id)
    }

    /// The plugin whose one-line URL scheme this is.
    pub fn by_scheme(&self, scheme: &str) -> Option<&Arc<Plugin>> {
        let scheme = scheme.to_ascii_lowercase();
        self.plugins
            .values()
            .find(|p| p.info().schemes.contains(&scheme))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.values()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.plugins.keys().map(String::as_str).collect()
    }

    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// Every bundled plugin, including one a file replaces.
    pub fn bundled(&self) -> &[Arc<Plugin>] {
        &self.bundled
    }
}

/// `*.wasm` files in `dir`, sorted so that load order does not depend on the
/// file system. A missing directory has none.
pub(crate) fn wasm_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::debug!("no plugins directory at {}", dir.display());
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
        .collect();
    files.sort();
    files
}
