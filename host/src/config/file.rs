//! The TOML file: named channel instances and a few global switches.
//!
//! ```toml
//! from_env = true                  # also read the notify.py environment names
//! skip_titles = ["noisy job"]      # never sent, like SKIP_PUSH_TITLE
//!
//! [sandbox]                        # per-send limits of every plugin (defaults shown)
//! timeout_secs = 15
//! memory_mib = 32
//! memory_budget_mib = 512          # all sends at once, process-wide
//! max_requests = 8
//! max_response_kib = 1024
//!
//! [retry]                          # failed sends (unavailable, timeout) are tried again
//! max_attempts = 5                 # then the delivery fails (see `mcp-push deliveries --failed`)
//! base_delay_secs = 5              # the first wait; each next one is 3 times longer (+-20 %)
//!
//! [channels.ops]                   # a plugin plus settings
//! plugin = "webhook"
//! url = "https://hooks.example.com/ops"
//! headers = ["Authorization: Bearer abc"]
//!
//! [channels.team]                  # a one-line URL, handed to the plugin's parse-url
//! url = "jsons://hooks.example.com/team"
//! events = ["start", "end", "error"] # routing rules: see config/rules.rs
//!
//! [watchers]                       # what watchers may do (defaults shown; see watch/model.rs)
//! max = 100                        # watchers at most, file and tools together
//! min_interval = "1m"              # the shortest time between two checks of one watcher
//! timeout = "30s"                  # one check's fetches in all
//! max_body = 1048576               # bytes of a response a check reads
//! fail_after = 5                   # failed checks in a row before "watcher failing"
//! allow_private = false            # loopback, private and link-local addresses
//! allow_hosts = ["localhost"]      # these hosts even when they resolve to one
//!
//! [watchers.standup]               # a watcher the file owns: the tools show it, never delete it
//! kind = "schedule"
//! schedule = "weekdays 09:00"
//! title = "Stand-up"
//! ```

use super::{Channel, ConfigError, Origin, Rules, complete};
use crate::notification::ChannelId;
use crate::plugin::{Limits, Registry, SettingValue};
use crate::store::{Retention, RetryPolicy};
use crate::watch::WatchSettings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub from_env: bool,
    pub skip_titles: Vec<String>,
    pub limits: Limits,
    pub retry: RetryPolicy,
    pub retention: Retention,
    pub channels: BTreeMap<String, toml::Table>,
    /// `[watchers]`: the watchers' limits and reach.
    pub watch: WatchSettings,
    /// The `[watchers.NAME]` tables, as specs for `ops::watchers::sync_file`.
    pub watchers: Vec<serde_json::Value>,
}

/// `[store]`: how long what is done is kept.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    keep_days: Option<u32>,
    keep_events: Option<u64>,
}

