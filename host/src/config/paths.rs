//! Where things live, by the platform's conventions unless told otherwise.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    /// The config file that is read when no `--config`/`MCP_PUSH_CONFIG` is given.
    pub default_config: Option<PathBuf>,
    pub plugins_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    /// The user's record of approved plugin files: in the config dir, apart
    /// from the plugins dir, so that dropping a file in cannot approve it.
    pub trust_file: Option<PathBuf>,
}

impl Paths {
    /// `plugins_dir`: `--plugins-dir`, else `MCP_PUSH_PLUGINS_DIR`, else the data
    /// dir. `cache_dir`: `MCP_PUSH_CACHE_DIR`, else the cache dir.
    pub fn resolve(plugins_dir: Option<&Path>, cache_dir: Option<&Path>) -> Paths {
        let dirs = directories::ProjectDirs::from("", "", "mcp-push");
        Paths {
            default_config: dirs.as_ref().map(|d| d.config_dir().join("config.toml")),
            plugins_dir: plugins_dir
                .map(Path::to_path_buf)
                .or_else(|| dirs.as_ref().map(|d| d.data_dir().join("plugins"))),
            cache_dir: cache_dir
                .map(Path::to_path_buf)
                .or_else(|| dirs.as_ref().map(|d| d.cache_dir().join("components"))),
            trust_file: crate::plugin::trust::default_path(),
        }
    }
}
