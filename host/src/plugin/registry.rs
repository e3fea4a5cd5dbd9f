//! Discovery: the bundled channels, then every `*.wasm` in the plugins
//! directory, then the user's trust applied: a file with a bundled plugin's
//! id replaces it only once the user approved that, a file asking for more
//! than the user approved waits, and bundled URL schemes stay bundled.

use super::bundled::BUNDLED;
use super::error::LoadError;
use super::runtime::{Plugin, PluginSource, Runtime};
use super::trust::{self, TrustFile, Verdict};
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

/// A plugin file the user has not approved as it is: not used.
pub struct Held {
    pub plugin: Arc<Plugin>,
    pub verdict: Verdict,
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
    /// Plugin files waiting for the user's approval, by id.
    held: BTreeMap<String, Held>,
    /// How each plugin file in use stands with the user, by id.
    verdicts: BTreeMap<String, Verdict>,
    /// The plugin id each one-line URL scheme goes to.
    schemes: BTreeMap<String, String>,
    /// What the user's trust held back or refused, for listings.
    notices: Vec<String>,
}

impl Registry {
    /// [`Registry::discover_with`] the user's record of approved plugins
    /// (read only when there is a plugins directory to look at).
    pub async fn discover(rt: &Runtime, dir: Option<&Path>) -> Registry {
        let trust = match dir {
            Some(_) => TrustFile::load_default(),
            None => TrustFile::default(),
        };
        Registry::discover_with(rt, dir, &trust).await
    }

    pub async fn discover_with(rt: &Runtime, dir: Option<&Path>, trust: &TrustFile) -> Registry {
        let mut reg = Registry::default();
        for b in BUNDLED {
            match rt.load(b.wasm, Some(b.sha256), PluginSource::Bundled).await {
                Ok(p) => reg.insert(Arc::new(p)),
                Err(error) => reg.warn(PathBuf::from(format!("<bundled {}>", b.name)), error),
            }
        }
        reg.load_dir(rt, dir, None).await;
        reg.apply_trust(trust);
        reg
    }

    /// The plugins as the directory holds them now: the bundled ones and the
    /// files whose content did not change are kept as they are (the same
    /// `Arc`), new and changed files are loaded, removed ones dropped.
    /// The user's approvals are read again too.
    pub async fn reload(&self, rt: &Runtime, dir: Option<&Path>) -> Registry {
        let mut reg = Registry::default();
        for p in &self.bundled {
            reg.insert(p.clone());
        }
        reg.load_dir(rt, dir, Some(&self.files)).await;
        reg.apply_trust(&TrustFile::load_default());
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
            tracing::debug!("plugin {id}: {} {verb} {}", plugin.source(), old.source());
        }
        self.plugins.insert(id, plugin);
    }

    /// Hold back the plugin files the user has not approved as they are (a
    /// bundled plugin of the same id takes their place again), then give
    /// each one-line scheme to its plugin.
    fn apply_trust(&mut self, trust: &TrustFile) {
        let files: Vec<Arc<Plugin>> = self
            .plugins
            .values()
            .filter(|p| matches!(p.source(), PluginSource::File(_)))
            .cloned()
            .collect();
        for plugin in files {
            let id = plugin.info().id.clone();
            let bundled = self.bundled.iter().find(|b| b.info().id == id).cloned();
            let verdict = trust::judge(trust, &plugin, bundled.as_deref());
            match &verdict {
                Verdict::Awaiting { diff, .. } => {
                    let what = match diff {
                        Some(d) => format!("asks for what you did not approve ({d})"),
                        None => format!("replaces the bundled `{id}`"),
                    };
                    let instead = if bundled.is_some() {
                        "the bundled one is used instead"
                    } else {
                        "channels that use it are not enabled"
                    };
                    self.notice(format!(
                        "plugin {} ({id} {}) {what}; it is not used until you approve it: \
                         mcp-push plugin trust {id} ({instead})",
                        plugin.source(),
                        plugin.info().version
                    ));
                    match bundled {
                        Some(b) => self.plugins.insert(id.clone(), b),
                        None => self.plugins.remove(&id),
                    };
                    self.held.insert(id, Held { plugin, verdict });
                    continue;
                }
                // Every load says so: a replaced bundled plugin must not go unnoticed.
                Verdict::Approved {
                    replaces_bundled: true,
                } => tracing::warn!(
                    "plugin {} ({id} {}) replaces the bundled `{id}` (you approved it)",
                    plugin.source(),
                    plugin.info().version
                ),
                _ => {}
            }
            self.verdicts.insert(id, verdict);
        }
        self.assign_schemes();
    }

    /// Bundled schemes first and only to the plugin of that id (the bundled
    /// one, or the file the user approved to replace it); a file listing a
    /// bundled scheme under another id does not get it.
    fn assign_schemes(&mut self) {
        let mut schemes = BTreeMap::new();
        let mut bundled_owner = BTreeMap::new();
        for b in &self.bundled {
            for s in &b.info().schemes {
                bundled_owner.insert(s.clone(), b.info().id.clone());
            }
        }
        let mut refused = Vec::new();
        for p in self.plugins.values() {
            let id = &p.info().id;
            for s in &p.info().schemes {
                match bundled_owner.get(s) {
                    Some(owner) if owner != id => refused.push(format!(
                        "plugin {id} ({}) lists the scheme {s}://, which the bundled `{owner}` \
                         owns; {s}:// URLs stay with `{owner}`",
                        p.source()
                    )),
                    _ => {
                        schemes.entry(s.clone()).or_insert_with(|| id.clone());
                    }
                }
            }
        }
        self.schemes = schemes;
        for r in refused {
            self.notice(r);
        }
    }

    fn notice(&mut self, text: String) {
        tracing::warn!("{text}");
        self.notices.push(text);
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
        self.schemes
            .get(&scheme.to_ascii_lowercase())
            .and_then(|id| self.plugins.get(id))
    }

    /// How the plugin file in use under `id` stands with the user (`None`
    /// for a bundled plugin).
    pub fn verdict(&self, id: &str) -> Option<&Verdict> {
        self.verdicts.get(id)
    }

    /// The plugin files waiting for approval, by id.
    pub fn held(&self) -> impl Iterator<Item = &Held> {
        self.held.values()
    }

    pub fn held_by_id(&self, id: &str) -> Option<&Held> {
        self.held.get(id)
    }

    /// Whether the host may read environment variable `name` for `plugin`'s
    /// settings: never mcp-push's own; for a bundled plugin its declared
    /// names; for a plugin file only names the user approved.
    pub fn may_read_env(&self, plugin: &Plugin, name: &str) -> bool {
        if trust::is_own_env(name) {
            return false;
        }
        match plugin.source() {
            PluginSource::Bundled => true,
            PluginSource::File(_) => self
                .verdicts
                .get(&plugin.info().id)
                .is_some_and(Verdict::reads_env),
        }
    }

    /// What the user's trust held back or refused.
    pub fn notices(&self) -> &[String] {
        &self.notices
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
