//! What a watcher is, as an agent, a person or the config file says it: one
//! flat object (`name`, `kind`, the kind's fields, the notification's
//! fields), checked field by field into a [`Plan`] the checks run on.
//! Errors name the field and say what to write instead.

use super::schedule::{self, Schedule};
use super::template;
use crate::notification::{Format, InputError, Priority};
use crate::store::UnixMillis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Watcher limits and what they may fetch: `[watchers]` in the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchSettings {
    /// Watchers at most, all origins together.
    pub max: usize,
    /// The shortest time between two checks of one watcher.
    pub min_interval: Duration,
    /// Hosts a watcher may fetch even when they resolve to a private or
    /// loopback address (`localhost`, `intranet.example`, `10.0.0.7`).
    pub allow_hosts: Vec<String>,
    /// Any private, loopback or link-local address (a home-lab hub).
    pub allow_private: bool,
    /// The most of a response body a check reads.
    pub max_body: usize,
    /// How long one check's fetches may take in all.
    pub timeout: Duration,
    /// Consecutive failed checks before "watcher failing" is sent, unless
    /// the watcher says otherwise.
    pub fail_after: u32,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            max: 100,
            min_interval: Duration::from_secs(60),
            allow_hosts: Vec::new(),
            allow_private: false,
            max_body: 1 << 20,
            timeout: Duration::from_secs(30),
            fail_after: 5,
        }
    }
}

/// Settings keys of the `[watchers]` table; every other key is a table of
/// its own, `[watchers.NAME]`, one watcher.
const SETTINGS_KEYS: &[&str] = &[
    "max",
    "min_interval",
    "allow_hosts",
    "allow_private",
    "max_body",
    "timeout",
    "fail_after",
];

impl WatchSettings {
    /// Read the config file's `[watchers]` table (as JSON): its settings,
    /// and the watchers its `[watchers.NAME]` tables define, each with its
    /// name filled in. Errors name the field as `watchers.KEY` or
    /// `watchers.NAME.KEY`.
    pub fn from_config(table: Value) -> Result<(WatchSettings, Vec<Value>), InputError> {
        let Value::Object(table) = table else {
            return Err(InputError::new("watchers", "expected a table"));
        };
        let mut s = WatchSettings::default();
        let mut specs = Vec::new();
        for (key, v) in table {
            let field = format!("watchers.{key}");
            let bad = |m: &str| InputError::new(field.clone(), m.to_string());
            if !SETTINGS_KEYS.contains(&key.as_str()) {
                let Value::Object(mut spec) = v else {
                    return Err(bad(&format!(
                        "is neither a setting ({}) nor a [watchers.{key}] table",
                        SETTINGS_KEYS.join(", ")
                    )));
                };
                if spec
                    .get("name")
                    .is_some_and(|n| n.as_str() != Some(key.as_str()))
                {
                    return Err(InputError::new(
                        format!("{field}.name"),
                        "a [watchers.NAME] table is named by its NAME: leave `name` out",
                    ));
                }
                spec.insert("name".into(), Value::String(key.clone()));
                // Checked here so a mistake names its table.
                WatcherSpec::from_json(Value::Object(spec.clone()))
                    .map_err(|e| InputError::new(format!("{field}.{}", e.field), e.message))?;
                specs.push(Value::Object(spec));
                continue;
            }
            let count = |v: &Value| v.as_u64().ok_or_else(|| bad("must be a whole number"));
            let duration = |v: &Value| {
                v.as_str()
                    .ok_or_else(|| bad("must be a duration such as \"1m\""))
                    .and_then(|t| schedule::interval(t).map_err(|e| bad(&e)))
            };
            match key.as_str() {
                "max" => s.max = count(&v)? as usize,
                "min_interval" => s.min_interval = duration(&v)?,
                "timeout" => s.timeout = duration(&v)?,
                "max_body" => s.max_body = count(&v)? as usize,
                "fail_after" => {
                    s.fail_after = count(&v)?
                        .try_into()
                        .ok()
                        .filter(|n| (1..=1_000).contains(n))
                        .ok_or_else(|| bad("must be from 1 to 1000"))?
                }
                "allow_private" => {
                    s.allow_private = v.as_bool().ok_or_else(|| bad("must be true or false"))?
                }
                _ => {
                    s.allow_hosts = serde_json::from_value(v)
                        .map_err(|_| bad("must be a list of host names, such as [\"localhost\"]"))?
                }
            }
        }
        Ok((s, specs))
    }
}

