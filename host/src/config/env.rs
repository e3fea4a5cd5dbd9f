//! Channels that turn themselves on from the environment names users already
//! have (the classic notify.py set).

use super::{Channel, Origin, complete};
use crate::notification::ChannelId;
use crate::plugin::Registry;
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

/// A plugin is a channel when at least one of its names is set and every
/// required setting is found. Named after the plugin.
pub(super) fn channels(registry: &Registry, env: &Environment) -> Vec<Channel> {
    let mut out = Vec::new();
    for plugin in registry.iter() {
        let info = plugin.info();
        let values: Vec<(String, String)> = info
            .settings
            .iter()
            .filter_map(|s| {
                let v = s.env.iter().find_map(|name| env.get(name))?;
                Some((s.key.clone(), v.to_string()))
            })
            .collect();
        if values.is_empty() {
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
            Err(e) => tracing::warn!("{} is not enabled: {e}", info.id),
        }
    }
    out
}
