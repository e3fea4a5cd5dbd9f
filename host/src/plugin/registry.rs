//! Discovery: the bundled channels, then every `*.wasm` in the plugins
//! directory, then the user's trust applied: a file with a bundled plugin's
//! id replaces it only once the user approved that, a file asking for more
//! than the user approved waits, and bundled URL schemes stay bundled.
//!
//! Files are loaded in parallel, each describing itself under a short
//! deadline of its own; a file that could not is remembered by its hash, so
//! the next start skips it without waiting again.

use super::bundled::BUNDLED;
use super::error::LoadError;
use super::runtime::{Plugin, Runtime};
use super::trust::{self, TrustFile, Verdict};
use super::types::PluginSource;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bigger than any channel has reason to be (they are tens to hundreds of KiB).
pub const MAX_PLUGIN_BYTES: u64 = 64 << 20;

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
            match rt.load_bundled(b).await {
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
        let files = wasm_files(dir);
        let mut loads = tokio::task::JoinSet::new();
        for (i, path) in files.iter().cloned().enumerate() {
            let rt = rt.clone();
            let before = known.and_then(|k| k.get(&path)).cloned();
            loads.spawn(async move { (i, load_file(&rt, &path, before).await) });
        }
        let mut loaded: Vec<Option<Result<Loaded, LoadError>>> =
            files.iter().map(|_| None).collect();
        while let Some(done) = loads.join_next().await {
            match done {
                Ok((i, outcome)) => loaded[i] = Some(outcome),
                Err(e) => tracing::error!("loading a plugin file failed: {e}"),
            }
        }
        // Inserted in the files' order, so which file shadows which does not
        // depend on which finished first.
        for (path, outcome) in files.into_iter().zip(loaded) {
            match outcome {
                Some(Ok(Loaded::Kept(p))) => self.insert(p),
                Some(Ok(Loaded::New(p))) => {
                    if known.is_some() {
                        tracing::info!(
                            "loaded plugin {} {} from {}",
                            p.info().id,
                            p.info().version,
                            path.display()
                        );
                    }
                    self.insert(p)
                }
                Some(Err(error)) => self.warn(path, error),
                None => {}
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

/// A plugin file, as loaded now.
enum Loaded {
    /// Unchanged since the last look: the same plugin.
    Kept(Arc<Plugin>),
    New(Arc<Plugin>),
}

async fn load_file(
    rt: &Runtime,
    path: &Path,
    before: Option<Arc<Plugin>>,
) -> Result<Loaded, LoadError> {
    let bytes = read_plugin_file(path)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if let Some(p) = before.filter(|p| p.sha256() == sha256) {
        return Ok(Loaded::Kept(p));
    }
    if let Some(why) = rt.remembered_failure(&sha256) {
        tracing::debug!("skipping {}: it failed on an earlier start", path.display());
        return Err(LoadError::Trap(format!(
            "{why} (remembered from an earlier start: the file is not tried again until it changes)"
        )));
    }
    tracing::debug!("calling info() of {}", path.display());
    match rt
        .load(bytes, Some(&sha256), PluginSource::File(path.to_path_buf()))
        .await
    {
        Ok(p) => Ok(Loaded::New(Arc::new(p))),
        Err(LoadError::Trap(why)) => {
            rt.remember_failure(&sha256, &why);
            Err(LoadError::Trap(why))
        }
        Err(e) => Err(e),
    }
}

/// The file's bytes, refused by its size before a byte is read when it is
/// larger than a plugin may be (a 400 MiB junk file was once read whole).
pub(crate) fn read_plugin_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let too_big = |len: u64| {
        LoadError::Invalid(format!(
            "{} MiB is more than the {} MiB a plugin may be",
            len >> 20,
            MAX_PLUGIN_BYTES >> 20
        ))
    };
    let len = std::fs::metadata(path)?.len();
    if len > MAX_PLUGIN_BYTES {
        return Err(too_big(len));
    }
    // The file may grow between the look and the read.
    let mut bytes = Vec::with_capacity(len as usize);
    std::fs::File::open(path)?
        .take(MAX_PLUGIN_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PLUGIN_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
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