/// The notification a watcher sends. `title` and `body` are templates
/// (see [`template`]); each kind has a default title.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Only these channels; empty means every channel the rules give it to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
}

const NOTIFY_FIELDS: &[&str] = &["title", "body", "format", "priority", "tags", "channels"];
const COMMON_FIELDS: &[&str] = &["name", "kind", "fail_after"];

/// A fixed notification on a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleKind {
    /// `every 30m`, `daily 08:00`, `weekdays 09:00` or 5-field cron.
    pub schedule: String,
    /// IANA name; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Web pages whose text (or one part of it) is watched for changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebKind {
    pub urls: Vec<String>,
    /// `30m`: how often the pages are fetched.
    pub every: String,
    /// A CSS selector: only the text of the elements it matches is watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// With keywords, only new lines that mention one fire (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

/// RSS, Atom or JSON feeds whose new items are sent, one by one or as a digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedKind {
    pub urls: Vec<String>,
    pub every: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// When set, new items are kept and sent together on this schedule
    /// (`daily 08:00`), grouped by feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The digest's IANA time zone; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// A number read from a URL, compared with a level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdKind {
    pub url: String,
    pub every: String,
    /// A JSON pointer into the answer (`/bitcoin/usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Or a regular expression on the text; its first group (else the whole
    /// match) is the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// How far back past the level the value must go to count as
    /// recovered, so a value hovering at the level does not fire on every
    /// check. 0 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WatchKind {
    Schedule(ScheduleKind),
    Web(WebKind),
    Feed(FeedKind),
    Threshold(ThresholdKind),
}

impl WatchKind {
    pub const NAMES: [&'static str; 4] = ["schedule", "web", "feed", "threshold"];

    pub fn name(&self) -> &'static str {
        match self {
            WatchKind::Schedule(_) => "schedule",
            WatchKind::Web(_) => "web",
            WatchKind::Feed(_) => "feed",
            WatchKind::Threshold(_) => "threshold",
        }
    }

    /// The placeholders its titles and bodies may use.
    pub fn placeholders(&self) -> &'static [&'static str] {
        match self {
            WatchKind::Schedule(_) => &["name", "time"],
            WatchKind::Web(_) => &["name", "url", "host", "added", "removed", "keyword"],
            WatchKind::Feed(_) => &["name", "title", "link", "feed", "count"],
            WatchKind::Threshold(_) => &["name", "value", "threshold", "direction", "url"],
        }
    }
}

/// A watcher as it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct WatcherSpec {
    pub name: String,
    pub kind: WatchKind,
    pub notify: Notify,
    /// Consecutive failures before "watcher failing"; the settings' when absent.
    pub fail_after: Option<u32>,
}

/// Which way a threshold fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Direction {
    Above,
    Below,
}

impl Direction {
    pub fn word(self) -> &'static str {
        match self {
            Direction::Above => "above",
            Direction::Below => "below",
        }
    }
}

/// Where a threshold reads its number.
#[derive(Debug, Clone)]
pub enum Reading {
    Pointer(String),
    Regex(regex::Regex),
}

