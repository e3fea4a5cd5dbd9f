//! What is installed and configured, described for people and agents: the
//! plugins found, the channels configured (secrets masked), and what each
//! unconfigured plugin would need. `mcp-push channels --json`, the MCP
//! `list_channels` tool and the `push://channels` resource all show this.

use crate::app::App;
use crate::config::Origin;
use crate::plugin::{HostPattern, PluginSource, SettingSpec};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Serialize)]
pub struct Catalog {
    /// Channel instances the hub delivers to.
    pub channels: Vec<ChannelEntry>,
    /// Plugins no channel uses yet, and the environment names that turn each on.
    pub available: Vec<AvailableEntry>,
    pub plugins: Vec<PluginEntry>,
    pub warnings: Vec<String>,
    pub plugins_dir: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct ChannelEntry {
    pub name: String,
    pub plugin: String,
    pub version: String,
    pub origin: Origin,
    pub allowed_hosts: Vec<String>,
    pub can_edit: bool,
    /// Its recipients can answer questions in the chat (buttons).
    pub can_reply: bool,
    /// Values as found, secrets shown as `***`.
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct AvailableEntry {
    pub plugin: String,
    pub version: String,
    pub description: String,
    /// Set all of these to enable the plugin from the environment.
    pub env_required: Vec<String>,
    pub env_optional: Vec<String>,
    /// One-line URL schemes for the config file's `url = ...`.
    pub schemes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PluginEntry {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub source: PluginSource,
    pub size: usize,
    pub sha256: String,
    pub allowed_hosts: Vec<HostPattern>,
    pub schemes: Vec<String>,
    pub can_edit: bool,
    /// It exports `replies`: its recipients can answer in the chat.
    pub can_reply: bool,
    pub formats: Vec<String>,
    pub settings: Vec<SettingSpec>,
}

impl Catalog {
    pub fn of(app: &App) -> Catalog {
        let loaded = app.loaded();
        let (registry, config) = (&loaded.registry, &loaded.config);
        let channels = config
            .channels
            .iter()
            .map(|c| {
                let info = c.plugin.info();
                ChannelEntry {
                    name: c.id.to_string(),
                    plugin: info.id.clone(),
                    version: info.version.clone(),
                    origin: c.origin.clone(),
                    allowed_hosts: c.allow_list().describe(),
                    can_edit: info.can_edit,
                    can_reply: info.can_reply,
                    settings: c.masked_settings().into_iter().collect(),
                }
            })
            .collect();
        let used = |id: &str| config.channels.iter().any(|c| c.plugin.info().id == id);
        let available = registry
            .iter()
            .filter(|p| !used(&p.info().id))
            .map(|p| {
                let i = p.info();
                // The first environment name of each setting is the one to set.
                let first_env = |required: bool| {
                    i.settings
                        .iter()
                        .filter(|s| s.required == required)
                        .filter_map(|s| s.env.first().cloned())
                        .collect()
                };
                AvailableEntry {
                    plugin: i.id.clone(),
                    version: i.version.clone(),
                    description: i.description.clone(),
                    env_required: first_env(true),
                    env_optional: first_env(false),
                    schemes: i.schemes.clone(),
                }
            })
            .collect();
        let plugins = registry
            .iter()
            .map(|p| {
                let i = p.info();
                PluginEntry {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    version: i.version.clone(),
                    description: i.description.clone(),
                    source: p.source().clone(),
                    size: p.size(),
                    sha256: p.sha256().to_string(),
                    allowed_hosts: i.allowed_hosts.clone(),
                    schemes: i.schemes.clone(),
                    can_edit: i.can_edit,
                    can_reply: i.can_reply,
                    formats: i.formats.clone(),
                    settings: i.settings.clone(),
                }
            })
            .collect();
        Catalog {
            channels,
            available,
            plugins,
            warnings: registry.warnings().iter().map(|w| w.to_string()).collect(),
            plugins_dir: app.paths.plugins_dir.clone(),
            config_file: config.file.clone(),
        }
    }

    /// Pretty JSON with every secret value redacted (belt and braces: the
    /// settings are masked already).
    pub fn to_json(&self) -> String {
        // Value by value, so that a short secret does not mask a key's name.
        let value = crate::redact::redact_json(serde_json::to_value(self).unwrap_or_default());
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}
