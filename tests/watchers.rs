//! Watchers end to end, in process: a hub on a SQLite store with a webhook
//! channel, a manual clock, and local HTTP servers whose pages, feeds and
//! numbers the tests change between checks. Checks run when a test calls
//! `Runner::tick` after moving the clock, so nothing waits for minutes.
//! What a watcher sent is read back from the event log (source `watcher`,
//! with its id); one test follows it to the webhook through the outbox.

mod support;

use mcp_push::app::{App, AppOptions};
use mcp_push::hub::{Clock, Hub};
use mcp_push::ops::watchers::{self, WatcherRef, WatcherView};
use mcp_push::store::{
    ClaimScope, EventQuery, Source, Store, StoredEvent, UnixMillis, WatcherOrigin,
};
use mcp_push::watch::fetch::{Fetch, FetchError};
use mcp_push::watch::{Fetcher, Runner, WatchSettings};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Mock, Reply};

const MIN: i64 = 60_000;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A status, a content type and a body.
type Page = (u16, String, String);

/// A site whose pages the test rewrites, by path.
#[derive(Clone, Default)]
struct Site {
    pages: Arc<Mutex<HashMap<String, Page>>>,
}

impl Site {
    fn start() -> (Site, Mock) {
        let site = Site::default();
        let pages = site.pages.clone();
        let mock = Mock::service(move |r| match pages.lock().unwrap().get(r.path()) {
            Some((status, ct, body)) => Reply::text(*status, body).header("content-type", ct),
            None => Reply::not_found(),
        });
        (site, mock)
    }

    fn set(&self, path: &str, ct: &str, body: &str) {
        self.set_status(path, 200, ct, body);
    }

    fn set_status(&self, path: &str, status: u16, ct: &str, body: &str) {
        self.pages
            .lock()
            .unwrap()
            .insert(path.into(), (status, ct.into(), body.into()));
    }
}

fn html(lines: &[&str]) -> String {
    let body: String = lines.iter().map(|l| format!("<p>{l}</p>")).collect();
    format!(
        "<html><head><title>x</title></head><body><nav>Menu</nav><main>{body}</main></body></html>"
    )
}

fn rss(items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(id, title)| {
            format!("<item><title>{title}</title><link>https://news.example/{id}</link><guid>{id}</guid></item>")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>{items}</channel></rss>"
    )
}

/// One hub on a store in `dir`, its watchers allowed to fetch 127.0.0.1.
struct Bench {
    dir: PathBuf,
    /// Kept alive: the channels run on its plugin runtime.
    _app: App,
    hub: Arc<Hub>,
    clock: Clock,
    runner: Arc<Runner>,
}

fn settings() -> WatchSettings {
    WatchSettings {
        allow_hosts: vec!["127.0.0.1".into()],
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

impl Bench {
    async fn open(dir: &std::path::Path, hook: &Mock, clock: Clock) -> Bench {
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "from_env = false\n[channels.phone]\nplugin = \"webhook\"\nurl = \"{}\"\n",
                hook.url("/hook")
            ),
        )
        .unwrap();
        let app = App::load(&AppOptions {
            config: Some(config),
            plugins_dir: None,
            cache_dir: Some(support::shared_cache_dir()),
            db: Some(dir.join("hub.db")),
            ..Default::default()
        })
        .await
        .unwrap();
        let hub = Arc::new(app.hub_with_clock(app.open_store().unwrap(), clock.clone()));
        let runner = Arc::new(Runner::new(hub.clone(), settings()).unwrap());
        Bench {
            dir: dir.to_path_buf(),
            _app: app,
            hub,
            clock,
            runner,
        }
    }

    async fn create(&self, spec: Value) -> WatcherView {
        watchers::create(&self.runner, spec, WatcherOrigin::Api)
            .await
            .unwrap()
    }

    async fn get(&self, name: &str) -> WatcherView {
        watchers::get(&self.runner, &WatcherRef::parse(name))
            .await
            .unwrap()
    }

    /// Move the clock by `minutes` and run what is due; how many checks ran.
    async fn after(&self, minutes: i64) -> usize {
        self.clock
            .set(UnixMillis(self.clock.now().0 + minutes * MIN));
        self.runner.tick().await.unwrap()
    }

    /// Move the clock to the watcher's next check and run what is due.
    async fn at_next_check(&self, name: &str) -> usize {
        let next = self.get(name).await.status.next_check_at.unwrap();
        self.clock.set(next.max(self.clock.now()));
        self.runner.tick().await.unwrap()
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.hub.store()
    }

    /// Every event the watcher raised, oldest first.
    fn events_of(&self, w: &WatcherView) -> Vec<StoredEvent> {
        self.store()
            .events(&EventQuery {
                watcher: Some(w.id),
                limit: 1_000,
                ..Default::default()
            })
            .unwrap()
    }
}

