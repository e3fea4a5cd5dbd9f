//! Which channels get a notification, and when: the explicit channel list,
//! SKIP_PUSH_TITLE, and each channel's rules (kinds, priority, tags, quiet hours).

use super::HubError;
use crate::config::{Channel, Kind, QuietHours, Rules};
use crate::notification::{Notification, Priority};
use crate::store::{DeliveryPlan, UnixMillis};
use chrono::{DateTime, Duration as ChronoDuration, NaiveTime, TimeZone, Utc};

#[derive(Debug, Clone, Default)]
pub struct Route {
    /// Exact titles that are never sent (notify.py's SKIP_PUSH_TITLE).
    pub skip_titles: Vec<String>,
}

impl Route {
    pub fn skip_reason(&self, msg: &Notification) -> Option<String> {
        self.skip_titles
            .contains(&msg.title)
            .then(|| format!("the title {:?} is listed in SKIP_PUSH_TITLE", msg.title))
    }
}

/// All channels, or the named ones (each name must exist).
pub fn select<'a>(channels: &'a [Channel], only: &[String]) -> Result<Vec<&'a Channel>, HubError> {
    if only.is_empty() {
        return Ok(channels.iter().collect());
    }
    only.iter()
        .map(|name| {
            channels
                .iter()
                .find(|c| c.id.as_str() == name)
                .ok_or_else(|| HubError::UnknownChannel {
                    name: name.clone(),
                    known: channels.iter().map(|c| c.id.to_string()).collect(),
                })
        })
        .collect()
}

/// What one channel's rules make of a notification at `now`.
pub fn plan(channel: &Channel, msg: &Notification, now: UnixMillis) -> DeliveryPlan {
    let rules = &channel.rules;
    let mut plan = DeliveryPlan::now(channel.id.clone());
    plan.skip = refusal(rules, msg);
    if plan.skip.is_none()
        && msg.priority < Priority::Urgent
        && let Some(q) = &rules.quiet_hours
    {
        plan.not_before = quiet_until(q, now);
    }
    if !rules.update_interval.is_zero() {
        plan.update_interval = Some(rules.update_interval);
    }
    plan
}

/// Why the rules say this channel does not get it at all.
fn refusal(rules: &Rules, msg: &Notification) -> Option<String> {
    let kind = match &msg.event {
        None => Kind::Message,
        Some(e) => Kind::Run(e.kind),
    };
    if let Some(kinds) = &rules.events
        && !kinds.contains(&kind)
    {
        let name = match kind {
            Kind::Message => "message",
            Kind::Run(k) => k.as_str(),
        };
        return Some(format!(
            "the channel's `events` rule does not include {name}"
        ));
    }
    if msg.priority < rules.min_priority {
        return Some(
            format!(
                "priority {:?} is below the channel's min_priority {:?}",
                msg.priority, rules.min_priority
            )
            .to_lowercase(),
        );
    }
    if !rules.tags.is_empty() && !msg.tags.iter().any(|t| rules.tags.contains(t)) {
        return Some(format!(
            "no tag matches the channel's `tags` ({})",
            rules.tags.join(", ")
        ));
    }
    None
}

/// If `now` falls inside the quiet window, when it ends.
pub fn quiet_until(q: &QuietHours, now: UnixMillis) -> Option<UnixMillis> {
    let utc = DateTime::<Utc>::from_timestamp_millis(now.0)?;
    match q.timezone {
        Some(tz) => window_end(q.from, q.to, &utc.with_timezone(&tz)),
        None => window_end(q.from, q.to, &utc.with_timezone(&chrono::Local)),
    }
}

fn window_end<Tz: TimeZone>(
    from: NaiveTime,
    to: NaiveTime,
    now: &DateTime<Tz>,
) -> Option<UnixMillis> {
    let t = now.time();
    let inside = if from < to {
        from <= t && t < to
    } else {
        t >= from || t < to
    };
    if !inside {
        return None;
    }
    let mut day = now.date_naive();
    if t >= to {
        day = day.succ_opt()?;
    }
    let end_local = day.and_time(to);
    // A window that ends in a DST gap ends at the first valid instant after it.
    let end = (0..=2).find_map(|h| {
        now.timezone()
            .from_local_datetime(&(end_local + ChronoDuration::hours(h)))
            .earliest()
    })?;
    Some(UnixMillis(end.timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> UnixMillis {
        UnixMillis(
            tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
                .unwrap()
                .timestamp_millis(),
        )
    }

    fn q(from: &str, to: &str, tz: Tz) -> QuietHours {
        QuietHours {
            from: NaiveTime::parse_from_str(from, "%H:%M").unwrap(),
            to: NaiveTime::parse_from_str(to, "%H:%M").unwrap(),
            timezone: Some(tz),
        }
    }

    #[test]
    fn overnight_window_holds_until_morning_in_its_zone() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let w = q("22:00", "08:00", tz);
        // 23:30 in Shanghai: held until 08:00 the next day there.
        assert_eq!(
            quiet_until(&w, at(tz, 2026, 11, 21, 23, 30)),
            Some(at(tz, 2026, 11, 22, 8, 0))
        );
        // 03:00: held until 08:00 the same day.
        assert_eq!(
            quiet_until(&w, at(tz, 2026, 11, 22, 3, 0)),
            Some(at(tz, 2026, 11, 22, 8, 0))
        );
        // 08:00 and noon are outside.
        assert_eq!(quiet_until(&w, at(tz, 2026, 11, 22, 8, 0)), None);
        assert_eq!(quiet_until(&w, at(tz, 2026, 11, 22, 12, 0)), None);
    }

    #[test]
    fn daytime_window() {
        let tz: Tz = "UTC".parse().unwrap();
        let w = q("12:00", "13:30", tz);
        assert_eq!(
            quiet_until(&w, at(tz, 2026, 1, 1, 12, 10)),
            Some(at(tz, 2026, 1, 1, 13, 30))
        );
        assert_eq!(quiet_until(&w, at(tz, 2026, 1, 1, 11, 59)), None);
    }

    #[test]
    fn a_window_ending_in_a_dst_gap_ends_after_it() {
        // Berlin skips 02:00-03:00 on 2026-03-29.
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let w = q("23:00", "02:30", tz);
        let end = quiet_until(&w, at(tz, 2026, 3, 29, 1, 0)).unwrap();
        assert_eq!(end, at(tz, 2026, 3, 29, 3, 30));
    }
}
