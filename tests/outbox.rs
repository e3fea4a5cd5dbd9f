//! The durable path end to end: events and deliveries in a real SQLite file,
//! the real binary (CLI, `mcp`, `serve`) delivering to mocks on 127.0.0.1,
//! retries, coalescing, edit-in-place, routing, quiet hours and crashes.

mod support;

use axum::Router;
use axum::body::Bytes;
use axum::http::Uri;
use rmcp::model::ReadResourceRequestParams;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::mcp_client::{call, http_client, rt, start_server, stdio_client, structured, text};
use support::{Mock, Reply, Sandbox, editor_wasm, on_loopback};

fn title_of(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body).unwrap()["title"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Wait (up to 60 s) until `done` holds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A webhook endpoint that answers 200 until `hold` is set, then keeps every
/// new request waiting (recorded as held) until `hold` is cleared.
struct Receiver {
    addr: std::net::SocketAddr,
    /// (path, title, held) in arrival order.
    log: Arc<Mutex<Vec<(String, String, bool)>>>,
    hold: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        let log: Arc<Mutex<Vec<(String, String, bool)>>> = Arc::default();
        let hold = Arc::new(AtomicBool::new(false));
        let (l, h) = (log.clone(), hold.clone());
        let app = Router::new().fallback(move |uri: Uri, body: Bytes| {
            let (log, hold) = (l.clone(), h.clone());
            async move {
                let held = hold.load(Ordering::SeqCst);
                log.lock()
                    .unwrap()
                    .push((uri.path().to_string(), title_of(&body), held));
                while hold.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                "ok"
            }
        });
        let addr = on_loopback(|listener| async move { axum::serve(listener, app).await.unwrap() });
        Receiver { addr, log, hold }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn arrived(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// Per path: how often each title arrived.
    fn counts(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (path, title, _) in self.log.lock().unwrap().iter() {
            *out.entry(path.clone())
                .or_default()
                .entry(title.clone())
                .or_default() += 1;
        }
        out
    }

    fn held(&self) -> BTreeSet<(String, String)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, held)| *held)
            .map(|(p, t, _)| (p.clone(), t.clone()))
            .collect()
    }
}

#[test]
fn kill_9_in_the_middle_of_a_burst_loses_nothing_and_repeats_nothing() {
    const N: usize = 200;
    let receiver = Receiver::start();
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[sandbox]\ntimeout_secs = 5\n\
         [channels.a]\nplugin = \"webhook\"\nurl = \"{}\"\n\
         [channels.b]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        receiver.url("/a"),
        receiver.url("/b")
    ));
    let keys: Vec<String> = (0..N).map(|i| format!("job-{i:02}")).collect();
    let burst = |addr: std::net::SocketAddr, keys: Vec<String>| async move {
        let client = Arc::new(http_client(addr, None).await);
        let mut calls = tokio::task::JoinSet::new();
        for key in keys {
            let client = client.clone();
            calls.spawn(async move {
                let args = json!({"title": key, "content": "done", "idempotency_key": key});
                let args = args.as_object().cloned().unwrap();
                client
                    .call_tool(
                        rmcp::model::CallToolRequestParams::new("notify_send").with_arguments(args),
                    )
                    .await
            });
        }
        calls
    };

    let mut first = start_server(&home, "127.0.0.1:0");
    rt().block_on(async {
        let calls = burst(first.addr, keys.clone()).await;
        // Let some deliveries through, then hold the rest in flight at the receiver.
        while receiver.arrived() < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        receiver.hold.store(true, Ordering::SeqCst);
        while receiver.held().len() < 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // What was answered is recorded by now (group commit takes milliseconds).
        tokio::time::sleep(Duration::from_millis(500)).await;
        first.child.kill().unwrap(); // SIGKILL: no shutdown path runs
        first.child.wait().unwrap();
        drop(calls);
    });
    let before_restart = receiver.arrived();
    // Some deliveries were never tried before the kill: they must come from the outbox.
    assert!(
        before_restart < 2 * N,
        "the kill came too late to prove anything"
    );

    // Restart on the same database; the client repeats every call it is unsure of.
    receiver.hold.store(false, Ordering::SeqCst);
    let second = start_server(&home, "127.0.0.1:0");
    rt().block_on(async {
        let mut calls = burst(second.addr, keys.clone()).await;
        while let Some(done) = calls.join_next().await {
            let r = done.unwrap().expect("a repeated call after the restart");
            assert_ne!(structured(&r)["status"], "failed", "{}", text(&r));
        }
    });
    eventually("every key on both channels", || {
        let c = receiver.counts();
        ["/a", "/b"]
            .iter()
            .all(|p| c.get(*p).is_some_and(|m| m.len() == N))
    });
    let counts = receiver.counts();
    let held = receiver.held();
    eprintln!(
        "before the kill: {before_restart} of {} requests arrived, {} held in flight",
        2 * N,
        held.len()
    );
    for path in ["/a", "/b"] {
        for key in &keys {
            let n = counts[path][key];
            if held.contains(&(path.to_string(), key.clone())) {
                // Cut off mid-request by the kill: it reached the receiver but
                // its answer never came back, so it is sent once more (the
                // receiver tells the two apart by the key).
                assert!((1..=2).contains(&n), "{path} {key}: {n}");
            } else {
                assert_eq!(n, 1, "{path} {key} arrived {n} times");
            }
        }
    }
    // And the outbox is empty.
    let run = home.run(&["deliveries", "--pending"]);
    assert!(run.stdout.contains("the outbox is empty"), "{run:?}");
}

