//! The outbox for people who only run the CLI (cron jobs, CI steps, qinglong
//! scripts): a delivery that needs a retry is sent by the next command that
//! delivers, by `retry` at once, or by `flush`; a process that lacks the
//! channel leaves it alone without using up its attempts.

mod support;

use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Mock, Recorded, Reply, Sandbox};

/// A webhook that answers 503 while `down` is set.
fn flaky() -> (Mock, Arc<AtomicBool>) {
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    let mock = Mock::service(move |_: &Recorded| {
        if flag.load(Ordering::SeqCst) {
            Reply::text(503, "Service Unavailable")
        } else {
            Reply::text(200, "ok")
        }
    });
    (mock, down)
}

fn deliveries(home: &Sandbox) -> Vec<Value> {
    home.json_list(&["deliveries", "--json"])
}

fn bodies(mock: &Mock) -> Vec<String> {
    mock.requests()
        .iter()
        .map(|r| r.json()["content"].as_str().unwrap_or("").to_string())
        .collect()
}

const QUICK_RETRY: &str = "[retry]\nbase_delay_secs = 0.2\n";

/// Two homes on one database: one with the webhook channel, one without.
/// The directory is returned so that it lives as long as the test.
fn sharing_a_db(mock: &Mock) -> (tempfile::TempDir, Sandbox, Sandbox) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db").display().to_string();
    let with = Sandbox::new()
        .env("MCP_PUSH_DB", &db)
        .env("WEBHOOK_URL", mock.url("/hook"))
        .config(QUICK_RETRY);
    let without = Sandbox::new().env("MCP_PUSH_DB", &db).config(QUICK_RETRY);
    (dir, with, without)
}