/// 2026-11-20 (a Friday) 08:00 in Berlin.
fn friday_morning() -> UnixMillis {
    use chrono::TimeZone;
    UnixMillis(
        chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
            .unwrap()
            .timestamp_millis(),
    )
}

fn setup() -> (tempfile::TempDir, Mock) {
    (tempfile::tempdir().unwrap(), Mock::start())
}

#[test]
fn a_page_change_fires_once_with_what_changed_and_reaches_the_channel() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set("/page", "text/html", &html(&["Old story", "Weather"]));
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let worker = b.hub.spawn_worker(ClaimScope::All);
        let w = b
            .create(json!({"name": "front-page", "kind": "web", "every": "5m",
                           "urls": [server.url("/page")], "selector": "main"}))
            .await;
        assert_eq!(
            b.runner.tick().await.unwrap(),
            1,
            "the baseline runs at once"
        );
        assert_eq!(
            b.get("front-page").await.status.last_result.as_deref(),
            Some("baseline recorded")
        );
        assert_eq!(
            b.runner.tick().await.unwrap(),
            0,
            "nothing is due before 5 minutes"
        );
        assert_eq!(b.after(5).await, 1);
        assert!(b.events_of(&w).is_empty(), "unchanged: nothing sent");

        site.set("/page", "text/html", &html(&["New story", "Weather"]));
        assert_eq!(b.after(5).await, 1);
        let events = b.events_of(&w);
        assert_eq!(events.len(), 1);
        let ev = &events[0];
        assert_eq!(ev.source, Source::Watcher);
        assert_eq!(ev.watcher, Some(w.id));
        assert_eq!(ev.notification.title, "front-page: 127.0.0.1 changed");
        assert!(
            ev.notification.body.contains("+ New story"),
            "{}",
            ev.notification.body
        );
        assert!(
            ev.notification.body.contains("- Old story"),
            "{}",
            ev.notification.body
        );
        assert!(
            !ev.notification.body.contains("Menu"),
            "outside the selector"
        );
        assert_eq!(
            ev.notification.link.as_deref(),
            Some(server.url("/page").as_str())
        );
        let now = b.get("front-page").await;
        assert_eq!(now.status.last_fired_at, Some(b.clock.now()));
        assert_eq!(
            now.status.next_check_at,
            Some(UnixMillis(b.clock.now().0 + 5 * MIN))
        );

        // Delivered through the ordinary outbox to the configured channel.
        let until = Instant::now() + Duration::from_secs(20);
        while hook.requests_to("/hook").is_empty() {
            assert!(
                Instant::now() < until,
                "the watcher's event never reached the webhook"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            hook.requests_to("/hook")[0].json()["title"],
            "front-page: 127.0.0.1 changed"
        );
        worker.finish().await;
    });
}

#[test]
fn a_keyword_fires_only_when_a_new_line_mentions_it() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set(
        "/news",
        "text/html",
        &html(&["AI was news last week", "Sports"]),
    );
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let w = b
            .create(json!({"name": "ai-news", "kind": "web", "every": "30m",
                           "urls": [server.url("/news")], "keywords": ["ai"]}))
            .await;
        b.runner.tick().await.unwrap();
        site.set(
            "/news",
            "text/html",
            &html(&["AI was news last week", "Football"]),
        );
        assert_eq!(b.after(30).await, 1);
        assert!(b.events_of(&w).is_empty(), "a change without the keyword");
        site.set(
            "/news",
            "text/html",
            &html(&["New AI model released", "AI was news last week", "Football"]),
        );
        assert_eq!(b.after(30).await, 1);
        let events = b.events_of(&w);
        assert_eq!(events.len(), 1);
        let n = &events[0].notification;
        assert_eq!(n.title, "ai-news: ai on 127.0.0.1");
        assert!(n.body.contains("> New AI model released"), "{}", n.body);
        assert!(
            !n.body.contains("last week"),
            "only new lines are quoted: {}",
            n.body
        );
        assert_eq!(n.link.as_deref(), Some(server.url("/news").as_str()));
    });
}

