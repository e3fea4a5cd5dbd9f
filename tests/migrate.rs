//! `mcp-push migrate --from sqlite:PATH --to postgres://…` end to end
//! (issue 19): a SQLite store made by the real binary (sent, failed,
//! pending and in-flight deliveries, a run, an idempotency key) is moved to
//! a database of its own on the test server (`MCP_PUSH_TEST_POSTGRES`), then
//! `serve` runs on it: the same history over REST, the waiting deliveries
//! sent once, nothing sent twice, new ids after the old. Then the refusals:
//! a target with history, a bad URL, a missing source, the wrong direction.
//! Without the server the test says it is skipped, except under CI.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use support::mcp_client::rt;
use support::postgres::{Database, Hub};
use support::{Mock, Run, Sandbox};

/// In every URL given: the test server (trust auth) ignores it, and it must
/// show in no output, log or error.
const PASSWORD: &str = "pg-pass-migrate-never-shown-5e1";

/// A run of the binary that must not show the password.
fn run(home: &Sandbox, args: &[&str]) -> Run {
    let run = home.run(args);
    assert!(
        !run.all_output().contains(PASSWORD),
        "the password in the output of {args:?}: {run:?}"
    );
    run
}

fn json_of(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

/// `send TITLE --json` on the store at `db`; the event id.
fn send(home: &Sandbox, db: &str, title: &str, more: &[&str]) -> i64 {
    let args = [&["send", title, "--db", db, "--json"][..], more].concat();
    let run = run(home, &args);
    let out: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"));
    out["event_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{run:?}"))
}