#[test]
fn the_next_send_takes_a_waiting_delivery_along() {
    let (mock, down) = flaky();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/hook"))
        .config(QUICK_RETRY);
    let first = home.run(&["send", "--wait", "0", "T", "first"]);
    assert_eq!(first.code, 3, "{first:?}");
    assert!(first.stdout.contains("mcp-push send"), "{first:?}");
    down.store(false, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let second = home.run(&["send", "T", "second"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stdout.contains("also sent 1 waiting delivery"),
        "{second:?}"
    );
    let sent = bodies(&mock);
    assert_eq!(sent.iter().filter(|b| *b == "first").count(), 2, "{sent:?}");
    assert_eq!(
        sent.iter().filter(|b| *b == "second").count(),
        1,
        "{sent:?}"
    );
    assert!(deliveries(&home).iter().all(|d| d["state"] == "sent"));
}

#[test]
fn retry_sends_a_waiting_delivery_now() {
    let (mock, down) = flaky();
    // The default schedule: the next attempt would be 5 s away.
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let first = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(first.code, 3, "{first:?}");
    let id = deliveries(&home)[0]["id"].as_i64().unwrap().to_string();
    down.store(false, Ordering::SeqCst);
    let retry = home.run(&["retry", &id]);
    assert_eq!(retry.code, 0, "{retry:?}");
    assert_eq!(mock.requests().len(), 2);
    let again = home.run(&["retry", &id]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(
        again.stderr.contains("only failed and pending deliveries"),
        "{again:?}"
    );
}

#[test]
fn flush_sends_everything_due_and_says_what_is_left() {
    let (mock, down) = flaky();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/hook"))
        .config(QUICK_RETRY);
    for body in ["a", "b", "c"] {
        assert_eq!(home.run(&["send", "--wait", "0", "T", body]).code, 3);
    }
    // Still down: what is due fails again, and is left.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = home.run(&["flush", "--wait", "0"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.starts_with("0 sent, "), "{run:?}");
    down.store(false, Ordering::SeqCst);
    // The README's cron line: what falls due within the minute goes too.
    let run = home.run(&["flush", "--wait", "60"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.trim(), "3 sent", "{run:?}");
    let run = home.run(&["flush", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["sent"], 0, "{json}");
    let run = home.run(&["flush"]);
    assert_eq!(run.stdout.trim(), "nothing is due in the outbox", "{run:?}");
    let mut sent = bodies(&mock);
    sent.retain(|b| !b.is_empty());
    for body in ["a", "b", "c"] {
        // Failed at least once, then sent once.
        assert!(sent.iter().filter(|b| *b == body).count() >= 2, "{sent:?}");
    }
}

/// A process without the channel (another user's environment, a cron job
/// with a smaller config) leaves the delivery alone: no attempt is used.
#[test]
fn a_process_without_the_channel_leaves_the_delivery_for_one_that_has_it() {
    let (mock, down) = flaky();
    let (_db, with, without) = sharing_a_db(&mock);
    assert_eq!(with.run(&["send", "--wait", "0", "T", "B"]).code, 3);
    std::thread::sleep(std::time::Duration::from_millis(400));

    let run = without.run(&["flush"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("1 due delivery left for a process that has its channel configured: webhook"),
        "{run:?}"
    );
    let rows = deliveries(&with);
    assert_eq!(
        (rows[0]["state"].as_str(), rows[0]["attempts"].as_u64()),
        (Some("pending"), Some(1))
    );
    assert_eq!(mock.requests().len(), 1);

    down.store(false, Ordering::SeqCst);
    let run = with.run(&["flush"]);
    assert_eq!(run.stdout.trim(), "1 sent", "{run:?}");
    assert_eq!(deliveries(&with)[0]["attempts"], 2);
}

/// The same for a running server: its worker claims only rows of the
/// channels it has, so a row of another's channel is never leased, noted
/// or counted as an attempt here, and is due at once for a process with it.
#[test]
fn a_server_without_the_channel_never_takes_its_deliveries() {
    let (mock, down) = flaky();
    let (_db, with, without) = sharing_a_db(&mock);
    assert_eq!(with.run(&["send", "--wait", "0", "T", "B"]).code, 3);
    let before = deliveries(&with).remove(0);
    let server = support::mcp_client::start_server(&without, "127.0.0.1:0");
    // Past the quick retry's delay, with the server's worker looking.
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let row = deliveries(&with).remove(0);
    assert_eq!(row["attempts"], 1, "{row}");
    assert_eq!(row["state"], "pending", "{row}");
    assert_eq!(row["last_error"], before["last_error"], "{row}");
    assert_eq!(mock.requests().len(), 1);
    down.store(false, Ordering::SeqCst);
    let run = with.run(&["flush"]);
    drop(server);
    assert_eq!(run.stdout.trim(), "1 sent", "{run:?}");
    assert_eq!(deliveries(&with)[0]["attempts"], 2);
}

/// A server has no terminal that prints outcomes: without `-v` its log says
/// when a delivery fails for good, secrets masked.
#[test]
fn a_server_logs_a_delivery_that_failed_for_good() {
    use std::io::{BufRead, BufReader, Read, Write};
    let secret = "tok-0123456789abcdef";
    let mock =
        Mock::service(move |r: &Recorded| Reply::text(400, &format!("bad request for {}", r.uri)));
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url(&format!("/hook?token={secret}")));
    let mut child = home
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let next = || {
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("a log line")
    };
    let addr = loop {
        let line = next();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    let body = r#"{"title": "T", "content": "B"}"#;
    write!(
        s,
        "POST /v1/notify?wait=0 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let line = loop {
        let line = next();
        if line.contains("failed for good") {
            break line;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("webhook") && line.contains("HTTP 400"),
        "{line}"
    );
    assert!(line.contains("mcp-push retry"), "{line}");
    assert!(!line.contains(secret), "{line}");
}

#[test]
fn prune_forgets_what_is_done_and_keeps_what_waits() {
    let (mock, down) = flaky();
    down.store(false, Ordering::SeqCst);
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/hook"))
        .config(QUICK_RETRY);
    for body in ["a", "b", "c"] {
        assert_eq!(home.run(&["send", "T", body]).code, 0);
    }
    down.store(true, Ordering::SeqCst);
    assert_eq!(home.run(&["send", "--wait", "0", "T", "waits"]).code, 3);

    let dry = home.run(&["prune", "--dry-run", "--keep-events", "1"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains("would forget 3 events, 3 deliveries"),
        "{dry:?}"
    );
    assert!(dry.stdout.contains("store: 4 events"), "{dry:?}");
    // The default window (30 days) has nothing to forget yet.
    let run = home.run(&["prune"]);
    assert!(run.stdout.contains("forgot 0 events"), "{run:?}");

    let run = home.run(&["prune", "--keep-events", "1", "--json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["pruned"]["events"], 3, "{v}");
    assert_eq!(v["store"]["events"], 1, "{v}");
    let left = deliveries(&home);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["state"], "pending", "the waiting one stays");

    // Even when it is the oldest: a pending delivery is never forgotten.
    assert_eq!(home.run(&["send", "--wait", "0", "T", "newer"]).code, 3);
    let run = home.run(&["prune", "--keep-events", "1"]);
    assert!(run.stdout.contains("forgot 0 events"), "{run:?}");
    // Free space back to the file system; every event kept.
    let run = home.run(&["prune", "--vacuum"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("store: 2 events"), "{run:?}");

    let bad = Sandbox::new().config("[store]\nkeep_events = 0\n");
    let run = bad.run(&["prune"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("store.keep_events must be at least 1"),
        "{run:?}"
    );
}