#[test]
fn a_feed_sends_each_new_item_or_a_digest_grouped_by_feed() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set("/feed", "application/rss+xml", &rss(&[("1", "First")]));
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let each = b
            .create(json!({"name": "each", "kind": "feed", "every": "10m",
                           "urls": [server.url("/feed")]}))
            .await;
        let digest = b
            .create(json!({"name": "morning", "kind": "feed", "every": "10m",
                           "urls": [server.url("/feed")], "digest": "daily 09:00",
                           "timezone": "Europe/Berlin"}))
            .await;
        assert_eq!(
            b.runner.tick().await.unwrap(),
            2,
            "both take their baseline"
        );
        site.set(
            "/feed",
            "application/rss+xml",
            &rss(&[("3", "Third"), ("2", "Second"), ("1", "First")]),
        );
        assert_eq!(b.after(10).await, 2);
        let titles: Vec<String> = b
            .events_of(&each)
            .iter()
            .map(|e| e.notification.title.clone())
            .collect();
        assert_eq!(titles, ["each: Third", "each: Second"]);
        assert_eq!(
            b.events_of(&each)[0].notification.link.as_deref(),
            Some("https://news.example/3")
        );
        assert!(b.events_of(&digest).is_empty(), "kept for the digest");
        assert_eq!(
            b.get("morning").await.status.last_result.as_deref(),
            Some("2 new for the digest")
        );
        site.set(
            "/feed",
            "application/rss+xml",
            &rss(&[
                ("4", "Fourth"),
                ("3", "Third"),
                ("2", "Second"),
                ("1", "First"),
            ]),
        );
        // 08:40: one more item, still no digest; the check at 09:00 sends it.
        assert_eq!(b.after(30).await, 2);
        assert!(b.events_of(&digest).is_empty());
        assert_eq!(
            b.get("morning").await.status.next_check_at,
            Some(UnixMillis(friday_morning().0 + 50 * MIN))
        );
        assert_eq!(b.after(20).await, 2);
        let sent = b.events_of(&digest);
        assert_eq!(sent.len(), 1, "one digest");
        assert_eq!(sent[0].notification.title, "morning: 3 new items");
        assert_eq!(
            sent[0].notification.body,
            "News\n- Third\n  https://news.example/3\n- Second\n  https://news.example/2\n\
             - Fourth\n  https://news.example/4"
        );
        assert_eq!(b.events_of(&each).len(), 3);
        // Nothing new: no second digest the next morning.
        b.after(24 * 60).await;
        assert_eq!(b.events_of(&digest).len(), 1);
    });
}

#[test]
fn a_threshold_fires_on_crossing_and_on_recovery_and_at_no_other_check() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    let price = |v: f64| json!({"bitcoin": {"usd": v}}).to_string();
    site.set("/price", "application/json", &price(48_000.0));
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let w = b
            .create(json!({"name": "btc", "kind": "threshold", "every": "1m",
                           "url": server.url("/price"), "pointer": "/bitcoin/usd",
                           "above": 50000, "hysteresis": 500,
                           "title": "BTC {direction} {threshold}: {value}"}))
            .await;
        for v in [
            48_000.0, 50_500.0, 52_000.0, 49_800.0, 50_100.0, 49_000.0, 48_000.0,
        ] {
            site.set("/price", "application/json", &price(v));
            assert_eq!(b.at_next_check("btc").await, 1);
        }
        let titles: Vec<String> = b
            .events_of(&w)
            .iter()
            .map(|e| e.notification.title.clone())
            .collect();
        assert_eq!(
            titles,
            ["BTC above 50000: 50500", "BTC back below 50000: 49000"]
        );
        assert!(
            b.get("btc")
                .await
                .status
                .last_result
                .unwrap()
                .contains("value 48000")
        );
    });
}

