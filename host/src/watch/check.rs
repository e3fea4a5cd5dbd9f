//! One check of one watcher: fetch what its plan names, hand each answer to
//! its kind's rule, and gather the new memory and the notifications to
//! send. Sends nothing and stores nothing (the runner does, and a check
//! asked for by hand may only want to see what would be sent).

use super::feed::{self, Item, Seen};
use super::fetch::{Fetch, FetchError, Fetched};
use super::model::{Plan, WatchKind};
use super::schedule::Schedule;
use super::template;
use super::threshold::{self, Level};
use super::web::{self, Page};
use crate::notification::Notification;
use crate::store::UnixMillis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a watcher remembers between checks (stored as JSON), keyed by URL
/// where a watcher has several.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Memory {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pages: BTreeMap<String, Page>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub feeds: BTreeMap<String, Seen>,
    /// New feed items kept for the next digest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_digest_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

impl Memory {
    /// As stored; a shape this version does not read starts over (the
    /// next check is a baseline again) rather than failing every check.
    pub fn from_json(v: &serde_json::Value) -> Memory {
        if v.is_null() {
            return Memory::default();
        }
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub memory: Memory,
    pub notifications: Vec<Notification>,
    /// A URL that could not be fetched or read; the others still count.
    pub errors: Vec<String>,
    /// One line for the watcher's `last_result`.
    pub result: String,
    /// When the check must run again apart from its cadence (a digest).
    pub also_due: Option<UnixMillis>,
}

impl Checked {
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Run one check at `now`, with `timeout` for all its fetches.
pub async fn run(
    plan: &Plan,
    mut memory: Memory,
    fetch: &dyn Fetch,
    now: UnixMillis,
    timeout: Duration,
) -> Checked {
    let deadline = tokio::time::Instant::now() + timeout;
    let fetched: Vec<(url::Url, Result<Fetched, FetchError>)> = futures::future::join_all(
        plan.urls
            .iter()
            .map(|u| async move { (u.clone(), fetch.fetch(u, deadline).await) }),
    )
    .await;
    let mut notifications = Vec::new();
    let mut errors = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut fail = |e: String| errors.push(e);
    match &plan.spec.kind {
        WatchKind::Schedule(_) => notifications.push(scheduled(plan, now)),
        WatchKind::Web(_) => {
            for (url, got) in fetched {
                let lines = got.map_err(|e| e.to_string()).and_then(|f| {
                    web::page_lines(&f.body, f.content_type.as_deref(), plan.selector.as_ref())
                        .map_err(|e| format!("{}: {e}", super::model::mask_url(url.as_str())))
                });
                match lines {
                    Err(e) => fail(e),
                    Ok(lines) => {
                        let key = url.to_string();
                        let prev = memory.pages.get(&key);
                        if prev.is_none() {
                            notes.push("baseline recorded".into());
                        }
                        let (page, change) = web::compare(prev, lines, &plan.keywords);
                        memory.pages.insert(key, page);
                        if let Some(change) = change {
                            notifications.push(web::message(plan, &url, &change));
                        }
                    }
                }
            }
        }
        WatchKind::Feed(_) => {
            let mut fresh = Vec::new();
            for (url, got) in fetched {
                match got
                    .map_err(|e| e.to_string())
                    .and_then(|f| feed::items(&f.body, &url))
                {
                    Err(e) => fail(e),
                    Ok(items) => {
                        let key = url.to_string();
                        let prev = memory.feeds.get(&key);
                        if prev.is_none() {
                            notes.push("baseline recorded".into());
                        }
                        let (seen, new) = feed::new_items(prev, items, &plan.keywords);
                        memory.feeds.insert(key, seen);
                        fresh.extend(new);
                    }
                }
            }
            match &plan.digest {
                None => notifications.extend(fresh.iter().map(|i| feed::message(plan, i))),
                Some(schedule) => {
                    if !fresh.is_empty() {
                        notes.push(format!("{} new for the digest", fresh.len()));
                    }
                    memory.digest.extend(fresh);
                    let overflow = memory.digest.len().saturating_sub(feed::DIGEST);
                    memory.digest.drain(..overflow);
                    let due = *memory
                        .next_digest_at
                        .get_or_insert_with(|| next(schedule, now).0);
                    if now.0 >= due {
                        notifications.extend(feed::digest(plan, &memory.digest));
                        memory.digest.clear();
                        memory.next_digest_at = Some(next(schedule, now).0);
                    }
                }
            }
        }
        WatchKind::Threshold(_) => {
            for (url, got) in fetched {
                let read = got.map_err(|e| e.to_string()).and_then(|f| {
                    plan.reading
                        .as_ref()
                        .ok_or_else(|| "no reading".to_string())
                        .and_then(|r| threshold::read(&f.body, r))
                });
                match (read, plan.level) {
                    (Err(e), _) => fail(e),
                    (Ok(_), None) => fail("no level".into()),
                    (Ok(value), Some(level)) => {
                        let prev = memory.level.unwrap_or_default();
                        let (now_level, event) =
                            threshold::judge(level, plan.hysteresis, prev, value);
                        memory.level = Some(now_level);
                        notes.push(format!("value {value}"));
                        if let Some(e) = event {
                            notifications.push(threshold::message(plan, &url, value, e));
                        }
                    }
                }
            }
        }
    }
    let result = summary(&notifications, &errors, &notes);
    Checked {
        also_due: memory.next_digest_at.map(UnixMillis),
        memory,
        notifications,
        errors,
        result,
    }
}

fn next(schedule: &Schedule, now: UnixMillis) -> UnixMillis {
    // A schedule that never comes again waits a year rather than spinning.
    schedule
        .next_after(now)
        .unwrap_or(now.plus(Duration::from_secs(365 * 86_400)))
}

fn summary(sent: &[Notification], errors: &[String], notes: &[String]) -> String {
    let mut parts = Vec::new();
    if !errors.is_empty() {
        parts.push(format!("failed: {}", errors.join("; ")));
    }
    match sent.len() {
        0 => {}
        1 => parts.push("1 notification".into()),
        n => parts.push(format!("{n} notifications")),
    }
    let mut seen = Vec::new();
    for n in notes {
        if !seen.contains(n) {
            seen.push(n.clone());
        }
    }
    parts.extend(seen);
    if parts.is_empty() {
        "no change".into()
    } else {
        parts.join("; ")
    }
}

/// A schedule's fixed notification; `{time}` is when it fired, in its zone.
fn scheduled(plan: &Plan, now: UnixMillis) -> Notification {
    let tz = match &plan.cadence {
        Schedule::Cron { tz, .. } => *tz,
        Schedule::Every(_) => chrono_tz::Tz::UTC,
    };
    let time = chrono::DateTime::from_timestamp_millis(now.0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string();
    let values = [("name", plan.spec.name.as_str()), ("time", time.as_str())];
    let notify = &plan.spec.notify;
    let title = template::render(notify.title.as_deref().unwrap_or("{name}"), &values);
    let body = notify
        .body
        .as_deref()
        .map(|b| template::render(b, &values))
        .unwrap_or_default();
    let mut n = Notification::new(title, body);
    n.format = notify.format;
    n.priority = notify.priority;
    n.tags = notify.tags.clone();
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::model::{WatchSettings, WatcherSpec};
    use std::sync::Mutex;

    /// A content type and a body, or why there is none.
    type Answer = Result<(String, String), FetchError>;

    /// Canned answers by URL, changed between checks.
    #[derive(Default)]
    struct Canned(Mutex<BTreeMap<String, Answer>>);

    impl Canned {
        fn set(&self, url: &str, ct: &str, body: &str) {
            self.0
                .lock()
                .unwrap()
                .insert(url.into(), Ok((ct.into(), body.into())));
        }
        fn fail(&self, url: &str, e: FetchError) {
            self.0.lock().unwrap().insert(url.into(), Err(e));
        }
    }

    impl Fetch for Canned {
        fn fetch<'a>(
            &'a self,
            url: &'a url::Url,
            _deadline: tokio::time::Instant,
        ) -> futures::future::BoxFuture<'a, Result<Fetched, FetchError>> {
            let got = self.0.lock().unwrap().get(url.as_str()).cloned();
            Box::pin(async move {
                let (ct, body) = got.unwrap_or(Err(FetchError::Status {
                    status: 404,
                    url: url.to_string(),
                }))?;
                Ok(Fetched {
                    url: url.clone(),
                    content_type: Some(ct),
                    body: body.into_bytes().into(),
                })
            })
        }
    }

