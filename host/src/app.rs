//! Everything a process needs before it can deliver: plugins loaded and the
//! configuration applied. The CLI, the MCP server and the HTTP server share it.
//!
//! A long-running server reloads it when the plugins directory changes
//! ([`App::reload`]): the registry and the channels built from it are swapped
//! whole, so a send under way keeps the plugins it started with.

use crate::config::{Config, ConfigFile, Environment, Paths};
use crate::hub::{Clock, Hub, Live, PluginAction, Route, WorkerOptions, lease_for};
use crate::plugin::{Compiler, Limits, Registry, Runtime, RuntimeOptions};
use crate::store::{
    BRIEF_CHECKPOINT_PAGES, CHECKPOINT_PAGES, Location, PgOptions, PgStore, Retention, RetryPolicy,
    SqliteOptions, SqliteStore, Store, UnixMillis,
};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// How long sends in flight at shutdown may still take: enough for one
/// waiting on a slow answer (a reply 1.5 s away must still be recorded, or
/// the next start sends it twice), far less than a looping plugin's 15 s.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Where to look; `None` means the platform default.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub config: Option<PathBuf>,
    pub plugins_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    /// The event store: a SQLite file or a `postgres://` URL (`--db`, else
    /// `MCP_PUSH_DB`, else the platform data dir's file).
    pub db: Option<PathBuf>,
    /// How plugins not yet compiled are compiled: optimized for a server,
    /// quickly for a command that sends once.
    pub compiler: Compiler,
}

/// The plugins found and the channels configured from them, at one moment.
pub struct Loaded {
    pub registry: Registry,
    pub config: Config,
}

