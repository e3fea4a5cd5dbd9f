//! `cargo bench --bench serve_http`: the real `mcp-push serve` over real
//! HTTP, one webhook channel pointing at a loopback sink, every request
//! `POST /v1/notify` waiting for its delivery (the default). Beside it, in
//! the same run and interleaved round by round, the baseline: the same
//! client library (reqwest, keep-alive) posting straight to the same sink.
//! Prints each round's rates and their ratio for 1 client (one request at a
//! time), 16 and 64 clients; the server's resident memory (all of it and
//! its own, without the executable's pages) after 10k and 100k
//! notifications and from 1 to 200 s after the load has stopped and its
//! clients hung up; and the conditions (cores, load average).
//!
//! `MCP_PUSH_BENCH_SCALE=N` multiplies every count (default 1: about five
//! minutes on the 2-core development machine, three and a half of them the
//! idle server's wait). `MCP_PUSH_BENCH_NO_MEMORY=1` leaves out the memory
//! figures (and that wait). `MCP_PUSH_BENCH_BIN=PATH`
//! runs another build of `mcp-push` (an older one, to compare).

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::mcp_client::rt;
use support::{Sandbox, on_loopback, shared_cache_dir};

/// Requests per round and side, by number of clients: the one-client
/// rounds run at a few hundred to a few thousand per second, the others at
/// several thousand.
const ROUND_REQUESTS: [(usize, usize); 3] = [(1, 1_000), (16, 4_000), (64, 4_000)];
const ROUNDS: usize = 5;
/// The memory figures: resident size after this many notifications.
const RSS_AT: [usize; 2] = [10_000, 100_000];
/// Looks at the resident size after the load stops, in seconds from its end:
/// tokio's idle blocking threads exit after 10 s; serve's first retention
/// pass runs 30 s after its start; the channels' HTTP client closes a
/// connection idle for 90 s, looking every 90 s (so by 180 s).
const IDLE_AT: [u64; 5] = [1, 5, 15, 100, 200];

/// One side of a round: the URL posted to and the body.
#[derive(Clone)]
struct Target {
    url: String,
    body: String,
}

fn scale() -> f64 {
    std::env::var("MCP_PUSH_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()).round() as usize).max(1)
}

fn main() {
    let sunk = Arc::new(AtomicU64::new(0));
    let sink = {
        let sunk = sunk.clone();
        on_loopback(move |listener| async move {
            let app = axum::Router::new().fallback(move || {
                let sunk = sunk.clone();
                async move {
                    sunk.fetch_add(1, Ordering::Relaxed);
                    "ok"
                }
            });
            axum::serve(listener, app).await.unwrap()
        })
    };
    let home = Sandbox::new();
    let server = Serve::start(&home, &format!("http://{sink}/hook"));
    let pid = server.child.id();
    let (load_before, cores) = (loadavg(), cores());
    let direct = Target {
        url: format!("http://{sink}/direct"),
        body: r#"{"title":"bench","message":"a notification from the benchmark"}"#.into(),
    };
    let notify = Target {
        url: format!("http://{}/v1/notify", server.addr),
        body: r#"{"title":"bench","content":"a notification from the benchmark"}"#.into(),
    };
    rt().block_on(async move {
        let http = reqwest::Client::new();
        // Warm up: connections, the compile cache, the statement cache.
        run(&http, &notify, 16, 200).await;
        run(&http, &direct, 16, 200).await;
        tokio::time::sleep(Duration::from_millis(500)).await;

        println!(
            "mcp-push serve over HTTP, one webhook channel to a loopback sink, every \
             POST /v1/notify waiting for its delivery; baseline: reqwest posting straight to the \
             sink; {cores} cores, load average {load_before} at the start"
        );

        if std::env::var_os("MCP_PUSH_BENCH_NO_MEMORY").is_none() {
            memory(&notify, pid).await;
        }
        throughput(&http, &direct, &notify).await;
        println!(
            "load average {} at the end; the sink got {} requests",
            loadavg(),
            sunk.load(Ordering::Relaxed)
        );
    });
    drop(server);
}

/// Memory first, on a fresh server: the figures are after N notifications.
async fn memory(notify: &Target, pid: u32) {
    let start_rss = rss_kib(pid);
    let mut done = 0;
    let mut at = Vec::new();
    // The load's clients connect anew and hang up when it stops, so the
    // idle figures are the server's with its connections closed.
    let load = reqwest::Client::new();
    for n in RSS_AT.map(scaled) {
        let t = Instant::now();
        run(&load, notify, 64, n - done).await;
        let took = t.elapsed();
        at.push((n, rss_kib(pid), (n - done) as f64 / took.as_secs_f64()));
        done = n;
    }
    drop(load);
    let mut idle = Vec::new();
    let stopped = Instant::now();
    for s in IDLE_AT {
        tokio::time::sleep_until((stopped + Duration::from_secs(s)).into()).await;
        idle.push((s, rss_kib(pid)));
    }
    println!("resident memory of serve (VmRSS), 64 clients:");
    println!("  after start and 400 warm-up requests: {}", mib(start_rss));
    for (n, rss, rate) in &at {
        println!(
            "  after {n:>7} notifications: {}  ({rate:.0}/s delivered on the way)",
            mib(*rss)
        );
    }
    if let [(_, small, _), (_, large, _)] = at[..] {
        let growth = |small: u64, large: u64| (large as f64 / small as f64 - 1.0) * 100.0;
        println!(
            "  {} notifications vs {}: {:+.1}% (its own: {:+.1}%)",
            at[1].0,
            at[0].0,
            growth(small.total, large.total),
            growth(small.anon, large.anon)
        );
    }
    for (s, rss) in &idle {
        println!("  {s:>2} s after the load stopped: {}", mib(*rss));
    }
}

/// Each number of clients' rounds, against the direct baseline.
async fn throughput(http: &reqwest::Client, direct: &Target, notify: &Target) {
    for (clients, n) in ROUND_REQUESTS {
        let n = scaled(n);
        println!(
            "{clients} client{} ({n} requests per side and round, {ROUNDS} rounds):",
            if clients == 1 {
                ", one request at a time"
            } else {
                "s"
            }
        );
        let (mut ratios, mut rates) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            // Alternate which side goes first, so neither always gets
            // the machine just after the other's load.
            let (d, m) = if round % 2 == 0 {
                let d = run(http, direct, clients, n).await;
                (d, run(http, notify, clients, n).await)
            } else {
                let m = run(http, notify, clients, n).await;
                (run(http, direct, clients, n).await, m)
            };
            ratios.push(m / d);
            rates.push(m);
            println!(
                "  round {}: direct {d:>8.0}/s  mcp-push {m:>8.0}/s  ratio {:.3} \
                     (mcp-push takes {:.2}x the direct time)",
                round + 1,
                m / d,
                d / m
            );
        }
        ratios.sort_by(f64::total_cmp);
        rates.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        println!(
            "  median ratio {median:.3}: mcp-push takes {:.2}x the time of a direct post; \
                 median mcp-push rate {:.0}/s",
            1.0 / median,
            rates[rates.len() / 2]
        );
    }
}