#[test]
fn a_503_is_retried_and_a_429_waits_for_its_retry_after() {
    let seen: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let mock = {
        let seen = seen.clone();
        Mock::service(move |r| {
            calls.fetch_add(1, Ordering::SeqCst);
            let mut s = seen.lock().unwrap();
            let path = r.uri.clone();
            let before = s.iter().filter(|(p, _)| *p == path).count();
            s.push((path.clone(), Instant::now()));
            match (path.as_str(), before) {
                ("/flaky", 0) => Reply::text(503, "try later"),
                ("/limited", 0) => Reply::text(429, "slow down").header("retry-after", "1"),
                _ => Reply::text(200, "ok"),
            }
        })
    };
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[retry]\nbase_delay_secs = 0.2\n\
         [channels.flaky]\nplugin = \"webhook\"\nurl = \"{}\"\n\
         [channels.limited]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        mock.url("/flaky"),
        mock.url("/limited")
    ));
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("flaky  ok"), "{}", run.stdout);
    assert!(run.stdout.contains("limited  ok"), "{}", run.stdout);
    let seen = seen.lock().unwrap();
    let at = |path: &str| -> Vec<Instant> {
        seen.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    };
    assert_eq!(at("/flaky").len(), 2);
    let limited = at("/limited");
    assert_eq!(limited.len(), 2);
    // The service asked for one second; it got at least that.
    assert!(limited[1] - limited[0] >= Duration::from_secs(1));
    let run = home.run(&["deliveries"]);
    assert!(run.stdout.contains("sent after 2 attempts"), "{run:?}");
}