/// A checked spec, ready to run: schedules parsed, selector and regex
/// compiled, URLs known good.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: WatcherSpec,
    /// When checks run.
    pub cadence: Schedule,
    /// When a feed's digest goes out.
    pub digest: Option<Schedule>,
    pub urls: Vec<url::Url>,
    pub selector: Option<scraper::Selector>,
    /// Lower-cased.
    pub keywords: Vec<String>,
    pub reading: Option<Reading>,
    pub level: Option<(Direction, f64)>,
    pub hysteresis: f64,
    pub fail_after: u32,
}

impl WatcherSpec {
    /// Read the flat object an agent or the config file gives.
    pub fn from_json(value: Value) -> Result<WatcherSpec, InputError> {
        let Value::Object(map) = value else {
            return Err(InputError::new("", "expected an object"));
        };
        let (mut common, mut notify, mut rest) = (Map::new(), Map::new(), Map::new());
        for (k, v) in map {
            let to = if COMMON_FIELDS.contains(&k.as_str()) {
                &mut common
            } else if NOTIFY_FIELDS.contains(&k.as_str()) {
                &mut notify
            } else {
                &mut rest
            };
            to.insert(k, v);
        }
        let name = match common.remove("name") {
            Some(Value::String(s)) => s,
            Some(_) => return Err(InputError::new("name", "must be a string")),
            None => return Err(InputError::new("name", "is required")),
        };
        check_name(&name)?;
        let kind = match common.remove("kind") {
            Some(Value::String(s)) => s,
            _ => {
                return Err(InputError::new(
                    "kind",
                    "is required: one of schedule, web, feed, threshold",
                ));
            }
        };
        let fail_after = match common.remove("fail_after") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .filter(|n| (1..=1_000).contains(n))
                    .ok_or_else(|| InputError::new("fail_after", "must be from 1 to 1000"))?
                    as u32,
            ),
        };
        let rest = Value::Object(rest);
        let kind = match kind.as_str() {
            "schedule" => WatchKind::Schedule(parse(rest)?),
            "web" => WatchKind::Web(parse(rest)?),
            "feed" => WatchKind::Feed(parse(rest)?),
            "threshold" => WatchKind::Threshold(parse(rest)?),
            other => {
                return Err(InputError::new(
                    "kind",
                    format!("unknown kind {other:?}: use schedule, web, feed or threshold"),
                ));
            }
        };
        Ok(WatcherSpec {
            name,
            kind,
            notify: parse(Value::Object(notify))?,
            fail_after,
        })
    }

    /// The flat object again, as stored and as [`WatcherSpec::from_json`] reads it.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), self.name.clone().into());
        out.insert("kind".into(), self.kind.name().into());
        let kind = match &self.kind {
            WatchKind::Schedule(k) => serde_json::to_value(k),
            WatchKind::Web(k) => serde_json::to_value(k),
            WatchKind::Feed(k) => serde_json::to_value(k),
            WatchKind::Threshold(k) => serde_json::to_value(k),
        };
        for part in [kind, serde_json::to_value(&self.notify)] {
            if let Ok(Value::Object(m)) = part {
                out.extend(m);
            }
        }
        if let Some(n) = self.fail_after {
            out.insert("fail_after".into(), n.into());
        }
        Value::Object(out)
    }

    /// [`WatcherSpec::to_json`] with what may be a secret in its URLs
    /// (a password, a query value named like a key or token) masked: what
    /// every surface shows.
    pub fn shown(&self) -> Value {
        let mut v = self.to_json();
        if let Some(o) = v.as_object_mut() {
            for key in ["urls", "url"] {
                match o.get_mut(key) {
                    Some(Value::String(s)) => *s = mask_url(s),
                    Some(Value::Array(a)) => {
                        for u in a.iter_mut() {
                            if let Value::String(s) = u {
                                *s = mask_url(s);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        v
    }

    /// Check every field against `settings`; `now` places the schedules.
    pub fn plan(&self, settings: &WatchSettings, now: UnixMillis) -> Result<Plan, InputError> {
        check_name(&self.name)?;
        let placeholders = self.kind.placeholders();
        for (field, text) in [("title", &self.notify.title), ("body", &self.notify.body)] {
            if let Some(t) = text {
                template::check(t, placeholders).map_err(|e| InputError::new(field, e))?;
            }
        }
        let min = settings.min_interval;
        let too_often = |field: &str, gap: Option<Duration>| match gap {
            Some(g) if g < min => Err(InputError::new(
                field,
                format!(
                    "checks would run every {}; the shortest interval allowed is {} \
                     ([watchers] min_interval)",
                    humantime::format_duration(g),
                    humantime::format_duration(min)
                ),
            )),
            None => Err(InputError::new(field, "never comes due: pick another time")),
            _ => Ok(()),
        };
        let every = |field: &str, text: &str| -> Result<Schedule, InputError> {
            let d = schedule::interval(text).map_err(|e| InputError::new(field, e))?;
            too_often(field, Some(d))?;
            Ok(Schedule::Every(d))
        };
        let mut plan = Plan {
            spec: self.clone(),
            cadence: Schedule::Every(min),
            digest: None,
            urls: Vec::new(),
            selector: None,
            keywords: Vec::new(),
            reading: None,
            level: None,
            hysteresis: 0.0,
            fail_after: self.fail_after.unwrap_or(settings.fail_after),
        };
        match &self.kind {
            WatchKind::Schedule(k) => {
                let s = Schedule::parse(&k.schedule, k.timezone.as_deref())
                    .map_err(|e| field_of_zone(e, "schedule"))?;
                too_often("schedule", s.shortest_gap(now))?;
                if self
                    .notify
                    .title
                    .as_deref()
                    .is_none_or(|t| t.trim().is_empty())
                {
                    return Err(InputError::new(
                        "title",
                        "is required for a schedule: it is the notification it sends",
                    ));
                }
                plan.cadence = s;
            }
            WatchKind::Web(k) => {
                plan.cadence = every("every", &k.every)?;
                plan.urls = urls("urls", &k.urls)?;
                plan.keywords = keywords(&k.keywords)?;
                if let Some(sel) = &k.selector {
                    plan.selector = Some(scraper::Selector::parse(sel).map_err(|e| {
                        InputError::new(
                            "selector",
                            format!("not a CSS selector ({e}): write one such as `main h2`"),
                        )
                    })?);
                }
            }
            WatchKind::Feed(k) => {
                plan.cadence = every("every", &k.every)?;
                plan.urls = urls("urls", &k.urls)?;
                plan.keywords = keywords(&k.keywords)?;
                if let Some(d) = &k.digest {
                    let s = Schedule::parse(d, k.timezone.as_deref())
                        .map_err(|e| field_of_zone(e, "digest"))?;
                    too_often("digest", s.shortest_gap(now))?;
                    plan.digest = Some(s);
                } else if k.timezone.is_some() {
                    return Err(InputError::new(
                        "timezone",
                        "is the digest's time zone: set `digest` too, or leave it out",
                    ));
                }
            }
            WatchKind::Threshold(k) => {
                plan.cadence = every("every", &k.every)?;
                plan.urls = urls("url", std::slice::from_ref(&k.url))?;
                plan.reading = Some(match (&k.pointer, &k.regex) {
                    (Some(p), None) if p.is_empty() || p.starts_with('/') => {
                        Reading::Pointer(p.clone())
                    }
                    (Some(_), None) => {
                        return Err(InputError::new(
                            "pointer",
                            "a JSON pointer starts with `/`, such as `/bitcoin/usd`",
                        ));
                    }
                    (None, Some(r)) => Reading::Regex(regex::Regex::new(r).map_err(|e| {
                        InputError::new("regex", format!("not a regular expression: {e}"))
                    })?),
                    _ => {
                        return Err(InputError::new(
                            "pointer",
                            "give either `pointer` (JSON answers) or `regex` (text), not both",
                        ));
                    }
                });
                plan.level = Some(match (k.above, k.below) {
                    (Some(v), None) if v.is_finite() => (Direction::Above, v),
                    (None, Some(v)) if v.is_finite() => (Direction::Below, v),
                    _ => {
                        return Err(InputError::new(
                            "above",
                            "give either `above` or `below` (a number), not both",
                        ));
                    }
                });
                plan.hysteresis = match k.hysteresis {
                    None => 0.0,
                    Some(h) if h.is_finite() && h >= 0.0 => h,
                    Some(_) => {
                        return Err(InputError::new("hysteresis", "must be 0 or more"));
                    }
                };
            }
        }
        Ok(plan)
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, InputError> {
    InputError::parse(value).map_err(|e| {
        // serde names an unknown field in its message only.
        match e
            .message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
        {
            Some((name, _)) if e.field.is_empty() => InputError::new(name, e.message.clone()),
            _ => e,
        }
    })
}

/// A time zone error belongs to `timezone`, any other to `field`.
fn field_of_zone(message: String, field: &str) -> InputError {
    let field = if message.starts_with("unknown time zone") {
        "timezone"
    } else {
        field
    };
    InputError::new(field, message)
}

/// Letters, digits, `-` and `_`, starting with a letter, so a name is never
/// taken for an id.
pub fn check_name(name: &str) -> Result<(), InputError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(InputError::new(
            "name",
            format!(
                "{name:?} cannot name a watcher: use 1 to 64 letters, digits, `-` or `_`, \
                 starting with a letter (such as `ai-news`)"
            ),
        ))
    }
}

/// At most this many URLs per watcher: each is fetched on every check.
pub const MAX_URLS: usize = 20;

fn urls(field: &str, list: &[String]) -> Result<Vec<url::Url>, InputError> {
    if list.is_empty() {
        return Err(InputError::new(field, "give at least one URL"));
    }
    if list.len() > MAX_URLS {
        return Err(InputError::new(
            field,
            format!("at most {MAX_URLS} URLs per watcher; make another watcher for the rest"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, u)| {
            let at = if field == "url" {
                field.to_string()
            } else {
                format!("{field}[{i}]")
            };
            let parsed =
                url::Url::parse(u).map_err(|e| InputError::new(&at, format!("not a URL ({e})")))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(InputError::new(&at, "use an http:// or https:// URL"));
            }
            Ok(parsed)
        })
        .collect()
}

fn keywords(list: &[String]) -> Result<Vec<String>, InputError> {
    list.iter()
        .enumerate()
        .map(|(i, k)| {
            let k = k.trim().to_lowercase();
            if k.is_empty() {
                return Err(InputError::new(
                    format!("keywords[{i}]"),
                    "is empty: remove it",
                ));
            }
            Ok(k)
        })
        .collect()
}

pub use crate::redact::mask_url;

/// What `watch_create` and `POST /v1/watchers` take, as a JSON Schema: one
/// flat object whose fields depend on `kind`, listed together, each saying
/// which kinds read it (the spec checks the combination).
pub fn input_schema() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    let words = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let number = |d: &str| json!({"type": "number", "description": d});
    json!({
        "type": "object",
        "properties": {
            "name": text("Unique name: starts with a letter; letters, digits, - and _."),
            "kind": {"type": "string", "enum": ["schedule", "web", "feed", "threshold"],
                     "description": "What is watched."},
            "schedule": text("schedule: `every 30m`, `daily 08:00`, `weekdays 09:00` or 5-field cron."),
            "timezone": text("schedule, feed digest: IANA time zone (default UTC)."),
            "urls": words("web, feed: the pages or feeds."),
            "url": text("threshold: the URL answering JSON (or text with `regex`)."),
            "every": text("web, feed, threshold: how often to check, e.g. `30m`, `1h`."),
            "selector": text("web: CSS selector of the part of the page to watch."),
            "keywords": words("web, feed: fire only for new lines or items mentioning one (case-insensitive)."),
            "digest": text("feed: send new items together on this schedule (`daily 08:00`) instead of one by one."),
            "pointer": text("threshold: JSON pointer to the number, e.g. `/bitcoin/usd`."),
            "regex": text("threshold: regex on the text; its first group is the number."),
            "above": number("threshold: fire when the value goes above this."),
            "below": number("threshold: fire when the value goes below this."),
            "hysteresis": number("threshold: how far back past the level counts as recovered (default 0)."),
            "title": text("Notification title template, e.g. `BTC at {value}`; placeholders: schedule {name} {time}; web {url} {host} {added} {removed} {keyword}; feed {title} {link} {feed} {count}; threshold {value} {threshold} {direction} {url}."),
            "body": text("Notification body template (same placeholders)."),
            "format": {"type": "string", "enum": ["text", "markdown", "html"], "description": "Body format (default text)."},
            "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"], "description": "Default normal."},
            "tags": words("Tags for the notification."),
            "channels": words("Only these channels (default: all configured)."),
            "fail_after": {"type": "integer", "minimum": 1, "maximum": 1000,
                           "description": "Failed checks in a row before a \"watcher failing\" notification (default 5)."}
        },
        "required": ["name", "kind"],
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(v: Value) -> Result<Plan, InputError> {
        WatcherSpec::from_json(v)?.plan(&WatchSettings::default(), UnixMillis(0))
    }

    #[test]
    fn each_kind_reads_its_flat_object_and_writes_it_back() {
        for v in [
            json!({"name": "standup", "kind": "schedule", "schedule": "weekdays 09:00",
                   "timezone": "Europe/Berlin", "title": "Check the project status",
                   "body": "It is {time}", "channels": ["ops"], "priority": "high"}),
            json!({"name": "ai-news", "kind": "web", "urls": ["https://techcrunch.com/"],
                   "every": "30m", "selector": "main h2", "keywords": ["AI"]}),
            json!({"name": "digest", "kind": "feed", "urls": ["https://a.example/feed.xml"],
                   "every": "15m", "digest": "daily 08:00", "timezone": "Asia/Shanghai"}),
            json!({"name": "btc", "kind": "threshold", "url": "https://api.example/price",
                   "every": "5m", "pointer": "/bitcoin/usd", "above": 50000.0,
                   "title": "BTC {direction} {threshold}: {value}", "fail_after": 3}),
        ] {
            let spec = WatcherSpec::from_json(v.clone()).unwrap();
            spec.plan(&WatchSettings::default(), UnixMillis(0)).unwrap();
            let mut back = spec.to_json();
            // Defaults are written out.
            let o = back.as_object_mut().unwrap();
            o.remove("format");
            if o.get("priority") == Some(&json!("normal")) {
                o.remove("priority");
            }
            assert_eq!(back, v);
        }
    }

    #[test]
    fn errors_name_the_field_and_say_what_to_write() {
        let cases = [
            (json!({"kind": "web"}), "name", "is required"),
            (
                json!({"name": "9lives", "kind": "web"}),
                "name",
                "starting with a letter",
            ),
            (
                json!({"name": "x", "kind": "poll"}),
                "kind",
                "schedule, web, feed or threshold",
            ),
            (
                json!({"name": "x", "kind": "web", "every": "30m"}),
                "urls",
                "is required",
            ),
            (
                json!({"name": "x", "kind": "web", "urls": ["https://a.example"], "every": "30m",
                       "selectr": "h1"}),
                "selectr",
                "unknown field",
            ),
            (
                json!({"name": "x", "kind": "web", "urls": ["ftp://a.example"], "every": "30m"}),
                "urls[0]",
                "http://",
            ),
            (
                json!({"name": "x", "kind": "web", "urls": ["https://a.example"], "every": "30s"}),
                "every",
                "shortest interval allowed is 1m",
            ),
            (
                json!({"name": "x", "kind": "web", "urls": ["https://a.example"], "every": "5m",
                       "selector": "h1["}),
                "selector",
                "not a CSS selector",
            ),
            (
                json!({"name": "x", "kind": "web", "urls": ["https://a.example"], "every": "5m",
                       "title": "{price}"}),
                "title",
                "unknown placeholder {price}",
            ),
            (
                json!({"name": "x", "kind": "schedule", "schedule": "daily 08:00"}),
                "title",
                "is required for a schedule",
            ),
            (
                json!({"name": "x", "kind": "schedule", "schedule": "daily 08:00",
                       "timezone": "Berlin", "title": "t"}),
                "timezone",
                "IANA name",
            ),
            (
                json!({"name": "x", "kind": "threshold", "url": "https://a.example", "every": "5m",
                       "pointer": "/p", "above": 1.0, "below": 2.0}),
                "above",
                "either `above` or `below`",
            ),
            (
                json!({"name": "x", "kind": "threshold", "url": "https://a.example", "every": "5m",
                       "pointer": "p", "above": 1.0}),
                "pointer",
                "starts with `/`",
            ),
            (
                json!({"name": "x", "kind": "feed", "urls": ["https://a.example"], "every": "5m",
                       "timezone": "UTC"}),
                "timezone",
                "set `digest` too",
            ),
            (
                json!({"name": "x", "kind": "web", "urls": ["https://a.example"], "every": "5m",
                       "fail_after": 0}),
                "fail_after",
                "from 1 to 1000",
            ),
        ];
        for (v, field, words) in cases {
            let e = plan(v.clone()).unwrap_err();
            assert_eq!(e.field, field, "{v}: {e:?}");
            assert!(e.message.contains(words), "{v}: {}", e.message);
        }
    }

    #[test]
    fn the_watchers_table_gives_settings_and_named_watchers() {
        let table: toml::Value = toml::from_str(
            r#"
            allow_hosts = ["localhost"]
            min_interval = "5m"
            max = 10
            [standup]
            kind = "schedule"
            schedule = "weekdays 09:00"
            title = "Status"
            "#,
        )
        .unwrap();
        let (s, specs) = WatchSettings::from_config(serde_json::to_value(table).unwrap()).unwrap();
        assert_eq!(s.allow_hosts, ["localhost"]);
        assert_eq!(s.min_interval, Duration::from_secs(300));
        assert_eq!((s.max, s.max_body, s.fail_after), (10, 1 << 20, 5));
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0]["name"], "standup");
        for (v, field) in [
            (json!({"min_interval": 5}), "watchers.min_interval"),
            (json!({"allow_hosts": "localhost"}), "watchers.allow_hosts"),
            (json!({"typo": 1}), "watchers.typo"),
            (
                json!({"x": {"kind": "web", "every": "5m"}}),
                "watchers.x.urls",
            ),
            (
                json!({"x": {"name": "y", "kind": "web"}}),
                "watchers.x.name",
            ),
        ] {
            let e = WatchSettings::from_config(v.clone()).unwrap_err();
            assert_eq!(e.field, field, "{v}: {e:?}");
        }
    }

    #[test]
    fn secrets_in_urls_are_masked_when_shown() {
        let spec = WatcherSpec::from_json(json!({
            "name": "btc", "kind": "threshold", "every": "5m", "pointer": "/p", "above": 1.0,
            "url": "https://user:hunter2@api.example/price?api_key=abc123&coin=btc"
        }))
        .unwrap();
        let shown = spec.shown().to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("abc123"),
            "{shown}"
        );
        assert!(shown.contains("coin=btc"), "{shown}");
        // What runs keeps the real URL.
        assert!(spec.to_json().to_string().contains("abc123"));
    }
}