#[test]
fn a_failing_source_says_so_once_and_once_more_when_it_recovers() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set_status("/flaky", 500, "text/plain", "down");
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let w = b
            .create(
                json!({"name": "flaky", "kind": "web", "every": "10m", "fail_after": 3,
                           "urls": [server.url("/flaky")], "channels": ["phone"]}),
            )
            .await;
        let mut waits = Vec::new();
        for _ in 0..5 {
            let before = b.clock.now();
            assert_eq!(b.at_next_check("flaky").await, 1);
            let s = b.get("flaky").await.status;
            waits.push((s.next_check_at.unwrap().0 - before.0.max(b.clock.now().0)) / MIN);
        }
        // Backoff: 1, 2, 4, 8 minutes, then the watcher's own 10.
        assert_eq!(waits, [1, 2, 4, 8, 10]);
        let s = b.get("flaky").await.status;
        assert_eq!(s.consecutive_failures, 5);
        assert!(
            s.last_error.as_deref().unwrap().contains("HTTP 500"),
            "{s:?}"
        );
        let titles = |b: &Bench| -> Vec<String> {
            b.events_of(&w)
                .iter()
                .map(|e| e.notification.title.clone())
                .collect()
        };
        assert_eq!(titles(&b), ["Watcher flaky is failing"]);
        assert!(b.events_of(&w)[0].notification.body.contains("HTTP 500"));

        site.set("/flaky", "text/plain", "up again");
        assert_eq!(b.at_next_check("flaky").await, 1);
        assert_eq!(
            titles(&b),
            ["Watcher flaky is failing", "Watcher flaky recovered"]
        );
        let s = b.get("flaky").await.status;
        assert_eq!((s.consecutive_failures, s.last_error), (0, None));
        b.at_next_check("flaky").await;
        assert_eq!(titles(&b).len(), 2);
    });
}

#[test]
fn a_failing_watcher_does_not_hold_up_the_others() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set("/ok", "text/plain", "one");
    let hanging = Mock::start();
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        // A server that does not answer within the check's timeout.
        let slow = b
            .create(json!({"name": "slow", "kind": "web", "every": "5m",
                           "urls": [hanging.url("/slow/60000")]}))
            .await;
        b.create(json!({"name": "fine", "kind": "web", "every": "5m",
                        "urls": [server.url("/ok")]}))
            .await;
        let started = Instant::now();
        assert_eq!(b.runner.tick().await.unwrap(), 2);
        assert!(started.elapsed() < Duration::from_secs(15));
        assert_eq!(
            b.get("fine").await.status.last_result.as_deref(),
            Some("baseline recorded")
        );
        let s = b.get("slow").await.status;
        assert!(
            s.last_error.unwrap().contains("no answer within"),
            "{:?}",
            s.last_result
        );
        assert!(b.events_of(&slow).is_empty());
    });
}

#[test]
fn a_schedule_fires_at_its_time_in_its_zone() {
    let (dir, hook) = setup();
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let w = b
            .create(
                json!({"name": "standup", "kind": "schedule", "schedule": "weekdays 09:00",
                           "timezone": "Europe/Berlin", "title": "Status check",
                           "body": "Time for the status check ({time})", "priority": "high"}),
            )
            .await;
        assert_eq!(
            w.status.next_check_at,
            Some(UnixMillis(friday_morning().0 + 60 * MIN))
        );
        assert_eq!(b.after(59).await, 0);
        assert_eq!(b.after(1).await, 1);
        let events = b.events_of(&w);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].notification.title, "Status check");
        assert_eq!(
            events[0].notification.body,
            "Time for the status check (2026-11-20 09:00 CET)"
        );
        // Next: Monday 09:00, over the weekend.
        let next = b.get("standup").await.status.next_check_at.unwrap();
        assert_eq!(next.0 - b.clock.now().0, 3 * 24 * 60 * MIN);
        // Paused over Monday's time and resumed at 10:00: Tuesday's is next,
        // Monday's is not sent late.
        let standup = WatcherRef::parse("standup");
        watchers::pause(&b.runner, &standup).await.unwrap();
        assert_eq!(b.after((3 * 24 + 1) * 60).await, 0);
        let resumed = watchers::resume(&b.runner, &standup).await.unwrap();
        assert_eq!(
            resumed.status.next_check_at,
            Some(UnixMillis(b.clock.now().0 + 23 * 60 * MIN))
        );
        assert_eq!(b.runner.tick().await.unwrap(), 0);
        assert_eq!(b.events_of(&w).len(), 1);
    });
}