/// What a store holds, as the CLI lists it: runs, and deliveries newest first.
fn listing(home: &Sandbox, db: &str) -> (Vec<Value>, Vec<Value>) {
    (
        home.json_list(&["runs", "--json", "--db", db]),
        home.json_list(&["deliveries", "--json", "--limit", "1000", "--db", db]),
    )
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

async fn get(http: &reqwest::Client, addr: SocketAddr, path: &str) -> Value {
    support::postgres::get_json(http, addr, path, PASSWORD).await
}

async fn notify(http: &reqwest::Client, addr: SocketAddr, body: Value) -> Value {
    let resp = http
        .post(format!("http://{addr}/v1/notify"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let out: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{out}");
    out
}

/// The titles the mock's `/hook` received.
fn delivered(mock: &Mock) -> Vec<String> {
    mock.requests_to("/hook")
        .iter()
        .map(|r| r.json()["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_sqlite_store_moves_to_postgres_with_its_history_and_serve_carries_on() {
    let Some(admin) = mcp_push::store::postgres_test_server() else {
        return;
    };
    let target = Database::new(admin.clone(), "migrate", PASSWORD);
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.db");
    let db = file.to_str().unwrap();
    let to_hook = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let to_refusal = Sandbox::new().env("WEBHOOK_URL", mock.url("/status/400"));
    let to_outage = Sandbox::new().env("WEBHOOK_URL", mock.url("/status/503"));

    // The history, made by the real binary on SQLite.
    let mut events: Vec<(i64, String)> = Vec::new();
    let first = send(&to_hook, db, "first", &[]);
    events.push((first, "first".into()));
    for (kind, message) in [("start", "go"), ("update", "half"), ("end", "done")] {
        let args = ["event", "train", kind, message, "--db", db, "--json"];
        let out = json_of(&run(&to_hook, &args));
        let id = out["event_id"].as_i64().unwrap_or_else(|| panic!("{out}"));
        let title = format!("[{}] train", kind.to_uppercase());
        events.push((id, title));
    }
    let keyed = send(&to_hook, db, "keyed", &["--idempotency-key", "k1"]);
    events.push((keyed, "keyed".into()));
    let refused = send(&to_refusal, db, "refused", &[]);
    events.push((refused, "refused".into()));
    let later = send(&to_outage, db, "later", &["--wait", "0"]);
    events.push((later, "later".into()));
    let in_flight = send(&to_outage, db, "in flight", &["--wait", "0"]);
    events.push((in_flight, "in flight".into()));
    // A serve that died mid-send: its lease (an hour) outlives it.
    let dead_pid = 0x3fff_fff0_i64;
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 3_600_000;
    let leased = rusqlite::Connection::open(&file)
        .unwrap()
        .execute(
            "UPDATE deliveries SET lease_until = ?1, lease_owner = ?2 WHERE event_id = ?3",
            [until, dead_pid, in_flight],
        )
        .unwrap();
    assert_eq!(leased, 1);
    let sent_before = delivered(&mock);
    assert!(
        sent_before.contains(&"keyed".to_string()),
        "{sent_before:?}"
    );
    let (runs, deliveries) = listing(&to_hook, db);
    let states: Vec<&str> = deliveries
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    for state in ["sent", "failed", "pending"] {
        assert!(states.contains(&state), "{state}: {deliveries:?}");
    }
    let wal = dir.path().join("hub.db-wal");
    let (file_before, wal_before) = (bytes(&file), bytes(&wal));

    // The move.
    let url = target.url();
    let from = format!("sqlite:{db}");
    let moved = run(&to_hook, &["migrate", "--from", &from, "--to", &url]);
    assert_eq!(moved.code, 0, "{moved:?}");
    let out = &moved.stdout;
    for line in [
        format!("  events      {:>9}", events.len()),
        format!("  deliveries  {:>9}", deliveries.len()),
        "  runs                1".into(),
        "  watchers            0".into(),
        "verified: the target holds as many rows of each table as the source".into(),
        "mcp-push serve --db 'postgres://".into(),
    ] {
        assert!(out.contains(&line), "{line:?} in {out}");
    }
    assert!(out.contains(":***@"), "{out}");
    assert_eq!(bytes(&file), file_before, "the source file is not changed");
    assert_eq!(bytes(&wal), wal_before, "nor its WAL");
    assert_eq!(
        listing(&to_hook, &url),
        (runs, deliveries.clone()),
        "the runs and deliveries, every field the CLI shows"
    );

    // serve on the target: the same history, the same keys, new ids after.
    let rt = rt();
    let http = reqwest::Client::new();
    let serve = Hub::start_verbose(&to_hook, &url);
    let top = events.iter().map(|(id, _)| *id).max().unwrap();
    rt.block_on(async {
        let listed = get(&http, serve.addr, "/v1/events?limit=1000").await;
        let got: Vec<(i64, String)> = listed["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let title = e["notification"]["title"].as_str().unwrap().to_string();
                (e["id"].as_i64().unwrap(), title)
            })
            .collect();
        assert_eq!(got, events, "{listed}");
        let since = get(&http, serve.addr, &format!("/v1/events?since={keyed}")).await;
        assert_eq!(
            since["events"][0]["id"], refused,
            "a since= cursor still works"
        );
        let train = get(&http, serve.addr, "/v1/runs/train").await;
        assert!(train.to_string().contains("\"succeeded\""), "{train}");
        let listed = get(&http, serve.addr, "/v1/deliveries?limit=200").await;
        let rest: Vec<Value> = listed["deliveries"].as_array().unwrap().clone();
        for d in &deliveries {
            let id = &d["id"];
            let now = rest
                .iter()
                .find(|r| &r["id"] == id)
                .unwrap_or_else(|| panic!("delivery {id} is missing: {listed}"));
            if d["state"] != "pending" {
                assert_eq!(now["state"], d["state"], "delivery {id}: {listed}");
            }
        }
        let again = notify(
            &http,
            serve.addr,
            json!({"title": "keyed again", "content": "again", "idempotency_key": "k1"}),
        )
        .await;
        assert_eq!(again["event_id"], keyed, "{again}");
        let new = notify(
            &http,
            serve.addr,
            json!({"title": "after the move", "content": "new"}),
        )
        .await;
        assert!(new["event_id"].as_i64().unwrap() > top, "{new}");
    });
    // The waiting delivery (due a few seconds after its failure) and the
    // one whose hub died are sent once each; nothing sent before is sent again.
    let expected = sent_before.len() + 3;
    let deadline = Instant::now() + Duration::from_secs(20);
    while delivered(&mock).len() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let now_sent = delivered(&mock);
    let mut new_titles = now_sent[sent_before.len()..].to_vec();
    new_titles.sort();
    assert_eq!(
        new_titles,
        ["after the move", "in flight", "later"],
        "before the move: {sent_before:?}"
    );
    rt.block_on(async {
        let listed = get(&http, serve.addr, "/v1/deliveries?limit=200").await;
        let pending = listed["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["state"] == "pending")
            .count();
        assert_eq!(pending, 0, "{listed}");
    });
    let log = serve.stopped_log();
    assert!(!log.contains(PASSWORD), "the password in the log: {log}");

    // A target with history is refused, and left as it was.
    let before = listing(&to_hook, &url);
    let again = run(&to_hook, &["migrate", "--from", &from, "--to", &url]);
    assert_ne!(again.code, 0, "{again:?}");
    assert!(again.stderr.contains("already holds"), "{again:?}");
    assert!(again.stderr.contains("nothing was written"), "{again:?}");
    assert_eq!(listing(&to_hook, &url), before);

    // --json, into a database of its own.
    let second = Database::new(admin, "migrate_json", PASSWORD);
    let second_url = second.url();
    let moved = run(
        &to_hook,
        &["migrate", "--from", db, "--to", &second_url, "--json"],
    );
    let out = json_of(&moved);
    assert_eq!(out["copied"]["events"], events.len(), "{out}");
    assert_eq!(out["copied"]["runs"], 1, "{out}");
    assert_eq!(out["verified"], true, "{out}");
    assert!(out["to"].as_str().unwrap().contains(":***@"), "{out}");
}

#[test]
fn what_migrate_does_not_copy_is_a_clear_error() {
    let Some(admin) = mcp_push::store::postgres_test_server() else {
        return;
    };
    let target = Database::new(admin, "migrate_errors", PASSWORD);
    let url = target.url();
    let home = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.db");
    let db = file.to_str().unwrap();
    let made = run(&home, &["runs", "--db", db]);
    assert_eq!(made.code, 0, "{made:?}");

    let refused = |args: &[&str], why: &str| {
        let r = run(&home, args);
        assert_ne!(r.code, 0, "{args:?}: {r:?}");
        assert!(r.stderr.contains(why), "{args:?}: {why:?} in {r:?}");
    };
    let missing = dir.path().join("none.db");
    let missing_arg = format!("sqlite:{}", missing.display());
    refused(
        &["migrate", "--from", &missing_arg, "--to", &url],
        "there is no such file",
    );
    assert!(!missing.exists(), "no store is made where there was none");
    refused(
        &["migrate", "--from", &url, "--to", &url],
        "migrate copies a SQLite store into PostgreSQL only",
    );
    refused(
        &["migrate", "--from", db, "--to", "/tmp/other.db"],
        "is not a postgres:// URL",
    );
    let bad = format!("postgres://u:{PASSWORD}@127.0.0.1:notaport/db");
    refused(
        &["migrate", "--from", db, "--to", &bad],
        "cannot use PostgreSQL",
    );
    let mut down = url::Url::parse(&url).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    down.set_port(Some(port)).unwrap();
    refused(
        &["migrate", "--from", db, "--to", down.as_str()],
        "cannot use PostgreSQL at postgres://postgres:***@127.0.0.1",
    );
    refused(
        &["migrate", "--from", db, "--to", &url, "--db", db],
        "not --db",
    );
    // Nothing was written to the target by any of them.
    let listed = home.json_list(&["deliveries", "--json", "--db", &url]);
    assert!(listed.is_empty(), "{listed:?}");
}
