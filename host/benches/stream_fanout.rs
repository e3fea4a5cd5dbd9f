//! `cargo bench --bench stream_fanout`: the real `mcp-push serve` with 100
//! WebSocket clients on `/v1/stream`; for each `POST /v1/events`, the time
//! from sending the request to receipt of the event on each client and on
//! every client. Prints p50 and p99 of both.

#[path = "../../tests/support/mod.rs"]
mod support;

use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::mcp_client::{rt, start_server};
use support::{Mock, Sandbox};
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 100;
const EVENTS: usize = 300;
const WARMUP: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let server = start_server(&home, "127.0.0.1:0");
    let addr = server.addr;
    rt().block_on(async move {
        let total = WARMUP + EVENTS;
        // received[c][i]: when client c got event i.
        let received: Arc<Vec<std::sync::Mutex<Vec<Option<Instant>>>>> = Arc::new(
            (0..CLIENTS)
                .map(|_| std::sync::Mutex::new(vec![None; total]))
                .collect(),
        );
        let arrivals: Arc<Vec<AtomicUsize>> =
            Arc::new((0..total).map(|_| AtomicUsize::new(0)).collect());
        for c in 0..CLIENTS {
            let (mut ws, _) =
                tokio_tungstenite::connect_async(format!("ws://{addr}/v1/stream?types=event"))
                    .await
                    .expect("a stream client");
            let ack = ws.next().await.unwrap().unwrap();
            assert!(ack.to_text().unwrap().contains("connection_ack"));
            let (received, arrivals) = (received.clone(), arrivals.clone());
            tokio::spawn(async move {
                while let Some(Ok(msg)) = ws.next().await {
                    let Message::Text(t) = msg else { continue };
                    let at = Instant::now();
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    let Some(i) = v["run_id"]
                        .as_str()
                        .and_then(|r| r.strip_prefix("bench-"))
                        .and_then(|n| n.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    received[c].lock().unwrap()[i] = Some(at);
                    arrivals[i].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let http = reqwest::Client::new();
        let url = format!("http://{addr}/v1/events?wait=0");
        let mut sent = vec![Instant::now(); total];
        for (i, at) in sent.iter_mut().enumerate() {
            let body = serde_json::json!({"run_id": format!("bench-{i}"), "event": "start", "message": "bench"});
            *at = Instant::now();
            let resp = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            let _ = resp.bytes().await;
            let until = Instant::now() + Duration::from_secs(10);
            while arrivals[i].load(Ordering::Relaxed) < CLIENTS {
                assert!(Instant::now() < until, "event {i} did not reach every client");
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        let mut each = Vec::new();
        let mut all = Vec::new();
        for (i, start) in sent.iter().enumerate().skip(WARMUP) {
            let mut last = Duration::ZERO;
            for c in received.iter() {
                let d = c.lock().unwrap()[i].expect("received") - *start;
                last = last.max(d);
                each.push(d);
            }
            all.push(last);
        }
        each.sort();
        all.sort();
        println!(
            "{CLIENTS} stream clients, {EVENTS} events posted one at a time (POST /v1/events?wait=0 \
             to receipt):"
        );
        println!(
            "  on each client:   p50 {}  p99 {}  max {}",
            ms(percentile(&each, 0.5)),
            ms(percentile(&each, 0.99)),
            ms(*each.last().unwrap())
        );
        println!(
            "  on every client:  p50 {}  p99 {}  max {}",
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.99)),
            ms(*all.last().unwrap())
        );
    });
    drop(server);
}