#[test]
fn a_hundred_updates_reach_the_channel_as_a_few_and_the_run_is_tracked() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/run"));
    rt().block_on(async {
        let (client, _) = stdio_client(&home, &[]).await;
        let ev = |event: &str, extra: Value| {
            let mut args = json!({"run_id": "train-7", "event": event, "message": event});
            if let Value::Object(m) = extra {
                args.as_object_mut().unwrap().extend(m);
            }
            args
        };
        let r = call(&client, "notify_event", ev("start", json!({}))).await;
        assert_eq!(structured(&r)["run"]["status"], "running", "{}", text(&r));
        for i in 1..=100 {
            let r = call(
                &client,
                "notify_event",
                ev(
                    "update",
                    json!({"data": {"progress": i as f64 / 100.0, "step": format!("batch {i}")}}),
                ),
            )
            .await;
            assert_ne!(structured(&r)["status"], "failed", "{}", text(&r));
        }
        let r = call(
            &client,
            "notify_event",
            ev(
                "end",
                json!({"data": {"artifact_url": "https://ci.example/7"}}),
            ),
        )
        .await;
        let s = structured(&r);
        assert_eq!(s["status"], "success", "{s}");
        assert_eq!(s["run"]["status"], "succeeded", "{s}");
        assert!(text(&r).contains("Run train-7: succeeded"), "{}", text(&r));

        // At the channel: start, a few updates (the first at once, the rest
        // coalesced into one per minute, latest wins), then the end.
        let titles: Vec<String> = mock
            .requests_to("/run")
            .iter()
            .map(|r| r.json()["title"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(titles.first().unwrap(), "[START] train-7", "{titles:?}");
        assert_eq!(titles.last().unwrap(), "[END] train-7", "{titles:?}");
        let updates = titles.iter().filter(|t| t.starts_with("[UPDATE]")).count();
        assert!((1..=3).contains(&updates), "{titles:?}");
        let end = mock.requests_to("/run").last().unwrap().json();
        let body = end["content"].as_str().unwrap();
        assert!(body.contains("Duration: "), "{body}");
        assert!(body.contains("Artifact: https://ci.example/7"), "{body}");

        // The run, its timeline and its deliveries.
        let r = call(&client, "get_run", json!({"run_id": "train-7"})).await;
        let s = structured(&r);
        assert_eq!(s["run"]["status"], "succeeded");
        assert_eq!(s["run"]["progress"], 1.0);
        assert!(s["run"]["duration_ms"].as_i64().unwrap() >= 0);
        assert_eq!(s["events"].as_array().unwrap().len(), 102);
        let r = call(&client, "get_deliveries", json!({"run_id": "train-7"})).await;
        let rows = structured(&r)["deliveries"].as_array().unwrap().clone();
        let coalesced = rows.iter().filter(|d| d["state"] == "coalesced").count();
        assert_eq!(coalesced, 100 - updates, "{}", text(&r));
        let r = call(&client, "list_runs", json!({"status": "succeeded"})).await;
        assert_eq!(structured(&r)["runs"][0]["run_id"], "train-7");
        let r = call(&client, "get_run", json!({"run_id": "nope"})).await;
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("list_runs"), "{}", text(&r));

        for uri in ["push://runs", "push://runs/train-7"] {
            let res = client
                .read_resource(ReadResourceRequestParams::new(uri))
                .await
                .unwrap();
            let rmcp::model::ResourceContents::TextResourceContents { text, .. } = &res.contents[0]
            else {
                panic!("{uri}: not text")
            };
            assert!(text.contains("succeeded"), "{uri}: {text}");
        }
        client.cancel().await.unwrap();
    });
    // The CLI sees the same run.
    let run = home.run(&["runs", "train-7"]);
    assert!(
        run.stdout.contains("run train-7: succeeded  100%"),
        "{run:?}"
    );
    assert!(run.stdout.contains("coalesced"), "{run:?}");
}

#[test]
fn a_channel_that_can_edit_updates_one_message_and_ends_with_a_new_one() {
    let next = Arc::new(AtomicUsize::new(0));
    let mock = Mock::service(move |r| {
        if r.method == "POST" {
            let n = next.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::ok(json!({"id": format!("m{n}")}))
        } else {
            Reply::ok(json!({}))
        }
    });
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.live]\nplugin = \"editor\"\nurl = \"{}\"\nupdate_interval_secs = 0\n",
        mock.url("/chat")
    ));
    home.install(&editor_wasm(), "editor.wasm");
    for (kind, extra) in [
        ("start", vec![]),
        ("update", vec!["--progress", "0.3"]),
        ("update", vec!["--progress", "0.6", "--step", "eval"]),
        ("end", vec![]),
    ] {
        let mut args = vec!["event", "deploy-1", kind, "step"];
        args.extend(extra);
        let run = home.run(&args);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let seen: Vec<(String, String)> = mock
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.uri.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("POST".to_string(), "/chat/messages".to_string()),
            ("PUT".into(), "/chat/messages/m1".into()),
            ("PUT".into(), "/chat/messages/m1".into()),
            // The end rings the phone: a new message, with the duration.
            ("POST".into(), "/chat/messages".into()),
        ]
    );
    let end = mock.requests().last().unwrap().json();
    assert!(
        end["body"].as_str().unwrap().contains("Duration: "),
        "{end}"
    );
}