impl StoreSection {
    fn retention(&self) -> Result<Retention, String> {
        let mut r = Retention::default();
        if let Some(d) = self.keep_days {
            if d > 36_500 {
                return Err(format!(
                    "store.keep_days must be between 0 (keep forever) and 36500, not {d}"
                ));
            }
            r.keep_days = (d > 0).then_some(d);
        }
        if let Some(n) = self.keep_events {
            if n == 0 {
                return Err(
                    "store.keep_events must be at least 1 (leave it out to keep \
                            every event within keep_days)"
                        .into(),
                );
            }
            r.keep_events = Some(n);
        }
        Ok(r)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Retry {
    max_attempts: Option<u32>,
    base_delay_secs: Option<f64>,
}

impl Retry {
    fn policy(&self) -> Result<RetryPolicy, String> {
        let mut p = RetryPolicy::default();
        if let Some(n) = self.max_attempts {
            if !(1..=100).contains(&n) {
                return Err(format!(
                    "retry.max_attempts must be between 1 and 100, not {n}"
                ));
            }
            p.max_attempts = n;
        }
        if let Some(s) = self.base_delay_secs {
            if !(0.01..=86_400.0).contains(&s) {
                return Err(format!(
                    "retry.base_delay_secs must be between 0.01 and 86400, not {s}"
                ));
            }
            p.base_delay = std::time::Duration::from_secs_f64(s);
        }
        Ok(p)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Sandbox {
    timeout_secs: Option<f64>,
    memory_mib: Option<u32>,
    memory_budget_mib: Option<u32>,
    max_requests: Option<u32>,
    max_response_kib: Option<u32>,
}

impl Sandbox {
    fn limits(&self) -> Result<Limits, String> {
        let mut l = Limits::default();
        if let Some(t) = self.timeout_secs {
            if !(0.01..=3600.0).contains(&t) {
                return Err(format!(
                    "sandbox.timeout_secs must be between 0.01 and 3600, not {t}"
                ));
            }
            l.deadline = std::time::Duration::from_secs_f64(t);
        }
        if let Some(m) = self.memory_mib {
            if !(1..=4096).contains(&m) {
                return Err(format!(
                    "sandbox.memory_mib must be between 1 and 4096, not {m}"
                ));
            }
            l.memory_bytes = (m as usize) << 20;
        }
        if let Some(m) = self.memory_budget_mib {
            let per_send = l.memory_bytes >> 20;
            if !(per_send..=1 << 20).contains(&(m as usize)) {
                return Err(format!(
                    "sandbox.memory_budget_mib must be between sandbox.memory_mib ({per_send}) \
                     and 1048576, not {m}: it is what all sends at once may hold"
                ));
            }
            l.memory_budget_bytes = (m as usize) << 20;
        } else {
            // At least one send at its own cap.
            l.memory_budget_bytes = l.memory_budget_bytes.max(l.memory_bytes);
        }
        if let Some(n) = self.max_requests {
            l.max_fetches = n;
        }
        if let Some(k) = self.max_response_kib {
            l.max_response_bytes = (k as usize) << 10;
        }
        Ok(l)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "yes")]
    from_env: bool,
    #[serde(default)]
    skip_titles: Vec<String>,
    #[serde(default)]
    sandbox: Sandbox,
    #[serde(default)]
    retry: Retry,
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    channels: BTreeMap<String, toml::Table>,
    watchers: Option<toml::Table>,
}

fn yes() -> bool {
    true
}

impl ConfigFile {
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: super::excerpt::parse_error(text, &e),
        })?;
        let limits = raw.sandbox.limits().map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        let retry = raw.retry.policy().map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        let retention = raw
            .store
            .retention()
            .map_err(|message| ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            })?;
        let (watch, watchers) = match raw.watchers {
            None => (WatchSettings::default(), Vec::new()),
            Some(table) => {
                let table = serde_json::to_value(table).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!("[watchers]: {e}"),
                })?;
                WatchSettings::from_config(table).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!(
                        "`{}`{}: {}",
                        e.field,
                        line_of(text, &e.field)
                            .map(|n| format!(" (line {n})"))
                            .unwrap_or_default(),
                        e.message
                    ),
                })?
            }
        };
        Ok(ConfigFile {
            path: path.to_path_buf(),
            from_env: raw.from_env,
            limits,
            retry,
            retention,
            skip_titles: raw.skip_titles,
            channels: raw.channels,
            watch,
            watchers,
        })
    }

    pub(super) async fn channel(
        &self,
        registry: &Registry,
        name: &str,
        table: &toml::Table,
    ) -> Result<Channel, ConfigError> {
        channel(registry, name, table, Origin::File(self.path.clone())).await
    }
}