#[test]
fn a_restart_keeps_what_was_seen_and_runs_a_missed_check_once() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set("/page", "text/plain", "before");
    let clock = Clock::manual(friday_morning());
    rt().block_on(async {
        let first = Bench::open(dir.path(), &hook, clock.clone()).await;
        first
            .create(json!({"name": "page", "kind": "web", "every": "5m",
                           "urls": [server.url("/page")]}))
            .await;
        first.runner.tick().await.unwrap();
        drop(first);
    });
    // Down for three hours (36 checks missed); the page changed meanwhile.
    site.set("/page", "text/plain", "after");
    clock.set(UnixMillis(friday_morning().0 + 180 * MIN));
    rt().block_on(async {
        let again = Bench::open(dir.path(), &hook, clock.clone()).await;
        let requests = server.requests_to("/page").len();
        assert_eq!(
            again.runner.tick().await.unwrap(),
            1,
            "one check, not a burst"
        );
        assert_eq!(server.requests_to("/page").len(), requests + 1);
        let w = again.get("page").await;
        let events = again.events_of(&w);
        assert_eq!(
            events.len(),
            1,
            "the change is found against the kept baseline"
        );
        assert!(events[0].notification.body.contains("+ after"));
        assert_eq!(
            w.status.next_check_at,
            Some(UnixMillis(clock.now().0 + 5 * MIN))
        );
        assert_eq!(again.runner.tick().await.unwrap(), 0);
        let _ = &again.dir;
    });
}

#[test]
fn two_hubs_on_one_store_run_each_check_once() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    let names: Vec<String> = (0..6).map(|i| format!("w{i}")).collect();
    for n in &names {
        site.set(&format!("/{n}"), "text/plain", "same");
    }
    let clock = Clock::manual(friday_morning());
    rt().block_on(async {
        let a = Bench::open(dir.path(), &hook, clock.clone()).await;
        let b = Bench::open(dir.path(), &hook, clock.clone()).await;
        for n in &names {
            a.create(json!({"name": n, "kind": "web", "every": "5m",
                            "urls": [server.url(&format!("/{n}"))]}))
                .await;
        }
        for round in 0..3 {
            let (x, y) = tokio::join!(a.runner.tick(), b.runner.tick());
            assert_eq!(x.unwrap() + y.unwrap(), names.len(), "round {round}");
            clock.set(UnixMillis(clock.now().0 + 5 * MIN));
        }
        for n in &names {
            assert_eq!(server.requests_to(&format!("/{n}")).len(), 3, "{n}");
            assert_eq!(
                a.get(n).await.status.last_result.as_deref(),
                Some("no change")
            );
        }
    });
}

