//! Everything a process needs before it can deliver: plugins loaded and the
//! configuration applied. The CLI, the MCP server and the HTTP server share it.

use crate::config::{Config, ConfigFile, Environment, Paths};
use crate::hub::{Clock, Hub, Route, WorkerOptions, lease_for};
use crate::plugin::{Limits, Registry, Runtime, RuntimeOptions};
use crate::store::{RetryPolicy, SqliteOptions, SqliteStore, Store, resolve_db_path};
use std::path::PathBuf;
use std::sync::Arc;

/// Where to look; `None` means the platform default.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub config: Option<PathBuf>,
    pub plugins_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    /// The event store's file (`--db`, else `MCP_PUSH_DB`, else the platform data dir).
    pub db: Option<PathBuf>,
}

pub struct App {
    pub registry: Registry,
    pub config: Config,
    pub paths: Paths,
    pub limits: Limits,
    pub retry: RetryPolicy,
    db: Option<PathBuf>,
}

impl App {
    /// Errors are sentences meant for the user (with secrets still to be
    /// redacted by whoever prints them).
    pub async fn load(options: &AppOptions) -> Result<App, String> {
        let paths = Paths::resolve(options.plugins_dir.as_deref(), options.cache_dir.as_deref());
        let file = match (&options.config, &paths.default_config) {
            (Some(path), _) => Some(ConfigFile::read(path).map_err(|e| e.to_string())?),
            (None, Some(path)) if path.exists() => {
                Some(ConfigFile::read(path).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        let limits = file.as_ref().map(|f| f.limits).unwrap_or_default();
        let runtime = Runtime::new(RuntimeOptions {
            cache_dir: paths.cache_dir.clone(),
            limits,
        })
        .map_err(|e| format!("cannot start the plugin runtime: {e:#}"))?;
        let registry = Registry::discover(&runtime, paths.plugins_dir.as_deref()).await;
        let config = Config::load(&registry, file.as_ref(), &Environment::from_process())
            .await
            .map_err(|e| e.to_string())?;
        Ok(App {
            registry,
            config,
            paths,
            limits,
            retry: file.as_ref().map(|f| f.retry.clone()).unwrap_or_default(),
            db: options.db.clone(),
        })
    }

    /// Open (and migrate) the event store. Errors say which file and what to do.
    pub fn open_store(&self) -> Result<Arc<dyn Store>, String> {
        let path = resolve_db_path(self.db.clone()).ok_or(
            "no place for the event store: there is no home or data directory; pass --db FILE or set MCP_PUSH_DB",
        )?;
        let options = SqliteOptions {
            retry: self.retry.clone(),
            ..Default::default()
        };
        let store = SqliteStore::open(&path, options)
            .map_err(|e| format!("cannot use the event store: {e}"))?;
        Ok(Arc::new(store))
    }

    pub fn hub(&self, store: Arc<dyn Store>) -> Hub {
        self.hub_with_clock(store, Clock::system())
    }

    pub fn hub_with_clock(&self, store: Arc<dyn Store>, clock: Clock) -> Hub {
        Hub::new(
            self.config.channels.clone(),
            Route {
                skip_titles: self.config.skip_titles.clone(),
            },
            store,
            clock,
            WorkerOptions {
                lease: lease_for(self.limits.deadline),
                ..Default::default()
            },
        )
    }

    /// Where a user should add a channel, for "no channel configured" advice.
    pub fn config_file_hint(&self) -> String {
        self.config
            .file
            .clone()
            .or(self.paths.default_config.clone())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "a config file (--config)".into())
    }
}
