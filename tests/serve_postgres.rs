//! `mcp-push serve --db postgres://…` end to end (issue 19): the real binary
//! on a database of its own on the test server (`MCP_PUSH_TEST_POSTGRES`,
//! started by `scripts/test-postgres.sh`), delivering to a mock on
//! 127.0.0.1, driven over REST, then restarted. Without the server the test
//! says it is skipped, except under CI, where it fails.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::mcp_client::rt;
use support::postgres::{Database, Hub};
use support::{Mock, Sandbox};

/// In the URL serve is given: the server (trust auth) ignores it, and it
/// must show nowhere.
const PASSWORD: &str = "pg-pass-never-shown-31d7";

async fn get(http: &reqwest::Client, addr: SocketAddr, path: &str) -> Value {
    support::postgres::get_json(http, addr, path, PASSWORD).await
}

async fn notify(http: &reqwest::Client, addr: SocketAddr, title: &str) -> Value {
    let resp = http
        .post(format!("http://{addr}/v1/notify"))
        .json(&json!({"title": title, "content": "from serve on PostgreSQL"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.unwrap()
}

#[test]
fn serve_on_postgres_delivers_lists_and_keeps_history_across_a_restart() {
    let Some(admin) = mcp_push::store::postgres_test_server() else {
        return;
    };
    let db = Database::new(admin, "e2e", PASSWORD);
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    // The runtime first: it installs the TLS provider reqwest needs.
    let rt = rt();
    let http = reqwest::Client::new();

    let serve = Hub::start_verbose(&home, &db.url());
    let first: Vec<i64> = rt.block_on(async {
        let mut ids = Vec::new();
        for title in ["first on pg", "second on pg"] {
            let r = notify(&http, serve.addr, title).await;
            assert_eq!(r["status"], "success", "{r}");
            assert_eq!(r["channels"][0]["ok"], true, "{r}");
            ids.push(r["event_id"].as_i64().unwrap());
        }
        let events = get(&http, serve.addr, "/v1/events").await;
        let titles: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["notification"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["first on pg", "second on pg"], "{events}");
        get(&http, serve.addr, "/v1/status").await;
        ids
    });
    let delivered: Vec<String> = mock
        .requests_to("/hook")
        .iter()
        .map(|r| r.json()["title"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(delivered, ["first on pg", "second on pg"]);
    let log = serve.stopped_log();
    assert!(!log.contains(PASSWORD), "the password in the log: {log}");

    // A new process on the same database: the history is there, and
    // nothing is sent again.
    let serve = Hub::start_verbose(&home, &db.url());
    rt.block_on(async {
        let events = get(&http, serve.addr, "/v1/events").await;
        let ids: Vec<i64> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, first, "{events}");
        let r = notify(&http, serve.addr, "after the restart").await;
        assert!(r["event_id"].as_i64().unwrap() > first[1], "{r}");
        let deliveries = get(&http, serve.addr, "/v1/deliveries").await;
        let sent = deliveries["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["state"] == "sent")
            .count();
        assert_eq!(sent, 3, "{deliveries}");
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    while mock.requests_to("/hook").len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(mock.requests_to("/hook").len(), 3, "nothing sent twice");
    let log = serve.stopped_log();
    assert!(!log.contains(PASSWORD), "the password in the log: {log}");

    // A server that is not there: a clear error, the password masked.
    let mut down = url::Url::parse(&db.url()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    down.set_port(Some(port)).unwrap();
    let run = home.run(&["runs", "--db", down.as_str()]);
    assert_ne!(run.code, 0, "{run:?}");
    let out = run.all_output();
    assert!(out.contains("cannot use PostgreSQL at"), "{out}");
    assert!(out.contains(":***@"), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");
}
