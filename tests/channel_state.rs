//! What the host keeps for a channel beyond one call, through the real
//! binary and store: the parts of a split message already delivered (a retry
//! resumes after them), a delivery key that is the same on every attempt
//! (Matrix's txnId), and values a channel keeps between sends (WeCom's
//! access token, fetched once per process instead of once per message).

mod support;

use serde_json::json;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use support::mcp_client::start_server;
use support::services::{self, MATRIX_TOKEN, QYWX_KEY, WX_CORP_SECRET};
use support::{Mock, Recorded, Reply, Sandbox, send_ok};

/// Retries a fifth of a second apart, so a test waits them out.
const QUICK_RETRY: &str = "[retry]\nbase_delay_secs = 0.2\n";

/// `service`, except that request number `n` (from 0) gets `reply` instead.
fn failing_once(
    service: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    n: u64,
    reply: Reply,
) -> Mock {
    let count = Arc::new(AtomicU64::new(0));
    Mock::service(move |r: &Recorded| {
        if count.fetch_add(1, Ordering::SeqCst) == n {
            return reply.clone();
        }
        service(r)
    })
}

/// 30 KB is 15 WeCom messages of 2,048 bytes: more than the default budget
/// of 8 requests a send (the tail was lost), and when the 9th fails, the
/// retry must not post the first eight again.
#[test]
fn a_long_wecom_message_arrives_whole_and_each_part_once_across_a_retry() {
    let busy = Reply::json(200, json!({"errcode": -1, "errmsg": "system busy"}));
    let mock = failing_once(services::wecom_bot(), 8, busy);
    let home = Sandbox::new()
        .env("QYWX_KEY", QYWX_KEY)
        .env("QYWX_ORIGIN", mock.url(""))
        .config(QUICK_RETRY);
    let long = "磁盘空间不足 disk full on host-42\n".repeat(900);
    assert!(long.len() > 30_000);
    let run = send_ok(&home, &["send", "--wait", "20", "告警", &long], &[QYWX_KEY]);
    assert!(run.stdout.contains("wecom-bot"), "{run:?}");

    let parts: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.json()["text"]["content"].as_str().unwrap().to_string())
        .collect();
    // "(1/15) 告警…": the part's number and the count.
    let numbered = |p: &str| -> (usize, usize) {
        let (n, of) = p[1..].split_once(')').unwrap().0.split_once('/').unwrap();
        (n.parse().unwrap(), of.parse().unwrap())
    };
    let total = numbered(&parts[0]).1;
    assert!(total >= 15, "{total} parts");
    // Every part once, except the one that failed, which went twice.
    let mut numbers: Vec<usize> = parts.iter().map(|p| numbered(p).0).collect();
    assert_eq!(numbers[8], numbers[9], "the failed 9th part is sent again");
    numbers.dedup();
    assert_eq!(numbers, (1..=total).collect::<Vec<_>>(), "{numbers:?}");
    let shown: String = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 8)
        .map(|(_, p)| p.split_once(") ").unwrap().1)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(shown.matches("磁盘空间不足").count(), 900);
    assert!(!run.all_output().contains("denied"), "{run:?}");
}

/// A homeserver that posted the event but whose answer was lost (504 from
/// its proxy): the retry carries the same txnId, so Matrix answers the first
/// event instead of posting the message twice.
#[test]
fn a_matrix_retry_reuses_its_txn_id_and_posts_once() {
    let mock = Mock::service(services::matrix());
    let home = Sandbox::new()
        .env("MATRIX_HOMESERVER", mock.url(""))
        .env("MATRIX_ACCESS_TOKEN", MATRIX_TOKEN)
        .env("MATRIX_ROOM_ID", "!room:example.org")
        .config(QUICK_RETRY);
    send_ok(
        &home,
        &["send", "--wait", "20", "deploy", "lost answer"],
        &[MATRIX_TOKEN],
    );
    send_ok(
        &home,
        &["send", "--wait", "20", "next", "one"],
        &[MATRIX_TOKEN],
    );
    let txns: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.path().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(txns.len(), 3, "{txns:?}");
    assert_eq!(txns[0], txns[1], "the retry reuses the txnId");
    assert_ne!(txns[1], txns[2], "another message has its own");
    let deliveries = home.run(&["deliveries", "--json"]);
    assert!(
        deliveries.stdout.contains("$event1") && deliveries.stdout.contains("$event2"),
        "{deliveries:?}"
    );
    assert!(!deliveries.stdout.contains("$event3"), "{deliveries:?}");
}

/// WeCom asks that `gettoken` not be called for every message: a running
/// server fetches it once for many messages.
#[test]
fn a_server_fetches_the_wecom_token_once_for_many_messages() {
    let mock = Mock::service(services::wecom_app());
    let home = Sandbox::new()
        .env(
            "QYWX_AM",
            format!("ww0corp,{WX_CORP_SECRET},@all,1000002,0"),
        )
        .env("QYWX_ORIGIN", mock.url(""));
    let server = start_server(&home, "127.0.0.1:0");
    for i in 0..3 {
        let body = json!({"title": format!("卡片 {i}"), "content": "构建完成"}).to_string();
        let answer = post(server.addr, "/v1/notify?wait=10", &body);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"sent\""), "{answer}");
    }
    let paths = mock.paths();
    assert_eq!(
        paths,
        [
            "/cgi-bin/gettoken",
            "/cgi-bin/message/send",
            "/cgi-bin/message/send",
            "/cgi-bin/message/send"
        ],
    );
    // The fifth QYWX_AM field `0` is a text card, which WeCom accepts
    // (an mpnews with thumb_media_id "0" is refused with 40007).
    let card = mock.requests()[1].json();
    assert_eq!(card["msgtype"], "textcard", "{card}");
}

/// One HTTP/1.1 POST on a fresh connection; the whole answer as text.
fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}