    fn plan(v: serde_json::Value) -> Plan {
        WatcherSpec::from_json(v)
            .unwrap()
            .plan(&WatchSettings::default(), UnixMillis(0))
            .unwrap()
    }

    async fn check(plan: &Plan, m: Memory, f: &Canned, at: i64) -> Checked {
        run(plan, m, f, UnixMillis(at), Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn a_feed_digest_keeps_items_until_its_time() {
        const URL: &str = "https://t.example/feed";
        let rss = |items: &[(&str, &str)]| {
            let items: String = items
                .iter()
                .map(|(id, t)| format!("<item><title>{t}</title><guid>{id}</guid></item>"))
                .collect();
            format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
        };
        // Daily at 08:00 UTC; day 0 is 1970-01-01.
        let p = plan(
            serde_json::json!({"name": "d", "kind": "feed", "urls": [URL],
                                        "every": "1h", "digest": "daily 08:00"}),
        );
        let f = Canned::default();
        let hour = 3_600_000;
        f.set(URL, "application/rss+xml", &rss(&[("1", "one")]));
        let c = check(&p, Memory::default(), &f, hour).await;
        assert_eq!(c.result, "baseline recorded");
        assert_eq!(c.also_due, Some(UnixMillis(8 * hour)));
        f.set(
            URL,
            "application/rss+xml",
            &rss(&[("2", "two"), ("1", "one")]),
        );
        let c = check(&p, c.memory, &f, 2 * hour).await;
        assert!(c.notifications.is_empty());
        assert_eq!(c.result, "1 new for the digest");
        f.set(
            URL,
            "application/rss+xml",
            &rss(&[("3", "three"), ("2", "two"), ("1", "one")]),
        );
        let c = check(&p, c.memory, &f, 8 * hour).await;
        assert_eq!(c.notifications.len(), 1);
        assert_eq!(c.notifications[0].title, "d: 2 new items");
        assert!(c.memory.digest.is_empty());
        assert_eq!(c.also_due, Some(UnixMillis(32 * hour)));
    }

    #[tokio::test]
    async fn one_failing_url_is_reported_and_the_others_still_count() {
        let p = plan(
            serde_json::json!({"name": "w", "kind": "web", "every": "5m",
            "urls": ["https://a.example/", "https://b.example/"]}),
        );
        let f = Canned::default();
        f.set("https://a.example/", "text/plain", "one");
        f.fail(
            "https://b.example/",
            FetchError::Status {
                status: 500,
                url: "https://b.example/".into(),
            },
        );
        let c = check(&p, Memory::default(), &f, 0).await;
        assert!(c.failed());
        assert_eq!(
            c.result,
            "failed: HTTP 500 from https://b.example/; baseline recorded"
        );
        assert_eq!(c.memory.pages.len(), 1);
    }

    #[tokio::test]
    async fn a_schedule_sends_its_notification_with_the_time() {
        let p = plan(serde_json::json!({"name": "standup", "kind": "schedule",
            "schedule": "weekdays 09:00", "timezone": "Europe/Berlin",
            "title": "Status check", "body": "It is {time}", "tags": ["daily"]}));
        // 2026-11-20 08:00 UTC = 09:00 in Berlin.
        let at = 1_795_161_600_000;
        let c = check(&p, Memory::default(), &Canned::default(), at).await;
        assert_eq!(c.notifications.len(), 1);
        assert_eq!(c.notifications[0].title, "Status check");
        assert_eq!(c.notifications[0].body, "It is 2026-11-20 09:00 CET");
        assert_eq!(c.notifications[0].tags, ["daily"]);
        assert_eq!(c.result, "1 notification");
    }
}