pub struct App {
    loaded: RwLock<Arc<Loaded>>,
    pub paths: Paths,
    pub limits: Limits,
    pub retry: RetryPolicy,
    /// `[store]` keep_days / keep_events, applied by `serve` and `mcp`.
    pub retention: Retention,
    /// The watchers' limits and reach (the config file's `[watchers]`).
    pub watch: crate::watch::WatchSettings,
    /// The file's `[watchers.NAME]` tables, which `serve` and `mcp` make
    /// the store's file watchers at start ([`App::sync_watchers`]).
    pub file_watchers: Vec<serde_json::Value>,
    options: AppOptions,
    runtime: Runtime,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl App {
    /// Errors are sentences meant for the user (with secrets still to be
    /// redacted by whoever prints them).
    pub async fn load(options: &AppOptions) -> Result<App, String> {
        let paths = Paths::resolve(options.plugins_dir.as_deref(), options.cache_dir.as_deref());
        let file = read_config_file(options, &paths)?;
        let limits = file.as_ref().map(|f| f.limits).unwrap_or_default();
        let runtime = Runtime::new(RuntimeOptions {
            cache_dir: paths.cache_dir.clone(),
            limits,
            compiler: options.compiler,
        })
        .map_err(|e| format!("cannot start the plugin runtime: {e:#}"))?;
        let registry = Registry::discover(&runtime, paths.plugins_dir.as_deref()).await;
        let config = Config::load(&registry, file.as_ref(), &Environment::from_process())
            .await
            .map_err(|e| e.to_string())?;
        Ok(App {
            loaded: RwLock::new(Arc::new(Loaded { registry, config })),
            paths,
            limits,
            retry: file.as_ref().map(|f| f.retry.clone()).unwrap_or_default(),
            retention: file.as_ref().map(|f| f.retention).unwrap_or_default(),
            watch: file.as_ref().map(|f| f.watch.clone()).unwrap_or_default(),
            file_watchers: file
                .as_ref()
                .map(|f| f.watchers.clone())
                .unwrap_or_default(),
            options: options.clone(),
            runtime,
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The plugins and channels as they are now.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Look at the plugins directory again (unchanged files are kept as they
    /// are, new or changed ones loaded, removed ones dropped) and rebuild the
    /// channels from the same config file and environment. When the
    /// configuration no longer loads (it names a plugin that was removed,
    /// say), nothing changes and the error says why.
    pub async fn reload(&self) -> Result<Arc<Loaded>, String> {
        let _one = self.reloading.lock().await;
        let old = self.loaded();
        let registry = old
            .registry
            .reload(&self.runtime, self.paths.plugins_dir.as_deref())
            .await;
        let file = read_config_file(&self.options, &self.paths)?;
        let config = Config::load(&registry, file.as_ref(), &Environment::from_process())
            .await
            .map_err(|e| e.to_string())?;
        let new = Arc::new(Loaded { registry, config });
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = new.clone();
        Ok(new)
    }

    /// [`App::reload`], then hand the new channels to `hub`, and log what
    /// changed (or why nothing did).
    pub async fn reload_into(&self, hub: &Hub) {
        let before = self.loaded();
        match self.reload().await {
            Ok(now) => {
                hub.set_channels(now.config.channels.clone());
                for msg in plugin_changes(&before.registry, &now.registry) {
                    hub.publish(msg);
                }
                tracing::info!(
                    "plugins reloaded: {}; {} channel{}",
                    describe_changes(&before.registry, &now.registry),
                    now.config.channels.len(),
                    if now.config.channels.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                );
            }
            Err(e) => {
                let e = crate::redact::redact(&e);
                tracing::warn!(
                    "the plugins directory changed but the configuration does not load with it: {e}; \
                     keeping the previous plugins and channels until it does"
                );
                hub.publish(Live::Plugin {
                    action: PluginAction::Failed,
                    plugin: String::new(),
                    version: None,
                    detail: Some(e),
                    at: UnixMillis::now(),
                });
            }
        }
    }

    /// Open (and migrate) the event store for a process that runs a while
    /// (`serve`, `mcp`). Errors say which file and what to do.
    pub fn open_store(&self) -> Result<Arc<dyn Store>, String> {
        open_store_at(
            self.options.db.clone(),
            self.retry.clone(),
            CHECKPOINT_PAGES,
        )
    }

    /// [`App::open_store`] for a command that writes a few rows and exits
    /// (`send`, `event`, a hook): it keeps the WAL it leaves behind small,
    /// because the next such command reads all of it when it opens.
    pub fn open_store_brief(&self) -> Result<Arc<dyn Store>, String> {
        open_store_at(
            self.options.db.clone(),
            self.retry.clone(),
            BRIEF_CHECKPOINT_PAGES,
        )
    }

    /// The event store alone, for commands that only read it or change rows
    /// (no plugin is loaded: that is most of a start-up's cost).
    pub fn store_only(options: &AppOptions) -> Result<Arc<dyn Store>, String> {
        let paths = Paths::resolve(options.plugins_dir.as_deref(), options.cache_dir.as_deref());
        let retry = read_config_file(options, &paths)?
            .map(|f| f.retry)
            .unwrap_or_default();
        open_store_at(options.db.clone(), retry, BRIEF_CHECKPOINT_PAGES)
    }

    /// The `[store]` retention of the config file (the default without one).
    pub fn retention_only(options: &AppOptions) -> Result<Retention, String> {
        let paths = Paths::resolve(options.plugins_dir.as_deref(), options.cache_dir.as_deref());
        Ok(read_config_file(options, &paths)?
            .map(|f| f.retention)
            .unwrap_or_default())
    }

    pub fn hub(&self, store: Arc<dyn Store>) -> Hub {
        self.hub_with_clock(store, Clock::system())
    }

    pub fn hub_with_clock(&self, store: Arc<dyn Store>, clock: Clock) -> Hub {
        let loaded = self.loaded();
        let hub = Hub::new(
            loaded.config.channels.clone(),
            Route {
                skip_titles: loaded.config.skip_titles.clone(),
            },
            store,
            clock,
            WorkerOptions {
                lease: lease_for(self.limits.deadline),
                ..Default::default()
            },
        );
        hub.replies().set_base(reply_base());
        // Hubs sharing a PostgreSQL store wake each other and share their
        // live news over it (a one-shot command outside a runtime needs neither).
        match (
            Location::resolve(self.options.db.clone()),
            tokio::runtime::Handle::try_current(),
        ) {
            (Some(Location::Postgres(url)), Ok(_)) => match url.parse() {
                Ok(config) => {
                    let signals = crate::hub::pg_signals::PgSignals::start(config);
                    hub.with_signals(signals.wakeup, signals.live)
                }
                Err(_) => hub,
            },
            _ => hub,
        }
    }

    /// Start the watchers' task (`serve`, `mcp`) and make the store's file
    /// watchers the config file's `[watchers.NAME]` tables. A table the
    /// store refuses (an unknown channel, a name the tools already use)
    /// stops the start: the error names the table and the field.
    pub async fn start_watchers(
        &self,
        hub: &Arc<Hub>,
    ) -> Result<Option<crate::watch::Watching>, String> {
        let Some(watching) = crate::watch::start(hub, &self.watch) else {
            return Ok(None);
        };
        let file = self
            .options
            .config
            .clone()
            .or(self.paths.default_config.clone())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let synced = crate::ops::watchers::sync_file(&watching.runner, self.file_watchers.clone())
            .await
            .map_err(|e| format!("config file {file}: {e}"))?;
        if synced != Default::default() {
            tracing::info!(
                created = ?synced.created,
                updated = ?synced.updated,
                removed = ?synced.removed,
                "watchers from the config file"
            );
        }
        Ok(Some(watching))
    }

    /// The process is stopping: plugin calls still running `grace` from now
    /// are cut (their deliveries stay pending, no attempt counted), so that a
    /// looping plugin cannot hold the exit for the rest of its deadline.
    pub fn cut_plugin_calls(&self, grace: std::time::Duration) {
        self.runtime.cut_calls(grace);
    }

    /// Where a user should add a channel, for "no channel configured" advice.
    pub fn config_file_hint(&self) -> String {
        self.loaded()
            .config
            .file
            .clone()
            .or(self.paths.default_config.clone())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "a config file (--config)".into())
    }
}

/// Hot load: reload the plugins whenever the plugins directory changes, and
/// hand `hub` the channels built from them. Stops when dropped.
pub fn watch_plugins(app: &Arc<App>, hub: &Arc<Hub>) -> Option<crate::plugin::PluginsDirWatcher> {
    let dir = app.paths.plugins_dir.clone()?;
    let (app, hub) = (app.clone(), hub.clone());
    Some(crate::plugin::watch_plugins_dir(dir, move || {
        let (app, hub) = (app.clone(), hub.clone());
        async move { app.reload_into(&hub).await }
    }))
}

fn open_store_at(
    db: Option<PathBuf>,
    retry: RetryPolicy,
    checkpoint_pages: u32,
) -> Result<Arc<dyn Store>, String> {
    let at = Location::resolve(db).ok_or(
        "no place for the event store: there is no home or data directory; pass --db FILE or set MCP_PUSH_DB",
    )?;
    let store: Arc<dyn Store> = match at {
        Location::Sqlite(path) => {
            let options = SqliteOptions {
                retry,
                checkpoint_pages,
                ..Default::default()
            };
            Arc::new(
                SqliteStore::open(&path, options)
                    .map_err(|e| format!("cannot use the event store: {e}"))?,
            )
        }
        // The error names the server with its password masked.
        Location::Postgres(url) => Arc::new(
            PgStore::open(
                &url,
                PgOptions {
                    retry,
                    ..Default::default()
                },
            )
            .map_err(|e| format!("cannot use the event store: {e}"))?,
        ),
    };
    Ok(store)
}

/// `--config`, else the default file when it exists, else none.
fn read_config_file(options: &AppOptions, paths: &Paths) -> Result<Option<ConfigFile>, String> {
    match (&options.config, &paths.default_config) {
        (Some(path), _) => Ok(Some(ConfigFile::read(path).map_err(|e| e.to_string())?)),
        (None, Some(path)) if path.exists() => {
            Ok(Some(ConfigFile::read(path).map_err(|e| e.to_string())?))
        }
        _ => Ok(None),
    }
}

/// What changed between two loads, as live stream messages.
fn plugin_changes(before: &Registry, now: &Registry) -> Vec<Live> {
    let at = UnixMillis::now();
    let msg = |action, plugin: &str, version: Option<&str>, detail: Option<String>| Live::Plugin {
        action,
        plugin: plugin.to_string(),
        version: version.map(String::from),
        detail,
        at,
    };
    let mut out = Vec::new();
    for p in now.iter() {
        let i = p.info();
        match before.get(&i.id) {
            None => out.push(msg(
                PluginAction::Loaded,
                &i.id,
                Some(&i.version),
                Some(p.source().to_string()),
            )),
            Some(old) if old.sha256() != p.sha256() => out.push(msg(
                PluginAction::Replaced,
                &i.id,
                Some(&i.version),
                Some(format!("was {}", old.info().version)),
            )),
            Some(_) => {}
        }
    }
    for p in before.iter() {
        if now.get(&p.info().id).is_none() {
            out.push(msg(PluginAction::Removed, &p.info().id, None, None));
        }
    }
    let old: Vec<String> = before.warnings().iter().map(|w| w.to_string()).collect();
    for w in now.warnings() {
        let text = w.to_string();
        if !old.contains(&text) {
            let name = w
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(msg(
                PluginAction::Failed,
                &name,
                None,
                Some(crate::redact::redact(&text)),
            ));
        }
    }
    out
}

/// `added x 1.0; replaced y 1.0 -> 1.1; removed z`, or `no change`.
fn describe_changes(before: &Registry, now: &Registry) -> String {
    let mut parts = Vec::new();
    for p in now.iter() {
        let i = p.info();
        match before.get(&i.id) {
            None => parts.push(format!("added {} {}", i.id, i.version)),
            Some(old) if old.sha256() != p.sha256() => parts.push(format!(
                "replaced {} {} with {} ({})",
                i.id,
                old.info().version,
                i.version,
                p.source()
            )),
            Some(_) => {}
        }
    }
    for p in before.iter() {
        if now.get(&p.info().id).is_none() {
            parts.push(format!("removed {}", p.info().id));
        }
    }
    for w in now.warnings() {
        parts.push(w.to_string());
    }
    if parts.is_empty() {
        "no change".into()
    } else {
        parts.join("; ")
    }
}

/// `MCP_PUSH_REPLY_URL`: where the reply links in questions point (a
/// `serve` on this store that the person answering can reach). A value that
/// is not an http(s) URL is ignored, and said so.
pub fn reply_base() -> Option<String> {
    let value = std::env::var("MCP_PUSH_REPLY_URL").ok()?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Some(value.trim_end_matches('/').to_string())
        }
        _ => {
            tracing::warn!(
                "MCP_PUSH_REPLY_URL={value:?} is not an http(s) URL such as \
                 https://push.example.org; questions go without a reply link"
            );
            None
        }
    }
}