/// `mcp-push serve` on a free loopback port, in a private home, with one
/// channel from `WEBHOOK_URL`; killed on drop.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Serve {
    fn start(home: &Sandbox, webhook: &str) -> Serve {
        let bin = std::env::var_os("MCP_PUSH_BENCH_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_mcp-push").into());
        let dir = home.dir.path();
        let mut child = Command::new(bin)
            .env_clear()
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("MCP_PUSH_PLUGINS_DIR", home.plugins_dir())
            .env("MCP_PUSH_CACHE_DIR", shared_cache_dir())
            .env("WEBHOOK_URL", webhook)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mcp-push serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("serve exited before listening")
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Serve { child, addr }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` requests from `clients` concurrent clients sharing one keep-alive
/// pool; returns requests per second. Panics on an answer other than 200
/// (a benchmark of failures would measure nothing).
async fn run(http: &reqwest::Client, target: &Target, clients: usize, n: usize) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.min(n) {
        let (http, target, next) = (http.clone(), target.clone(), next.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n as u64 {
                let resp = http
                    .post(&target.url)
                    .header("content-type", "application/json")
                    .body(target.body.clone())
                    .send()
                    .await
                    .expect("the server answers");
                let status = resp.status();
                let body = resp.bytes().await.expect("a reply body");
                assert_eq!(
                    status,
                    200,
                    "{}: {}",
                    target.url,
                    String::from_utf8_lossy(&body)
                );
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// A process's resident memory, in KiB: all of it (VmRSS), and the part
/// that is its own (RssAnon: heap, stacks, the guests' memories). The rest
/// is the executable's pages, and how many of those are mapped depends on
/// how the kernel holds the file in its page cache: the same build measured
/// 10 MiB apart freshly copied and after `drop_caches`.
#[derive(Clone, Copy)]
struct Rss {
    total: u64,
    anon: u64,
}

fn rss_kib(pid: u32) -> Rss {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Rss {
        total: field("VmRSS:"),
        anon: field("RssAnon:"),
    }
}

fn mib(rss: Rss) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    format!(
        "{:.1} MiB (its own, RssAnon: {:.1} MiB)",
        mib(rss.total),
        mib(rss.anon)
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
