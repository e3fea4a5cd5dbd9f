//! `cargo bench --bench send_overhead`: prints its figures.
//!
//! 1. Per-send overhead of the WASM path (a fresh Store with the component
//!    instantiated, the webhook's `send`, host fetch) against the same POST
//!    sent directly with reqwest, both to one loopback keep-alive server, in
//!    one run. A send's store is instantiated ahead of time and torn down
//!    after it answers (see `plugin::keeper`); that work runs when the caller
//!    next waits, and is measured here too, on its own line.
//! 2. Start-up of `mcp-push channels` with the compile cache cold and warm.

#[path = "../../tests/support/mod.rs"]
mod support;

use mcp_push::notification::Notification;
use mcp_push::plugin::{Limits, PluginSource, Registry, Runtime, RuntimeOptions, SettingValue};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SENDS: usize = 2000;
const STARTS: usize = 20;

fn main() {
    // Sender and mock on one CPU (unless MCP_PUSH_BENCH_PIN=0). On this VM a
    // wake-up across vCPUs costs tens of microseconds and where the scheduler
    // puts the two threads changes from run to run, which swung both paths
    // (and their difference) by up to 2x; on one CPU the figures measure the
    // send path itself. Start-up below runs unpinned.
    let pinned = if std::env::var("MCP_PUSH_BENCH_PIN").as_deref() == Ok("0") {
        None
    } else {
        affinity::pin_to_one_cpu()
    };
    match &pinned {
        Some(_) => println!("(sender and mock pinned to one CPU; MCP_PUSH_BENCH_PIN=0 to not)"),
        None => println!("(not pinned)"),
    }
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
    if let Some(all) = pinned {
        affinity::restore(&all);
    }
    // MCP_PUSH_BENCH=send measures only the sends (for a profiler).
    if std::env::var("MCP_PUSH_BENCH").as_deref() != Ok("send") {
        startup();
    }
}

mod affinity {
    /// Pin this thread (and the threads it starts later) to the first CPU it
    /// may use; the set it had, to restore.
    #[cfg(target_os = "linux")]
    pub fn pin_to_one_cpu() -> Option<libc::cpu_set_t> {
        // SAFETY: cpu_set_t is plain data; the calls get its exact size.
        unsafe {
            let mut all: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut all) != 0 {
                return None;
            }
            let cpu = (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &all))?;
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut one);
            (libc::sched_setaffinity(0, size, &one) == 0).then_some(all)
        }
    }

    #[cfg(target_os = "linux")]
    pub fn restore(all: &libc::cpu_set_t) {
        // SAFETY: as above.
        unsafe {
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), all);
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn pin_to_one_cpu() -> Option<()> {
        None
    }

    #[cfg(not(target_os = "linux"))]
    pub fn restore(_: &()) {}
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
        tokio::task::yield_now().await;
        direct(&client, &url, &body).await;
    }
    let mut wasm = Vec::with_capacity(SENDS);
    let mut wasm_and_after = Vec::with_capacity(SENDS);
    let mut native = Vec::with_capacity(SENDS);
    for _ in 0..SENDS {
        let t = Instant::now();
        webhook.send("bench", &settings, &msg, None).await.unwrap();
        wasm.push(t.elapsed());
        // Let the keeper's task (tear this store down, instantiate the next)
        // run now, so that it is not charged to the direct request below.
        tokio::task::yield_now().await;
        wasm_and_after.push(t.elapsed());
        let t = Instant::now();
        direct(&client, &url, &body).await;
        native.push(t.elapsed());
    }
    // The sandbox alone, instantiated on the call's path (URL parsing keeps
    // no spare): fresh Store, instantiate, one call, no I/O.
    let mut bare = Vec::with_capacity(SENDS);
    for _ in 0..SENDS {
        let t = Instant::now();
        webhook.parse_url("json://example.com/x").await.unwrap();
        bare.push(t.elapsed());
        tokio::task::yield_now().await;
    }
    // The send with its one fetch refused by the request budget: the sandbox,
    // the plugin's own work and the host's secret handling, with no I/O.
    let no_fetch = Runtime::new(RuntimeOptions {
        limits: Limits {
            max_fetches: 0,
            ..Limits::default()
        },
        cache_dir: None,
        ..Default::default()
    })
    .unwrap();
    let bundled = mcp_push::plugin::bundled::BUNDLED
        .iter()
        .find(|b| b.name == "webhook")
        .expect("the bundled webhook");
    let refused_webhook = no_fetch
        .load(bundled.wasm, Some(bundled.sha256), PluginSource::Bundled)
        .await
        .unwrap();
    let mut refused = Vec::with_capacity(SENDS);
    for _ in 0..SENDS {
        let t = Instant::now();
        let r = refused_webhook.send("bench", &settings, &msg, None).await;
        refused.push(t.elapsed());
        assert!(r.is_err(), "a send with no request budget must fail");
        tokio::task::yield_now().await;
    }
    let paired = median_difference(&wasm, &native);
    let paired_after = median_difference(&wasm_and_after, &native);
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
        "  sandbox instantiated on the call's path (store + instantiate + one call, no I/O) median {:>6.1} µs",
        us(median(&mut bare))
    );
    println!(
        "  send with its fetch refused (spare sandbox + plugin + host, no I/O) median {:>6.1} µs",
        us(median(&mut refused))
    );
    println!(
        "  overhead    {:>8.1} µs (difference of medians), {:.1} µs (median of paired differences); target at most 20 µs",
        us(w) - us(n),
        paired
    );
    println!(
        "  overhead with the keeper's work after the send (teardown + next instantiation) {:.1} µs (median of paired differences)",
        paired_after
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

/// The median of `a[i] - b[i]`, in µs.
fn median_difference(a: &[Duration], b: &[Duration]) -> f64 {
    let mut diffs: Vec<f64> = a.iter().zip(b).map(|(a, b)| us(*a) - us(*b)).collect();
    diffs.sort_by(f64::total_cmp);
    diffs[diffs.len() / 2]
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
