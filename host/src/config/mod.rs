//! Configuration: the notify.py environment names and a TOML file, turned into
//! channel instances (a plugin plus its settings).

mod env;
mod excerpt;
mod file;
mod from_file;
mod paths;
mod rules;
mod url_hosts;

pub use env::Environment;
pub use file::{ConfigFile, url_channel};
pub use paths::Paths;
pub use rules::{DEFAULT_UPDATE_INTERVAL, Kind, QuietHours, Rules};

use crate::notification::ChannelId;
use crate::plugin::{AllowList, Held, Plugin, PluginInfo, Registry, SettingValue};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// A configured channel: what the hub delivers to.
#[derive(Clone)]
pub struct Channel {
    pub id: ChannelId,
    pub plugin: Arc<Plugin>,
    pub settings: Vec<SettingValue>,
    pub origin: Origin,
    /// Which notifications it gets, and when.
    pub rules: Rules,
}

impl Channel {
    pub fn allow_list(&self) -> AllowList {
        self.plugin.allow_list(&self.settings)
    }

    /// Settings for display: secrets masked.
    pub fn masked_settings(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|s| {
                let v = if s.secret {
                    "***".to_string()
                } else {
                    mcp_push_policy::masks::mask_url_credentials(&s.value)
                };
                (s.key.clone(), v)
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum Origin {
    /// Found through the plugin's environment names.
    Environment,
    /// A `[channels.NAME]` table of this file.
    File(PathBuf),
    /// A one-line URL given on the command line, for that command only.
    CommandLine,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("channel `{channel}`: no plugin `{plugin}` (plugins: {known})")]
    UnknownPlugin {
        channel: String,
        plugin: String,
        known: String,
    },
    #[error(
        "channel `{channel}`: plugin `{plugin}` has no setting `{key}` (its settings: {known})"
    )]
    UnknownSetting {
        channel: String,
        plugin: String,
        key: String,
        known: String,
    },
    #[error("channel `{channel}`: missing required setting `{key}`{hint}")]
    MissingSetting {
        channel: String,
        key: String,
        hint: String,
    },
    #[error("channel `{channel}`: {message}")]
    Invalid { channel: String, message: String },
}

/// Everything the hub needs from configuration.
pub struct Config {
    pub channels: Vec<Channel>,
    /// Titles that are never sent (SKIP_PUSH_TITLE plus the file's `skip_titles`).
    pub skip_titles: Vec<String>,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    /// Channels that are not enabled: their plugin file waits for the
    /// user's approval, or their settings from the environment are invalid;
    /// (channel, why), for listings.
    pub not_enabled: Vec<(String, String)>,
}

