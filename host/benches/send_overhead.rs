//! `cargo bench --bench send_overhead`: prints its figures.
//!
//! 1. Per-send overhead of the WASM path (fresh Store, instantiate, the
//!    webhook's `send`, host fetch) against the same POST sent directly with
//!    reqwest, both to one loopback keep-alive server, in one run.
//! 2. Start-up of `mcp-push channels` with the compile cache cold and warm.

#[path = "../../tests/support/mod.rs"]
mod support;

use mcp_push::notification::Notification;
use mcp_push::plugin::{Registry, Runtime, RuntimeOptions, SettingValue};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SENDS: usize = 2000;
const STARTS: usize = 20;

fn main() {
    // The tests' mock: answers 200 `ok` on loopback with keep-alive.
    let mock = support::Mock::start();
    let addr = mock.addr;
    // One thread, so the figures measure the send path rather than cross-thread
    // wake-ups on a 2-core machine.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(per_send(addr));
    // MCP_PUSH_BENCH=send measures only the sends (for a profiler).
    if std::env::var("MCP_PUSH_BENCH").as_deref() != Ok("send") {
        startup();
    }
}

async fn per_send(addr: SocketAddr) {
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let registry = Registry::discover(&runtime, None).await;
    let webhook = registry
        .get("webhook")
        .expect("the bundled webhook")
        .clone();
    let url = format!("http://{addr}/hook");
    let settings = vec![
        SettingValue {
            key: "url".into(),
            value: url.clone(),
            secret: false,
        },
        SettingValue {
            key: "headers".into(),
            value: "Authorization: Bearer not-a-real-token".into(),
            secret: true,
        },
    ];
    let msg = Notification::new("Benchmark", "a short body");
    let body = serde_json::json!({ "title": msg.title, "content": msg.body }).to_string();
    let client = reqwest::Client::new();

    // Warm both paths (connections, caches), then interleave them so that
    // machine noise hits both alike.
    for _ in 0..200 {
        webhook.send("bench", &settings, &msg, None).await.unwrap();
        direct(&client, &url, &body).await;
    }
    let mut wasm = Vec::with_capacity(SENDS);
    let mut native = Vec::with_capacity(SENDS);
    for _ in 0..SENDS {
        let t = Instant::now();
        webhook.send("bench", &settings, &msg, None).await.unwrap();
        wasm.push(t.elapsed());
        let t = Instant::now();
        direct(&client, &url, &body).await;
        native.push(t.elapsed());
    }
    // The sandbox alone: fresh Store, instantiate, one call, no I/O.
    let mut bare = Vec::with_capacity(SENDS);
    for _ in 0..SENDS {
        let t = Instant::now();
        webhook.parse_url("json://example.com/x").await.unwrap();
        bare.push(t.elapsed());
    }
    let mut diffs: Vec<f64> = wasm
        .iter()
        .zip(&native)
        .map(|(w, n)| us(*w) - us(*n))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let paired = diffs[diffs.len() / 2];
    let (w, n) = (median(&mut wasm), median(&mut native));
    println!("per send, {SENDS} sends to a loopback keep-alive server:");
    println!(
        "  wasm path   median {:>8.1} µs   p99 {:>8.1} µs",
        us(w),
        us(p99(&mut wasm))
    );
    println!(
        "  reqwest     median {:>8.1} µs   p99 {:>8.1} µs",
        us(n),
        us(p99(&mut native))
    );
    println!(
        "  sandbox only (store + instantiate + one call, no I/O) median {:>6.1} µs",
        us(median(&mut bare))
    );
    println!(
        "  overhead    {:>8.1} µs (difference of medians), {:.1} µs (median of paired differences); target at most 20 µs",
        us(w) - us(n),
        paired
    );
}

async fn direct(client: &reqwest::Client, url: &str, body: &str) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer not-a-real-token")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.bytes().await.unwrap();
}

fn startup() {
    let bin = env!("CARGO_BIN_EXE_mcp-push");
    let home = tempfile::tempdir().unwrap();
    let run = |cache: &std::path::Path| {
        let t = Instant::now();
        let status = Command::new(bin)
            .arg("channels")
            .env_clear()
            .env("HOME", home.path())
            .env("MCP_PUSH_CACHE_DIR", cache)
            .env("MCP_PUSH_PLUGINS_DIR", home.path().join("none"))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        t.elapsed()
    };
    let mut cold = Vec::new();
    for i in 0..STARTS {
        cold.push(run(&home.path().join(format!("cold-{i}"))));
    }
    let warm_dir = home.path().join("warm");
    run(&warm_dir);
    let mut warm: Vec<Duration> = (0..STARTS).map(|_| run(&warm_dir)).collect();
    let bundled = mcp_push::plugin::bundled::BUNDLED.len();
    println!("start-up of `mcp-push channels` ({bundled} bundled plugins), {STARTS} runs each:");
    println!(
        "  cold cache  median {:>8.1} ms",
        us(median(&mut cold)) / 1000.0
    );
    println!(
        "  warm cache  median {:>8.1} ms   (target at most 25 ms)",
        us(median(&mut warm)) / 1000.0
    );
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() * 99 / 100]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
