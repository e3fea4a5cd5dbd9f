//! Channels that turn themselves on from the environment names users already
//! have (the classic notify.py set).
//!
//! The environment is not ambient authority: a plugin gets only the names the
//! user let it read (a bundled plugin its own, a plugin file the ones the user
//! approved), and never mcp-push's own `MCP_PUSH_*`.

use super::{Channel, Origin, complete};
use crate::notification::ChannelId;
use crate::plugin::{Plugin, Registry};
use std::collections::BTreeMap;

/// A snapshot of the process environment (tests pass their own).
#[derive(Debug, Clone, Default)]
pub struct Environment(BTreeMap<String, String>);

impl Environment {
    pub fn from_process() -> Self {
        Environment(
            std::env::vars_os()
                .filter_map(|(k, v)| {
                    Some((k.into_string().ok()?, v.to_string_lossy().into_owned()))
                })
                .collect(),
        )
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Environment(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// A plugin is a channel when at least one of the names it may read is set
/// and every required setting is found. Named after the plugin. Also the
/// ones whose settings are set but invalid, with why (they are not enabled).
pub(super) fn channels(
    registry: &Registry,
    env: &Environment,
) -> (Vec<Channel>, Vec<(String, String)>) {
    let mut out = Vec::new();
    let mut invalid = Vec::new();
    for plugin in registry.iter() {
        let info = plugin.info();
        let values: Vec<(String, String)> = info
            .settings
            .iter()
            .filter_map(|s| {
                let readable = || {
                    s.env
                        .iter()
                        .filter(|name| registry.may_read_env(plugin, name))
                };
                if let Some(v) = readable().find_map(|name| env.get(name)) {
                    return Some((s.key.clone(), v.to_string()));
                }
                // A secret's value from a file: `FCM_KEY_FILE` for `FCM_KEY`
                // (see `from_file`), for bundled channels only: a plugin
                // file approved to read `X` was not approved to read the file
                // an unrelated `X_FILE` names (`AWS_WEB_IDENTITY_TOKEN_FILE`).
                let bundled = matches!(plugin.source(), crate::plugin::PluginSource::Bundled);
                let path = readable()
                    .filter(|_| s.secret && bundled)
                    .find_map(|name| env.get(&format!("{name}_FILE")))?;
                Some((super::from_file::key_for(s), path.to_string()))
            })
            .collect();
        let refused = refused_names(registry, plugin, env);
        if !refused.is_empty() {
            tracing::warn!(
                "plugin {} ({}) is not given {}: {}",
                info.id,
                plugin.source(),
                refused.join(", "),
                if refused.iter().all(|n| crate::plugin::trust::is_own_env(n)) {
                    "mcp-push's own variables are never given to a plugin".to_string()
                } else {
                    format!(
                        "a plugin file reads the environment only once you approve it: mcp-push plugin trust {}",
                        info.id
                    )
                }
            );
        }
        if values.is_empty() {
            continue;
        }
        // notify.py's switches (`CONSOLE=false`): a channel whose only word
        // from the environment is "off" stays off.
        if values.iter().all(|(_, v)| reads_off(v)) {
            tracing::debug!("{} is off: its environment says so", info.id);
            continue;
        }
        let Ok(id) = ChannelId::new(&info.id) else {
            continue;
        };
        match complete(&info.id, info, values) {
            Ok(settings) => out.push(Channel {
                id,
                plugin: plugin.clone(),
                settings,
                origin: Origin::Environment,
                rules: Default::default(),
            }),
            Err(e) => {
                tracing::warn!("{} is not enabled: {e}", info.id);
                invalid.push((info.id.clone(), e.to_string()));
            }
        }
    }
    (out, invalid)
}

/// notify.py's false values, in any case (an empty value is unset already).
fn reads_off(value: &str) -> bool {
    ["false", "0", "no", "off"]
        .iter()
        .any(|off| value.trim().eq_ignore_ascii_case(off))
}

/// The names `plugin` declares that are set here but that it may not read.
fn refused_names(registry: &Registry, plugin: &Plugin, env: &Environment) -> Vec<String> {
    plugin
        .info()
        .settings
        .iter()
        .flat_map(|s| s.env.iter())
        .filter(|name| env.get(name).is_some() && !registry.may_read_env(plugin, name))
        .cloned()
        .collect()
}

/// Plugin files held back for approval whose environment names are set:
/// the channels they would have made, and why they are not there.
pub(super) fn held_back(registry: &Registry, env: &Environment) -> Vec<(String, String)> {
    registry
        .held()
        .filter(|h| registry.get(&h.plugin.info().id).is_none())
        .filter(|h| {
            h.plugin
                .info()
                .settings
                .iter()
                .flat_map(|s| s.env.iter())
                .any(|name| env.get(name).is_some())
        })
        .map(|h| {
            let id = &h.plugin.info().id;
            (id.clone(), h.verdict.describe(id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::reads_off;

    #[test]
    fn notify_py_off_values() {
        for v in ["false", "FALSE", "0", "no", "Off", " off "] {
            assert!(reads_off(v), "{v:?}");
        }
        for v in ["true", "1", "yes", "https://example.com/hook", "00"] {
            assert!(!reads_off(v), "{v:?}");
        }
    }
}