#[test]
fn routing_rules_choose_which_channels_get_what() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "from_env = false\n\
         [channels.all]\nplugin = \"webhook\"\nurl = \"{}\"\n\
         [channels.failures]\nplugin = \"webhook\"\nurl = \"{}\"\nevents = [\"error\"]\n\
         [channels.pager]\nplugin = \"webhook\"\nurl = \"{}\"\nmin_priority = \"high\"\n\
         [channels.deploys]\nplugin = \"webhook\"\nurl = \"{}\"\ntags = [\"deploy\"]\n",
        mock.url("/all"),
        mock.url("/failures"),
        mock.url("/pager"),
        mock.url("/deploys")
    ));
    let run = home.run(&["send", "--tag", "deploy", "Shipped", "v2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("failures  skipped  the channel's `events` rule does not include message"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("pager  skipped  priority normal is below"),
        "{}",
        run.stdout
    );
    let run = home.run(&["event", "job", "error", "boom", "--error-code", "137"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("deploys  skipped  no tag matches"),
        "{}",
        run.stdout
    );
    let count = |p: &str| mock.requests_to(p).len();
    assert_eq!(
        (
            count("/all"),
            count("/failures"),
            count("/pager"),
            count("/deploys")
        ),
        (2, 1, 1, 1)
    );
    assert!(
        run.stdout.contains("run job: failed (error 137)"),
        "{run:?}"
    );

    // A rule that does not parse is a configuration error that says what to write.
    let bad = Sandbox::new().config("[channels.x]\nplugin = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nquiet_hours = \"late\"\n");
    let run = bad.run(&["send", "T", "B"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("22:00-08:00"), "{run:?}");
}

#[test]
fn a_repeat_with_the_same_idempotency_key_sends_nothing_again() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/once"));
    let first = home.run(&["send", "--idempotency-key", "nightly-42", "T", "B"]);
    assert_eq!(first.code, 0, "{first:?}");
    let again = home.run(&["send", "--idempotency-key", "nightly-42", "T", "B"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("already sent as event 1"),
        "{}",
        again.stdout
    );
    assert_eq!(mock.requests_to("/once").len(), 1);
}

#[test]
fn a_damaged_or_locked_database_is_a_clear_error_and_nothing_is_sent() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/db"));
    let garbage = home.dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5au8; 8192]).unwrap();
    let run = home.run(&["send", "--db", garbage.to_str().unwrap(), "T", "B"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("is not an mcp-push database"),
        "{run:?}"
    );
    assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x5au8; 8192]);

    let db = home.dir.path().join("busy.db");
    assert_eq!(
        home.run(&["send", "--db", db.to_str().unwrap(), "T", "B"])
            .code,
        0
    );
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let run = home.run(&["send", "--db", db.to_str().unwrap(), "T", "B"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("locked by another process"), "{run:?}");
    holder.execute_batch("ROLLBACK").unwrap();
    // Only the first send went out.
    assert_eq!(mock.requests_to("/db").len(), 1);
}

/// Quiet hours against a clock the test moves: the library, a real SQLite
/// file, the bundled webhook plugin and a mock.
#[test]
fn quiet_hours_hold_a_message_until_the_window_ends_and_urgent_passes() {
    use mcp_push::app::{App, AppOptions};
    use mcp_push::hub::{Clock, Submission};
    use mcp_push::notification::{Notification, Priority};
    use mcp_push::store::{ClaimScope, DeliveryState, Source, UnixMillis};

    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "from_env = false\n[channels.phone]\nplugin = \"webhook\"\nurl = \"{}\"\n\
             quiet_hours = \"22:00-08:00\"\ntimezone = \"Europe/Berlin\"\n",
            mock.url("/phone")
        ),
    )
    .unwrap();
    let berlin = |d: u32, h: u32, m: u32| {
        use chrono::TimeZone;
        UnixMillis(
            chrono_tz::Europe::Berlin
                .with_ymd_and_hms(2026, 11, d, h, m, 0)
                .unwrap()
                .timestamp_millis(),
        )
    };
    rt().block_on(async {
        let app = App::load(&AppOptions {
            config: Some(config),
            plugins_dir: None,
            cache_dir: Some(support::shared_cache_dir()),
            db: Some(dir.path().join("hub.db")),
            ..Default::default()
        })
        .await
        .unwrap();
        let clock = Clock::manual(berlin(21, 23, 30));
        let hub = Arc::new(app.hub_with_clock(app.open_store().unwrap(), clock.clone()));
        let worker = hub.spawn_worker(ClaimScope::All);
        let send = |title: &str, priority: Priority| {
            let mut n = Notification::new(title, "b");
            n.priority = priority;
            Submission::new(n, Source::Cli)
        };
        let held = hub
            .send(
                send("nightly report", Priority::Normal),
                Duration::from_secs(1),
            )
            .await
            .unwrap();
        let o = &held.outcomes()[0];
        assert_eq!(o.state, DeliveryState::Pending);
        assert_eq!(o.next_attempt_at, Some(berlin(22, 8, 0)));
        let urgent = hub
            .send(send("disk full", Priority::Urgent), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(urgent.outcomes()[0].state, DeliveryState::Sent);
        assert_eq!(mock.requests_to("/phone").len(), 1);

        // Morning in Berlin: the held message goes.
        clock.set(berlin(22, 8, 0));
        hub.wake();
        let until = Instant::now() + Duration::from_secs(20);
        while mock.requests_to("/phone").len() < 2 {
            assert!(Instant::now() < until, "the held message never went out");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            mock.requests_to("/phone")[1].json()["title"],
            "nightly report"
        );
        worker.finish().await;
    });
}
