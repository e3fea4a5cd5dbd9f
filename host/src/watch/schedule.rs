//! When a watcher checks: a fixed interval (`30m`, `every 30m`), a plain
//! daily form (`daily 08:00`, `weekdays 09:00`), or a five-field cron
//! expression in an IANA time zone. Pure: the next time is computed from a
//! time passed in (the hub's clock), so tests move time instead of waiting.
//!
//! The plain forms are written as cron expressions and parsed by `croner`
//! like any other: one parser, one rule for daylight-saving gaps.

use crate::store::UnixMillis;
use chrono::TimeZone;
use chrono_tz::Tz;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Schedule {
    Every(Duration),
    Cron {
        cron: Box<croner::Cron>,
        tz: Tz,
        /// As the user wrote it, for messages.
        text: String,
    },
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Schedule::Every(a), Schedule::Every(b)) => a == b,
            (
                Schedule::Cron {
                    text: a, tz: ta, ..
                },
                Schedule::Cron {
                    text: b, tz: tb, ..
                },
            ) => a == b && ta == tb,
            _ => false,
        }
    }
}

/// What the forms look like, for error messages.
pub const FORMS: &str = "`every 30m`, `daily 08:00`, `weekdays 09:00` or a 5-field cron \
     expression such as `0 9 * * 1-5`";

impl Schedule {
    /// A schedule in `timezone` (an IANA name; UTC when `None`). Errors say
    /// what is wrong and which forms work.
    pub fn parse(text: &str, timezone: Option<&str>) -> Result<Schedule, String> {
        let tz = zone(timezone)?;
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("every ") {
            return interval(rest).map(Schedule::Every);
        }
        let cron = match lower.split_once(' ') {
            Some(("daily", at)) => format!("{} * * *", minute_hour(at)?),
            Some(("weekdays", at)) => format!("{} * * 1-5", minute_hour(at)?),
            _ if text.split_whitespace().count() == 5 => text.to_string(),
            _ => return Err(format!("{text:?} is not a schedule: write {FORMS}")),
        };
        let parsed = croner::Cron::from_str(&cron)
            .map_err(|e| format!("{text:?} is not a cron expression ({e}): write {FORMS}"))?;
        Ok(Schedule::Cron {
            cron: Box::new(parsed),
            tz,
            text: text.to_string(),
        })
    }

    /// The first time strictly after `after`; `None` when the expression
    /// never matches again (`0 0 30 2 *`).
    pub fn next_after(&self, after: UnixMillis) -> Option<UnixMillis> {
        match self {
            Schedule::Every(d) => Some(after.plus(*d)),
            Schedule::Cron { cron, tz, .. } => {
                let local = tz.timestamp_millis_opt(after.0).single()?;
                cron.find_next_occurrence(&local, false)
                    .ok()
                    .map(|t| UnixMillis(t.timestamp_millis()))
            }
        }
    }

    /// The shortest time between two checks, to hold against the minimum
    /// interval: a cron expression's, measured over its next few matches.
    pub fn shortest_gap(&self, from: UnixMillis) -> Option<Duration> {
        match self {
            Schedule::Every(d) => Some(*d),
            Schedule::Cron { .. } => {
                let mut t = self.next_after(from)?;
                let mut gap: Option<i64> = None;
                for _ in 0..8 {
                    let Some(next) = self.next_after(t) else {
                        break;
                    };
                    gap = Some(gap.map_or(next.0 - t.0, |g| g.min(next.0 - t.0)));
                    t = next;
                }
                gap.map(|g| Duration::from_millis(g.max(0) as u64))
            }
        }
    }
}

/// `30m`, `1h 30m`, `90s` (humantime's forms).
pub fn interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let text = text.strip_prefix("every ").unwrap_or(text);
    humantime::parse_duration(text).map_err(|e| {
        format!(
            "{text:?} is not an interval ({e}): write a number and a unit, such as `30m` or `1h`"
        )
    })
}

