//! Per-channel routing rules from a `[channels.NAME]` table:
//!
//! ```toml
//! [channels.phone]
//! plugin = "bark"
//! events = ["message", "end", "error"]   # which kinds it gets (default: all)
//! min_priority = "high"                  # drop anything below
//! tags = ["deploy", "prod"]              # only notifications carrying one of these
//! quiet_hours = "22:00-08:00"            # held until the window ends; `urgent` passes
//! timezone = "Asia/Shanghai"             # of quiet_hours (default: the machine's)
//! update_interval_secs = 60              # at most one `update` per run per minute (0: all)
//! ```

use crate::notification::{EventKind, Priority};
use chrono::NaiveTime;
use std::time::Duration;

/// What a notification is, for the `events` rule: a plain message or a run event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Message,
    Run(EventKind),
}

impl Kind {
    pub const NAMES: [&'static str; 5] = ["message", "start", "update", "end", "error"];

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "message" => Kind::Message,
            "start" => Kind::Run(EventKind::Start),
            "update" => Kind::Run(EventKind::Update),
            "end" => Kind::Run(EventKind::End),
            "error" => Kind::Run(EventKind::Error),
            _ => return None,
        })
    }
}

/// A daily window in a time zone, e.g. 22:00 to 08:00 (crossing midnight).
#[derive(Debug, Clone, PartialEq)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
    /// `None`: the machine's local time zone.
    pub timezone: Option<chrono_tz::Tz>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `None`: every kind.
    pub events: Option<Vec<Kind>>,
    pub min_priority: Priority,
    /// Empty: any tags.
    pub tags: Vec<String>,
    pub quiet_hours: Option<QuietHours>,
    /// `Duration::ZERO`: every update goes out.
    pub update_interval: Duration,
}

pub const DEFAULT_UPDATE_INTERVAL: Duration = Duration::from_secs(60);

impl Default for Rules {
    fn default() -> Self {
        Rules {
            events: None,
            min_priority: Priority::Low,
            tags: Vec::new(),
            quiet_hours: None,
            update_interval: DEFAULT_UPDATE_INTERVAL,
        }
    }
}

impl Rules {
    /// Take the rule keys out of a channel table; errors name the key and say what is allowed.
    pub fn take_from(table: &mut toml::Table) -> Result<Rules, String> {
        let mut rules = Rules::default();
        if let Some(v) = table.remove("events") {
            let items = v
                .as_array()
                .ok_or("`events` must be a list, e.g. [\"start\", \"end\", \"error\"]")?;
            let mut kinds = Vec::new();
            for item in items {
                let name = item.as_str().unwrap_or_default();
                kinds.push(Kind::parse(name).ok_or_else(|| {
                    format!(
                        "`events`: unknown kind {item}; use any of {}",
                        Kind::NAMES.join(", ")
                    )
                })?);
            }
            rules.events = Some(kinds);
        }
        if let Some(v) = table.remove("min_priority") {
            let name = v.as_str().unwrap_or_default();
            rules.min_priority = match name {
                "low" => Priority::Low,
                "normal" => Priority::Normal,
                "high" => Priority::High,
                "urgent" => Priority::Urgent,
                _ => {
                    return Err(format!(
                        "`min_priority`: {v} is not a priority; use low, normal, high or urgent"
                    ));
                }
            };
        }
        if let Some(v) = table.remove("tags") {
            rules.tags = v
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|t| t.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or("`tags` must be a list of strings, e.g. [\"deploy\"]")?;
        }
        let timezone = match table.remove("timezone") {
            Some(v) => {
                let name = v.as_str().unwrap_or_default();
                Some(name.parse::<chrono_tz::Tz>().map_err(|_| {
                    format!(
                        "`timezone`: {v} is not an IANA time zone; use a name such as \"Europe/Berlin\" or \"UTC\""
                    )
                })?)
            }
            None => None,
        };
        if let Some(v) = table.remove("quiet_hours") {
            let text = v.as_str().unwrap_or_default();
            let (from, to) = parse_window(text).ok_or_else(|| {
                format!("`quiet_hours`: {v} is not a window; write it as \"22:00-08:00\"")
            })?;
            rules.quiet_hours = Some(QuietHours { from, to, timezone });
        } else if timezone.is_some() {
            return Err(
                "`timezone` is only used with `quiet_hours`; add quiet_hours or remove it".into(),
            );
        }
        if let Some(v) = table.remove("update_interval_secs") {
            let secs = v
                .as_integer()
                .filter(|s| (0..=86_400).contains(s))
                .ok_or_else(|| {
                    format!("`update_interval_secs`: {v} must be a whole number of seconds from 0 to 86400")
                })?;
            rules.update_interval = Duration::from_secs(secs as u64);
        }
        Ok(rules)
    }
}

fn parse_window(text: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = text.split_once('-')?;
    let t = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
    let (from, to) = (t(a)?, t(b)?);
    (from != to).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml: &str) -> Result<Rules, String> {
        let mut t: toml::Table = toml.parse().unwrap();
        Rules::take_from(&mut t)
    }

    #[test]
    fn parses_every_rule_and_leaves_settings() {
        let mut t: toml::Table = r#"
            url = "x"
            events = ["end", "error"]
            min_priority = "high"
            tags = ["deploy"]
            quiet_hours = "22:00-08:00"
            timezone = "Asia/Shanghai"
            update_interval_secs = 5
        "#
        .parse()
        .unwrap();
        let r = Rules::take_from(&mut t).unwrap();
        assert_eq!(
            r.events,
            Some(vec![Kind::Run(EventKind::End), Kind::Run(EventKind::Error)])
        );
        assert_eq!(r.min_priority, Priority::High);
        assert_eq!(r.tags, vec!["deploy"]);
        let q = r.quiet_hours.unwrap();
        assert_eq!(q.timezone, Some(chrono_tz::Asia::Shanghai));
        assert_eq!(q.from, NaiveTime::from_hms_opt(22, 0, 0).unwrap());
        assert_eq!(r.update_interval, Duration::from_secs(5));
        assert_eq!(t.keys().collect::<Vec<_>>(), vec!["url"]);
    }

    #[test]
    fn bad_rules_say_what_to_write() {
        assert!(
            rules("events = [\"finish\"]")
                .unwrap_err()
                .contains("message, start")
        );
        assert!(
            rules("min_priority = \"max\"")
                .unwrap_err()
                .contains("urgent")
        );
        assert!(
            rules("quiet_hours = \"10pm-8am\"")
                .unwrap_err()
                .contains("22:00-08:00")
        );
        assert!(
            rules("quiet_hours = \"22:00-08:00\"\ntimezone = \"Mars/Base\"")
                .unwrap_err()
                .contains("IANA")
        );
        assert!(
            rules("update_interval_secs = -1")
                .unwrap_err()
                .contains("0 to 86400")
        );
        assert!(
            rules("timezone = \"UTC\"")
                .unwrap_err()
                .contains("quiet_hours")
        );
    }
}