/// The line a dotted field (`watchers.news.every`) is written on: its key
/// inside its table's section, else the section's header. A best guess from
/// the text (the TOML parser keeps no spans once the file is read), so a
/// field given as an inline table is found by its header only.
fn line_of(text: &str, field: &str) -> Option<usize> {
    let parts: Vec<&str> = field.split('.').collect();
    // The longest prefix that is a section header, and the key after it.
    for cut in (1..=parts.len()).rev() {
        let header = format!("[{}]", parts[..cut].join("."));
        let Some(start) = text
            .lines()
            .position(|l| l.split('#').next().unwrap_or("").trim() == header)
        else {
            continue;
        };
        let Some(key) = parts.get(cut) else {
            return Some(start + 1);
        };
        let found = text
            .lines()
            .enumerate()
            .skip(start + 1)
            .take_while(|(_, l)| !l.trim_start().starts_with('['))
            .find(|(_, l)| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            });
        return Some(found.map_or(start, |(i, _)| i) + 1);
    }
    None
}

/// A channel from a one-line URL given on the command line (`send -t T -b B
/// json://host/path`, as with apprise): what `[channels.NAME] url = "..."`
/// makes, named NAME.
pub async fn url_channel(
    registry: &Registry,
    name: &str,
    url: &str,
) -> Result<Channel, ConfigError> {
    let mut table = toml::Table::new();
    table.insert("url".into(), toml::Value::String(url.into()));
    channel(registry, name, &table, Origin::CommandLine).await
}

