//! Discovery: the bundled channels, then every `*.wasm` in the plugins
//! directory (a file with a bundled plugin's id replaces it).

use super::bundled::BUNDLED;
use super::error::LoadError;
use super::runtime::{Plugin, PluginSource, Runtime};
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
}

impl Registry {
    pub async fn discover(rt: &Runtime, dir: Option<&Path>) -> Registry {
        let mut reg = Registry::default();
        for b in BUNDLED {
            match rt.load(b.wasm, Some(b.sha256), PluginSource::Bundled).await {
                Ok(p) => reg.insert(p),
                Err(error) => reg.warn(PathBuf::from(format!("<bundled {}>", b.name)), error),
            }
        }
        if let Some(dir) = dir {
            for path in wasm_files(dir) {
                match std::fs::read(&path) {
                    Ok(bytes) => match rt
                        .load(&bytes, None, PluginSource::File(path.clone()))
                        .await
                    {
                        Ok(p) => reg.insert(p),
                        Err(error) => reg.warn(path, error),
                    },
                    Err(e) => reg.warn(path, LoadError::Io(e)),
                }
            }
        }
        reg
    }

    fn insert(&mut self, plugin: Plugin) {
        let id = plugin.info().id.clone();
        if let Some(old) = self.plugins.get(&id) {
            let verb = if *old.source() == PluginSource::Bundled {
                "replaces"
            } else {
                "shadows"
            };
            tracing::info!("plugin {id}: {} {verb} {}", plugin.source(), old.source());
        }
        self.plugins.insert(id, Arc::new(plugin));
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
}

/// `*.wasm` files in `dir`, sorted so that load order does not depend on the
/// file system. A missing directory has none.
fn wasm_files(dir: &Path) -> Vec<PathBuf> {
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