#[test]
fn loopback_is_refused_unless_allowed_and_so_is_a_redirect_inside() {
    let (dir, hook) = setup();
    let mock = Mock::start();
    let deadline = || tokio::time::Instant::now() + Duration::from_secs(5);
    rt().block_on(async {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let closed = Fetcher::new(&WatchSettings::default()).unwrap();
        let by_address = closed.fetch(&url(&mock.url("/x")), deadline()).await;
        assert!(
            matches!(
                by_address,
                Err(FetchError::Refused {
                    why: "loopback",
                    ..
                })
            ),
            "{by_address:?}"
        );
        // A name is judged by what it resolves to.
        let by_name = closed
            .fetch(&url(&mock.undeclared_url("/x")), deadline())
            .await;
        assert!(
            matches!(
                by_name,
                Err(FetchError::Refused {
                    why: "loopback",
                    ..
                })
            ),
            "{by_name:?}"
        );
        assert!(mock.requests().is_empty(), "nothing reached the server");

        let open = Fetcher::new(&settings()).unwrap();
        let got = open.fetch(&url(&mock.url("/x")), deadline()).await.unwrap();
        assert_eq!(&got.body[..], b"ok");
        let everything = Fetcher::new(&WatchSettings {
            allow_private: true,
            ..Default::default()
        })
        .unwrap();
        assert!(
            everything
                .fetch(&url(&mock.undeclared_url("/x")), deadline())
                .await
                .is_ok()
        );

        // Allowed at 127.0.0.1, but the redirect goes elsewhere inside.
        for to in [
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/admin",
            &mock.undeclared_url("/x"),
        ] {
            let hop = open
                .fetch(&url(&mock.url(&format!("/redirect?to={to}"))), deadline())
                .await;
            assert!(
                matches!(hop, Err(FetchError::Refused { .. })),
                "{to}: {hop:?}"
            );
        }
        let big = open.fetch(&url(&mock.url("/big")), deadline()).await;
        assert!(
            matches!(big, Err(FetchError::TooLarge { limit: 1_048_576 })),
            "{big:?}"
        );

        // The refusal is what a watcher records, and says how to allow it.
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let closed_runner = Arc::new(Runner::new(b.hub.clone(), WatchSettings::default()).unwrap());
        watchers::create(
            &closed_runner,
            json!({"name": "inside", "kind": "web", "every": "5m", "urls": [mock.url("/x")]}),
            WatcherOrigin::Api,
        )
        .await
        .unwrap();
        closed_runner.tick().await.unwrap();
        let err = b.get("inside").await.status.last_error.unwrap();
        assert!(
            err.contains("loopback") && err.contains("allow_hosts"),
            "{err}"
        );
    });
}

#[test]
fn the_config_files_watchers_are_created_updated_and_removed_with_it() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set("/p", "text/plain", "one");
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let r = &b.runner;
        b.create(json!({"name": "mine", "kind": "web", "every": "5m", "urls": [server.url("/p")]}))
            .await;
        let file = |every: &str| {
            let table: toml::Value = toml::from_str(&format!(
                "max = 20\n[page]\nkind = \"web\"\nevery = \"{every}\"\nurls = [\"{}\"]\n\
                 [standup]\nkind = \"schedule\"\nschedule = \"daily 09:00\"\ntitle = \"Hi\"\n",
                server.url("/p")
            ))
            .unwrap();
            mcp_push::watch::WatchSettings::from_config(serde_json::to_value(table).unwrap())
                .unwrap()
        };
        let (settings, specs) = file("5m");
        assert_eq!(settings.max, 20);
        let synced = watchers::sync_file(r, specs.clone()).await.unwrap();
        assert_eq!(synced.created, ["page", "standup"]);
        assert_eq!(b.get("page").await.origin, WatcherOrigin::File);
        let again = watchers::sync_file(r, specs).await.unwrap();
        assert_eq!(again, Default::default(), "an unchanged file changes nothing");
        let (_, specs) = file("10m");
        let synced = watchers::sync_file(r, specs.clone()).await.unwrap();
        assert_eq!(synced.updated, ["page"]);
        assert_eq!(b.get("page").await.spec["every"], "10m");
        let synced = watchers::sync_file(r, specs[..1].to_vec()).await.unwrap();
        assert_eq!(synced.removed, ["standup"]);
        let names: Vec<String> = watchers::list(r).await.unwrap().into_iter().map(|w| w.name).collect();
        assert_eq!(names, ["mine", "page"], "the tools' watcher stays");
        let clash = json!({"name": "mine", "kind": "web", "every": "5m", "urls": [server.url("/p")]});
        let e = watchers::sync_file(r, vec![clash]).await.unwrap_err();
        assert!(matches!(&e, mcp_push::ops::OpError::Invalid { field, .. } if field == "watchers.mine"), "{e:?}");
        let bad = json!({"name": "typo", "kind": "web", "every": "5s", "urls": [server.url("/p")]});
        let e = watchers::sync_file(r, vec![bad]).await.unwrap_err();
        assert!(matches!(&e, mcp_push::ops::OpError::Invalid { field, .. } if field == "watchers.typo.every"), "{e:?}");
    });
}