/// A `[channels.NAME]` table (or a one-line URL as one) made a channel.
async fn channel(
    registry: &Registry,
    name: &str,
    table: &toml::Table,
    origin: Origin,
) -> Result<Channel, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        channel: name.to_string(),
        message,
    };
    let id = ChannelId::new(name).map_err(invalid)?;
    let mut table = table.clone();
    let rules = Rules::take_from(&mut table).map_err(invalid)?;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &table {
        values.insert(
            k.clone(),
            value_text(v).map_err(|m| invalid(format!("`{k}`: {m}")))?,
        );
    }
    let url = values.get("url").cloned();
    let scheme = url
        .as_deref()
        .and_then(|u| u.split_once("://"))
        .map(|(s, _)| s.to_ascii_lowercase());

    let plugin = match values.remove("plugin") {
        Some(p) => registry
            .get(&p)
            .cloned()
            .ok_or_else(|| ConfigError::UnknownPlugin {
                channel: name.into(),
                plugin: p.clone(),
                known: registry.ids().join(", "),
            })?,
        None => {
            let Some(scheme) = &scheme else {
                return Err(invalid(
                    "say which plugin it uses (`plugin = \"webhook\"`) or give a one-line `url = \"json://host/path\"`".into(),
                ));
            };
            registry.by_scheme(scheme).cloned().ok_or_else(|| {
                let known: Vec<String> = registry.iter().flat_map(|p| p.info().schemes.clone()).collect();
                invalid(format!(
                    "no plugin handles {scheme}:// URLs (schemes: {}); or name the plugin with `plugin = \"...\"`",
                    known.join(", ")
                ))
            })?
        }
    };
    let info = plugin.info();

    // A `url` in one of the plugin's own schemes is a one-line URL; any
    // other `url` (https://...) is an ordinary setting.
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut proxy = None;
    if let (Some(url), Some(scheme)) = (&url, &scheme)
        && info.schemes.contains(scheme)
    {
        values.remove("url");
        let parsed = plugin
            .parse_url(url)
            .await
            .map_err(|m| invalid(format!("url: {m}")))?;
        // `parse_url` runs in the plugin: a secret's file it returned is a
        // path the plugin chose, which the host would read and the plugin
        // send to its allowed host. A bundled channel's URL is ours (FCM's
        // `?keyfile=` is the path the user wrote); a plugin file's is not.
        if !matches!(plugin.source(), crate::plugin::PluginSource::Bundled)
            && let Some((key, _)) = parsed
                .iter()
                .find(|(k, _)| super::from_file::names_a_file(info, k))
        {
            return Err(invalid(format!(
                "url: plugin file `{}` asked the host to read a file (`{key}`), which only you \
                 may name: set `{key} = \"/path\"` in the channel's table instead",
                info.id
            )));
        }
        if !matches!(plugin.source(), crate::plugin::PluginSource::Bundled) {
            super::url_hosts::check(&plugin, url, &parsed)
                .map_err(|m| invalid(format!("url: {m}")))?;
        }
        settings.extend(parsed);
    }
    for (key, value) in values {
        // Any channel may go through a proxy (see `plugin::proxy`); it
        // may hold credentials, so it is kept as a secret.
        if key == crate::plugin::proxy::PROXY && info.setting(&key).is_none() {
            proxy = Some(value);
            continue;
        }
        // A secret setting's value from a file (`key_file = "/path"`).
        if let Some(spec) = super::from_file::setting_of(info, &key) {
            let key = super::from_file::key_for(spec);
            settings.retain(|(k, _)| *k != key && *k != spec.key);
            settings.push((key, value));
            continue;
        }
        let spec = info
            .settings
            .iter()
            .find(|s| s.key == key || s.env.contains(&key))
            .ok_or_else(|| ConfigError::UnknownSetting {
                channel: name.into(),
                plugin: info.id.clone(),
                key: key.clone(),
                known: info
                    .settings
                    .iter()
                    .map(|s| s.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let file_key = super::from_file::key_for(spec);
        settings.retain(|(k, _)| *k != spec.key && *k != file_key);
        settings.push((spec.key.clone(), value));
    }
    let mut settings = complete(name, info, settings)?;
    if let Some(value) = proxy {
        crate::plugin::proxy::of(&[SettingValue {
            key: crate::plugin::proxy::PROXY.into(),
            value: value.clone(),
            secret: true,
        }])
        .map_err(invalid)?;
        settings.push(SettingValue {
            key: crate::plugin::proxy::PROXY.into(),
            value,
            secret: true,
        });
    }
    Ok(Channel {
        id,
        settings,
        plugin,
        origin,
        rules,
    })
}

/// Strings as they are; numbers and booleans as written; arrays of strings as
/// lines (for multi-line settings such as headers).
fn value_text(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or("arrays may hold only strings")
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|lines| lines.join("\n"))
            .map_err(String::from),
        _ => Err("expected a string, number, boolean or list of strings".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[watchers]
allow_private = true
min_interval = "5m"

[watchers.news]
kind = "web"
every = "30m"
urls = ["https://example.com/"]

[watchers.standup]
kind = "schedule"
schedule = "weekdays 09:00"
title = "Stand-up"
"#;

    #[test]
    fn watchers_are_read_from_their_tables() {
        let f = ConfigFile::parse(Path::new("c.toml"), FILE).unwrap();
        assert!(f.watch.allow_private);
        assert_eq!(f.watch.min_interval, std::time::Duration::from_secs(300));
        let names: Vec<_> = f.watchers.iter().map(|w| w["name"].clone()).collect();
        assert_eq!(names, ["news", "standup"]);
        let none = ConfigFile::parse(Path::new("c.toml"), "").unwrap();
        assert!(none.watchers.is_empty());
    }

    #[test]
    fn a_bad_watcher_field_is_named_with_its_line() {
        for (bad, field, line) in [
            (
                ("every = \"30m\"", "every = 30"),
                "`watchers.news.every`",
                8,
            ),
            (
                ("min_interval = \"5m\"", "min_interval = 5"),
                "`watchers.min_interval`",
                4,
            ),
            (
                ("kind = \"web\"", "kind = \"webb\""),
                "`watchers.news.kind`",
                7,
            ),
        ] {
            let text = FILE.replace(bad.0, bad.1);
            let e = ConfigFile::parse(Path::new("c.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(field), "{e}");
            assert!(e.contains(&format!("(line {line})")), "{e}");
        }
    }

    #[test]
    fn a_field_is_found_on_its_line() {
        let text = "[a]\nx = 1\n[a.b]\n y = 2\n";
        assert_eq!(line_of(text, "a.x"), Some(2));
        assert_eq!(line_of(text, "a.b.y"), Some(4));
        assert_eq!(line_of(text, "a.b.z"), Some(3));
        assert_eq!(line_of(text, "c"), None);
    }
}
