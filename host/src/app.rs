//! Everything a process needs before it can deliver: plugins loaded and the
//! configuration applied. The CLI, the MCP server and the HTTP server share it.

use crate::config::{Config, ConfigFile, Environment, Paths};
use crate::hub::{Hub, Route};
use crate::plugin::{Registry, Runtime, RuntimeOptions};
use std::path::PathBuf;

/// Where to look; `None` means the platform default.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub config: Option<PathBuf>,
    pub plugins_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
}

pub struct App {
    pub registry: Registry,
    pub config: Config,
    pub paths: Paths,
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
        let runtime = Runtime::new(RuntimeOptions {
            cache_dir: paths.cache_dir.clone(),
            limits: file.as_ref().map(|f| f.limits).unwrap_or_default(),
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
        })
    }

    pub fn hub(&self) -> Hub {
        Hub::new(
            self.config.channels.clone(),
            Route {
                skip_titles: self.config.skip_titles.clone(),
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