/// An IANA time zone name, UTC when none is given.
pub fn zone(name: Option<&str>) -> Result<Tz, String> {
    match name {
        None => Ok(Tz::UTC),
        Some(n) => n.parse::<Tz>().map_err(|_| {
            format!("unknown time zone {n:?}: use an IANA name such as `Europe/Berlin` or `UTC`")
        }),
    }
}

/// `08:00` → `0 8` (cron's minute and hour).
fn minute_hour(at: &str) -> Result<String, String> {
    let t = chrono::NaiveTime::parse_from_str(at.trim(), "%H:%M")
        .map_err(|_| format!("{at:?} is not a time of day: write HH:MM, such as `08:00`"))?;
    use chrono::Timelike;
    Ok(format!("{} {}", t.minute(), t.hour()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> UnixMillis {
        UnixMillis(
            tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
                .unwrap()
                .timestamp_millis(),
        )
    }

    #[test]
    fn plain_forms_and_cron_give_the_next_time_in_their_zone() {
        let berlin = Tz::Europe__Berlin;
        // Friday 2026-11-20, 10:00 in Berlin.
        let now = at(berlin, 2026, 11, 20, 10, 0);
        let cases = [
            ("every 30m", None, UnixMillis(now.0 + 30 * 60_000)),
            (
                "daily 08:00",
                Some("Europe/Berlin"),
                at(berlin, 2026, 11, 21, 8, 0),
            ),
            (
                "weekdays 09:00",
                Some("Europe/Berlin"),
                at(berlin, 2026, 11, 23, 9, 0),
            ),
            (
                "0 12 * * *",
                Some("Europe/Berlin"),
                at(berlin, 2026, 11, 20, 12, 0),
            ),
            ("0 12 * * *", None, at(Tz::UTC, 2026, 11, 20, 12, 0)),
            (
                "Daily 23:30",
                Some("Asia/Tokyo"),
                at(Tz::Asia__Tokyo, 2026, 11, 20, 23, 30),
            ),
        ];
        for (text, tz, want) in cases {
            let s = Schedule::parse(text, tz).unwrap();
            assert_eq!(s.next_after(now), Some(want), "{text} in {tz:?}");
        }
    }

    #[test]
    fn a_daily_time_follows_daylight_saving() {
        let berlin = Tz::Europe__Berlin;
        let s = Schedule::parse("daily 08:00", Some("Europe/Berlin")).unwrap();
        // Clocks go back on 2026-10-25: 08:00 is still 08:00 local.
        let before = at(berlin, 2026, 10, 24, 9, 0);
        let next = s.next_after(before).unwrap();
        assert_eq!(next, at(berlin, 2026, 10, 25, 8, 0));
        assert_eq!(next.0 - at(berlin, 2026, 10, 24, 8, 0).0, 25 * 3_600_000);
    }

    #[test]
    fn bad_schedules_say_what_works() {
        for (text, tz, want) in [
            ("every day", None, "not an interval"),
            ("daily 25:00", None, "not a time of day"),
            ("sometimes", None, "not a schedule"),
            ("61 * * * *", None, "not a cron expression"),
            ("daily 08:00", Some("Mars/Olympus"), "unknown time zone"),
        ] {
            let e = Schedule::parse(text, tz).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
        assert!(
            Schedule::parse("sometimes", None)
                .unwrap_err()
                .contains("weekdays 09:00")
        );
    }

    #[test]
    fn the_shortest_gap_is_held_against_the_minimum() {
        let now = UnixMillis(0);
        let gap = |t: &str| Schedule::parse(t, None).unwrap().shortest_gap(now);
        assert_eq!(gap("every 90s"), Some(Duration::from_secs(90)));
        assert_eq!(gap("* * * * *"), Some(Duration::from_secs(60)));
        assert_eq!(gap("*/15 * * * *"), Some(Duration::from_secs(900)));
        assert_eq!(gap("daily 08:00"), Some(Duration::from_secs(86_400)));
    }
}