#[test]
fn the_operations_manage_watchers_and_name_the_field_at_fault() {
    let (dir, hook) = setup();
    let (site, server) = Site::start();
    site.set("/p", "text/plain", "one");
    rt().block_on(async {
        let b = Bench::open(dir.path(), &hook, Clock::manual(friday_morning())).await;
        let r = &b.runner;
        let bad = watchers::create(
            r,
            json!({"name": "x", "kind": "web", "every": "10s", "urls": [server.url("/p")]}),
            WatcherOrigin::Api,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&bad, mcp_push::ops::OpError::Invalid { field, .. } if field == "every"),
            "{bad:?}"
        );
        let unknown = watchers::create(
            r,
            json!({"name": "x", "kind": "web", "every": "5m", "urls": [server.url("/p")],
                   "channels": ["pager"]}),
            WatcherOrigin::Api,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(unknown, mcp_push::ops::OpError::UnknownChannel { .. }),
            "{unknown:?}"
        );
        let secret_url = format!("{}?token=s3cret", server.url("/p"));
        let w = b
            .create(json!({"name": "p", "kind": "web", "every": "5m", "urls": [secret_url]}))
            .await;
        assert!(!serde_json::to_string(&w).unwrap().contains("s3cret"));
        let taken = watchers::create(
            r,
            json!({"name": "p", "kind": "web", "every": "5m",
                                               "urls": [server.url("/p")]}),
            WatcherOrigin::Api,
        )
        .await
        .unwrap_err();
        assert!(matches!(&taken, mcp_push::ops::OpError::Invalid { field, .. } if field == "name"));

        // Check by hand without sending: nothing changes.
        let trial = watchers::run(r, &WatcherRef::parse("p"), false)
            .await
            .unwrap();
        assert_eq!(
            (trial.sent, trial.result.as_str()),
            (false, "baseline recorded")
        );
        assert_eq!(b.get("p").await.status.last_check_at, None);
        let trial = watchers::run(r, &WatcherRef::parse(&w.id.to_string()), true)
            .await
            .unwrap();
        assert!(trial.sent);
        assert_eq!(b.get("p").await.status.last_check_at, Some(b.clock.now()));
        // While another hub checks it, a check by hand is refused as busy
        // (409 over REST), not as a bad argument.
        let held = b
            .store()
            .claim_watcher(
                w.id,
                b.clock.now(),
                b.runner.lease(),
                mcp_push::store::HubId::this_process(),
            )
            .unwrap();
        assert!(held.is_some());
        let busy = watchers::run(r, &WatcherRef::parse("p"), true)
            .await
            .unwrap_err();
        assert!(
            matches!(&busy, mcp_push::ops::OpError::Busy(m) if m.contains("right now")),
            "{busy:?}"
        );

        let paused = watchers::pause(r, &WatcherRef::parse("p")).await.unwrap();
        assert_eq!(paused.state.as_str(), "paused");
        assert_eq!(b.after(60).await, 0, "a paused watcher is not checked");
        let resumed = watchers::resume(r, &WatcherRef::parse("p")).await.unwrap();
        assert_eq!(
            resumed.status.next_check_at,
            Some(b.clock.now()),
            "overdue: at once"
        );
        assert_eq!(b.runner.tick().await.unwrap(), 1);

        let edited = watchers::update(r, &WatcherRef::parse("p"), json!({"every": "15m"}))
            .await
            .unwrap();
        assert_eq!(edited.spec["every"], "15m");
        let rename = watchers::update(r, &WatcherRef::parse("p"), json!({"name": "q"}))
            .await
            .unwrap_err();
        assert!(
            matches!(&rename, mcp_push::ops::OpError::Invalid { field, .. } if field == "name")
        );
        assert_eq!(watchers::list(r).await.unwrap().len(), 1);
        watchers::delete(r, &WatcherRef::parse("p")).await.unwrap();
        let gone = watchers::get(r, &WatcherRef::parse("p")).await.unwrap_err();
        assert!(
            matches!(gone, mcp_push::ops::OpError::NoSuchWatcher(_)),
            "{gone:?}"
        );

        // What the config file owns is shown but not deleted by the tools.
        watchers::create(
            r,
            json!({"name": "filed", "kind": "web", "every": "5m", "urls": [server.url("/p")]}),
            WatcherOrigin::File,
        )
        .await
        .unwrap();
        let refused = watchers::delete(r, &WatcherRef::parse("filed"))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("config file"), "{refused}");
    });
}