impl Config {
    /// Build the channels from the file (if any) and the environment.
    pub async fn load(
        registry: &Registry,
        file: Option<&ConfigFile>,
        env: &Environment,
    ) -> Result<Config, ConfigError> {
        let mut channels = Vec::new();
        let mut not_enabled = Vec::new();
        if let Some(f) = file {
            for (name, table) in &f.channels {
                if let Some(held) = awaiting_approval(registry, table) {
                    let id = &held.plugin.info().id;
                    let why = held.verdict.describe(id);
                    tracing::warn!("channel {name} is not enabled: its plugin is {why}");
                    not_enabled.push((name.clone(), format!("its plugin is {why}")));
                    continue;
                }
                channels.push(f.channel(registry, name, table).await?);
            }
        }
        if file.is_none_or(|f| f.from_env) {
            for (name, why) in env::held_back(registry, env) {
                if channels.iter().any(|c: &Channel| c.id.as_str() == name) {
                    continue;
                }
                tracing::warn!("channel {name} is not enabled: its plugin is {why}");
                not_enabled.push((name, format!("its plugin is {why}")));
            }
            let (from_env, invalid) = env::channels(registry, env);
            not_enabled.extend(invalid);
            for ch in from_env {
                if channels.iter().any(|c: &Channel| c.id == ch.id) {
                    tracing::debug!(
                        "channel {} is defined in the config file; ignoring its environment",
                        ch.id
                    );
                    continue;
                }
                channels.push(ch);
            }
        }
        // Secret settings, and the credentials inside URL settings that are
        // not marked secret (`http://user:pw@host/hook?token=…`).
        crate::redact::register(channels.iter().flat_map(|c| {
            c.settings.iter().flat_map(|s| {
                if s.secret {
                    vec![s.value.clone()]
                } else {
                    mcp_push_policy::masks::url_credentials(&s.value)
                }
            })
        }));
        let mut skip_titles: Vec<String> = env
            .get("SKIP_PUSH_TITLE")
            .map(|v| {
                v.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(f) = file {
            skip_titles.extend(f.skip_titles.iter().cloned());
        }
        Ok(Config {
            channels,
            skip_titles,
            file: file.map(|f| f.path.clone()),
            not_enabled,
        })
    }
}

/// The held-back plugin file a `[channels.NAME]` table would use (by its
/// `plugin`, or by its one-line URL's scheme), when nothing can stand in.
fn awaiting_approval<'r>(registry: &'r Registry, table: &toml::Table) -> Option<&'r Held> {
    if let Some(id) = table.get("plugin").and_then(|v| v.as_str()) {
        return registry
            .get(id)
            .is_none()
            .then(|| registry.held_by_id(id))
            .flatten();
    }
    let scheme = table
        .get("url")
        .and_then(|v| v.as_str())
        .and_then(|u| u.split_once("://"))
        .map(|(s, _)| s.to_ascii_lowercase())?;
    if registry.by_scheme(&scheme).is_some() {
        return None;
    }
    registry
        .held()
        .find(|h| h.plugin.info().schemes.contains(&scheme))
}

/// Apply defaults and check required settings: the last step for both sources.
fn complete(
    channel: &str,
    info: &PluginInfo,
    values: Vec<(String, String)>,
) -> Result<Vec<SettingValue>, ConfigError> {
    let mut values = from_file::read_into(channel, info, values)?;
    let mut out = Vec::new();
    for spec in &info.settings {
        let found = values
            .iter()
            .position(|(k, _)| *k == spec.key)
            .map(|i| values.swap_remove(i).1)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| spec.default.clone());
        match found {
            Some(value) => out.push(SettingValue {
                key: spec.key.clone(),
                value,
                secret: spec.secret,
            }),
            None if spec.required => {
                let hint = match spec.env.first() {
                    Some(e) => format!(" (or the environment variable {e})"),
                    None => String::new(),
                };
                return Err(ConfigError::MissingSetting {
                    channel: channel.to_string(),
                    key: spec.key.clone(),
                    hint,
                });
            }
            None => {}
        }
    }
    check_urls(channel, info, &out)?;
    Ok(out)
}

/// Settings named `url` or `…_url` must be absolute URLs: `127.0.0.1:8090/hook`
/// (no scheme) was sent five times as an outage before it failed.
fn check_urls(
    channel: &str,
    info: &PluginInfo,
    values: &[SettingValue],
) -> Result<(), ConfigError> {
    for s in values {
        if !(s.key == "url" || s.key.ends_with("_url")) {
            continue;
        }
        let env = info
            .setting(&s.key)
            .and_then(|spec| spec.env.first())
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        let problem = match url::Url::parse(s.value.trim()) {
            Ok(u) if u.has_host() => continue,
            Ok(u) => format!("has no host after `{}:`", u.scheme()),
            Err(url::ParseError::RelativeUrlWithoutBase) => "has no scheme".to_string(),
            Err(e) => e.to_string(),
        };
        let shown = if s.secret {
            "its value".to_string()
        } else {
            format!("{:?}", s.value)
        };
        let fix = if s.secret || problem != "has no scheme" {
            "write it as https://host/path".to_string()
        } else {
            format!(
                "write http://{} or https://{}",
                s.value.trim(),
                s.value.trim()
            )
        };
        return Err(ConfigError::Invalid {
            channel: channel.to_string(),
            message: format!("setting `{}`{env}: {shown} {problem}; {fix}", s.key),
        });
    }
    Ok(())
}
