//! `cargo bench --bench watchers`: what 1,000 active watchers checking every
//! minute cost a hub at steady state (issue 18; the aim is under 5 % of one
//! core and under 50 MB). Everything is on 127.0.0.1, in this process: a
//! hub on a SQLite store with one webhook channel, its delivery worker, the
//! watchers' runner, and a local site on a thread of its own serving 1,000
//! distinct pages (700 HTML pages, 200 RSS feeds, 100 JSON prices) and the
//! webhook's endpoint. Five pages change a minute (one watcher in 200), so
//! a few checks fire and go through the outbox to the webhook.
//!
//! Two ways:
//! - a manual clock moved one minute at a time, `Runner::tick` running the
//!   checks due: the process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`) per
//!   simulated minute, less the site's thread (its own CPU clock), divided
//!   by 60 s is the share of one core. The first minute (every watcher's
//!   baseline) is the warm-up; then `MCP_PUSH_BENCH_MINUTES` (10) minutes.
//!   The baseline, in the same run: the same 1,000 GETs made by a plain
//!   reqwest client (16 at a time, as the runner), without a hub;
//! - the real clock: the runner's own task, as `serve` runs it, for
//!   `MCP_PUSH_BENCH_REAL_MINUTES` (2; 0 skips it) real minutes. This
//!   includes what the hub costs when idle (the plugins' epoch thread,
//!   the delivery worker), measured first, for 20 s, as its baseline.
//!
//! Memory: the process's VmRSS and VmHWM with the hub loaded and no
//! watcher, then at steady state. The site (a current-thread runtime)
//! lives in the same process, so its memory is in both figures. The first
//! run after a build compiles the webhook component (the compile cache is
//! keyed by the build) and starts about 20 MiB higher: run it twice.
//!
//! `MCP_PUSH_BENCH_WATCHERS` changes the number of watchers (1,000).

#[path = "../../tests/support/mod.rs"]
mod support;

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use mcp_push::app::{App, AppOptions};
use mcp_push::hub::{Clock, Hub, Live, Submission};
use mcp_push::notification::Notification;
use mcp_push::ops::watchers;
use mcp_push::store::{ClaimScope, DeliveryState, Source, UnixMillis, WatcherOrigin};
use mcp_push::watch::{Runner, WatchSettings};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MIN: i64 = 60_000;
/// One watcher in this many sees its page change each minute.
const CHANGE_ONE_IN: usize = 200;
/// How long the idle hub is measured on the real clock.
const IDLE_SECS: u64 = 20;
/// Checks the plain client runs at once (the runner's `PARALLEL`).
const PARALLEL: usize = 16;

fn env_num(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What each path of the site serves; the bench bumps a page's revision
/// to change it.
struct Site {
    web: usize,
    feeds: usize,
    revisions: Vec<AtomicU32>,
    gets: AtomicUsize,
    hooks: AtomicUsize,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Web,
    Feed,
    Price,
}

impl Site {
    fn new(n: usize) -> Site {
        let web = n * 7 / 10;
        let feeds = n * 2 / 10;
        Site {
            web,
            feeds,
            revisions: (0..n).map(|_| AtomicU32::new(0)).collect(),
            gets: AtomicUsize::new(0),
            hooks: AtomicUsize::new(0),
        }
    }

    fn kind(&self, i: usize) -> Kind {
        if i < self.web {
            Kind::Web
        } else if i < self.web + self.feeds {
            Kind::Feed
        } else {
            Kind::Price
        }
    }

    fn path(&self, i: usize) -> String {
        match self.kind(i) {
            Kind::Web => format!("/web/{i}"),
            Kind::Feed => format!("/feed/{i}"),
            Kind::Price => format!("/price/{i}"),
        }
    }

    /// The pages that change at minute `m`.
    fn change(&self, m: usize) {
        let n = self.revisions.len();
        let mut i = (CHANGE_ONE_IN - m % CHANGE_ONE_IN) % CHANGE_ONE_IN;
        while i < n {
            self.revisions[i].fetch_add(1, Ordering::SeqCst);
            i += CHANGE_ONE_IN;
        }
    }

    fn answer(&self, method: &Method, uri: &Uri) -> Response {
        let path = uri.path();
        if method == Method::POST && path == "/hook" {
            self.hooks.fetch_add(1, Ordering::SeqCst);
            return "ok".into_response();
        }
        let Some((kind, i)) = path[1..]
            .split_once('/')
            .and_then(|(k, i)| Some((k, i.parse::<usize>().ok()?)))
            .filter(|(_, i)| *i < self.revisions.len())
        else {
            return StatusCode::NOT_FOUND.into_response();
        };
        self.gets.fetch_add(1, Ordering::Relaxed);
        let rev = self.revisions[i].load(Ordering::SeqCst);
        let (ct, body) = match kind {
            "web" => ("text/html; charset=utf-8", page(i, rev)),
            "feed" => ("application/rss+xml", feed(i, rev)),
            _ => ("application/json", price(i, rev)),
        };
        ([("content-type", ct)], body).into_response()
    }
}

const FILLER: &str = "Residents gathered on Tuesday to hear the council's plans for the \
    old market hall, which has stood empty since the spring.";

/// About 8 KB of HTML: a head with a style and a script, a menu, 30
/// stories (the first names the page's revision) and a footer.
fn page(i: usize, rev: u32) -> String {
    let mut s = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Site {i}</title>\
         <style>body{{font-family:sans-serif;margin:0 auto;max-width:60em}}nav a{{margin:0 1em}}\
         article{{border-bottom:1px solid #ccc}}</style>\
         <script>window.analytics={{id:{i},track:function(){{}}}};</script></head><body>\
         <nav><a href=/>Home</a><a href=/news>News</a><a href=/sport>Sport</a>\
         <a href=/about>About</a></nav><main><h1>Site {i}</h1>"
    );
    for k in 0..30 {
        let title = if k == 0 {
            format!("Revision {rev} of the front page")
        } else {
            format!("Story {k} from site {i}")
        };
        s.push_str(&format!(
            "<article><h2><a href=/story/{k}>{title}</a></h2><p>{FILLER}</p></article>"
        ));
    }
    s.push_str("</main><footer>&copy; 2026 Site, all rights reserved</footer></body></html>");
    s
}

/// An RSS feed of 20 items; each revision adds one at the top.
fn feed(i: usize, rev: u32) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {i}</title>\
         <link>http://127.0.0.1/feed/{i}</link><description>News from feed {i}</description>"
    );
    for id in (rev..rev + 20).rev() {
        s.push_str(&format!(
            "<item><title>Item {id} of feed {i}</title><link>http://127.0.0.1/feed/{i}/{id}</link>\
             <guid>feed-{i}-{id}</guid><description>{FILLER}</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

/// A price that is above the watchers' level (100) on odd revisions.
fn price(i: usize, rev: u32) -> String {
    let usd = if rev % 2 == 1 { 150.5 } else { 50.25 };
    json!({"symbol": format!("X{i}"), "price": {"usd": usd, "eur": usd * 0.9},
           "updated": "2026-12-03T12:00:00Z"})
    .to_string()
}

/// Serve `site` on a loopback port from a thread of its own; its address
/// and the CPU clock of that thread.
fn serve(site: Arc<Site>) -> (std::net::SocketAddr, libc::clockid_t) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: the calling thread's own id, and a valid out pointer.
        assert_eq!(
            unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) },
            0
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send((listener.local_addr().unwrap(), clock)).unwrap();
            let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
                let site = site.clone();
                async move { site.answer(&method, &uri) }
            });
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn cpu(clock: libc::clockid_t) -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and out pointer.
    assert_eq!(unsafe { libc::clock_gettime(clock, &mut t) }, 0);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// CPU time of the whole process and of the site's thread.
#[derive(Clone, Copy)]
struct Cpu {
    process: Duration,
    site: Duration,
}

impl Cpu {
    fn now(site: libc::clockid_t) -> Cpu {
        Cpu {
            process: cpu(libc::CLOCK_PROCESS_CPUTIME_ID),
            site: cpu(site),
        }
    }

    /// Milliseconds since `before`: the process less the site, and the site.
    fn since(&self, before: &Cpu) -> (f64, f64) {
        let site = (self.site - before.site).as_secs_f64() * 1e3;
        let all = (self.process - before.process).as_secs_f64() * 1e3;
        (all - site, site)
    }
}

/// VmRSS and VmHWM, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Events written and deliveries sent, as the hub tells its listeners.
#[derive(Default)]
struct Counts {
    events: AtomicUsize,
    sent: AtomicUsize,
}

fn count(hub: &Arc<Hub>) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let mut live = hub.subscribe();
    let c = counts.clone();
    tokio::spawn(async move {
        loop {
            match live.recv().await {
                Ok(Live::Event { .. }) => {
                    c.events.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Live::Delivery {
                    state: DeliveryState::Sent,
                    ..
                }) => {
                    c.sent.fetch_add(1, Ordering::SeqCst);
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                    panic!("the benchmark's listener lagged by {k}")
                }
                Err(_) => return,
            }
        }
    });
    counts
}

/// Until every event written has been delivered (at most 30 s).
async fn delivered(counts: &Counts) {
    let until = Instant::now() + Duration::from_secs(30);
    while counts.sent.load(Ordering::SeqCst) < counts.events.load(Ordering::SeqCst) {
        assert!(Instant::now() < until, "deliveries did not finish in 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn main() {
    let n = env_num("MCP_PUSH_BENCH_WATCHERS", 1_000);
    let minutes = env_num("MCP_PUSH_BENCH_MINUTES", 10).max(1);
    let real_minutes = env_num("MCP_PUSH_BENCH_REAL_MINUTES", 2);
    let site = Arc::new(Site::new(n));
    let (addr, site_clock) = serve(site.clone());
    let url = |path: &str| format!("http://{addr}{path}");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = loadavg();
    let sizes = (
        page(0, 0).len(),
        feed(0, 0).len(),
        price(0, 0).len(),
        n - site.web - site.feeds,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "from_env = false\n[channels.phone]\nplugin = \"webhook\"\nurl = \"{}\"\n",
                url("/hook")
            ),
        )
        .unwrap();
        let app = App::load(&AppOptions {
            config: Some(config),
            plugins_dir: None,
            cache_dir: Some(support::shared_cache_dir()),
            db: Some(dir.path().join("hub.db")),
            ..Default::default()
        })
        .await
        .unwrap();
        let settings = WatchSettings {
            max: n + 10,
            allow_hosts: vec!["127.0.0.1".into()],
            timeout: Duration::from_secs(20),
            ..Default::default()
        };
        let store = app.open_store().unwrap();
        // The simulated minutes end about when the real-clock part starts,
        // so the watchers are due then.
        let start = UnixMillis(UnixMillis::now().0 - (minutes as i64 + 1) * MIN);
        let clock = Clock::manual(start);
        let hub = Arc::new(app.hub_with_clock(store.clone(), clock.clone()));
        let worker = hub.spawn_worker(ClaimScope::All);
        let counts = count(&hub);
        let runner = Arc::new(Runner::new(hub.clone(), settings.clone()).unwrap());
        // One webhook send first, so the channel's component is loaded
        // before the memory baseline (a hub that delivers has it loaded).
        let warm_up = Submission::new(
            Notification::new("warm-up", "the webhook is loaded"),
            Source::Cli,
        );
        hub.submit(warm_up).await.unwrap();
        delivered(&counts).await;
        let rss_hub = memory();

        // The baseline: the same GETs by a plain client, no hub.
        let paths: Vec<String> = (0..n).map(|i| url(&site.path(i))).collect();
        let plain = reqwest::Client::new();
        let mut plain_runs = Vec::new();
        for _ in 0..4 {
            let before = Cpu::now(site_clock);
            let got: usize = futures::stream::iter(paths.iter())
                .map(|u| {
                    let plain = plain.clone();
                    async move {
                        plain
                            .get(u)
                            .send()
                            .await
                            .unwrap()
                            .bytes()
                            .await
                            .unwrap()
                            .len()
                    }
                })
                .buffer_unordered(PARALLEL)
                .fold(0, |a, b| async move { a + b })
                .await;
            assert!(got > 0);
            plain_runs.push(Cpu::now(site_clock).since(&before));
        }
        drop(plain);
        // The first run opens the connections.
        let plain_client = median(&plain_runs[1..].iter().map(|r| r.0).collect::<Vec<_>>());
        let plain_site = median(&plain_runs[1..].iter().map(|r| r.1).collect::<Vec<_>>());
        let rss_plain = memory();

        for i in 0..n {
            let spec = match site.kind(i) {
                Kind::Web if i % 2 == 0 => json!({"name": format!("web-{i}"), "kind": "web",
                    "every": "1m", "urls": [url(&site.path(i))]}),
                Kind::Web => json!({"name": format!("web-{i}"), "kind": "web", "every": "1m",
                    "urls": [url(&site.path(i))], "selector": "main"}),
                Kind::Feed => json!({"name": format!("feed-{i}"), "kind": "feed", "every": "1m",
                    "urls": [url(&site.path(i))]}),
                Kind::Price => json!({"name": format!("price-{i}"), "kind": "threshold",
                    "every": "1m", "url": url(&site.path(i)), "pointer": "/price/usd",
                    "above": 100.0}),
            };
            watchers::create(&runner, spec, WatcherOrigin::Api)
                .await
                .unwrap();
        }

        println!(
            "{n} watchers every 1m ({} web pages of {:.1} KB, half with a selector; {} RSS feeds \
             of {:.1} KB; {} JSON thresholds of {} B), one change a minute per {CHANGE_ONE_IN} \
             watchers, a webhook channel; all on 127.0.0.1",
            site.web,
            sizes.0 as f64 / 1e3,
            site.feeds,
            sizes.1 as f64 / 1e3,
            sizes.3,
            sizes.2
        );
        println!("{cores} cores, load average {load_before} at the start");
        println!();
        println!("simulated minutes (manual clock, Runner::tick):");
        println!(
            "  minute   checks  fired   CPU ms  share of a core   wall ms   site CPU ms   VmRSS MiB"
        );
        let mut shares = Vec::new();
        let mut per_minute = Vec::new();
        for m in 0..=minutes {
            if m > 0 {
                site.change(m);
                clock.set(UnixMillis(clock.now().0 + MIN));
            }
            let events = counts.events.load(Ordering::SeqCst);
            let (before, wall) = (Cpu::now(site_clock), Instant::now());
            let checks = runner.tick().await.unwrap();
            delivered(&counts).await;
            let wall = wall.elapsed().as_secs_f64() * 1e3;
            let (ms, site_ms) = Cpu::now(site_clock).since(&before);
            let fired = counts.events.load(Ordering::SeqCst) - events;
            let share = ms / 60_000.0 * 100.0;
            let label = if m == 0 {
                "0 (baselines)".to_string()
            } else {
                m.to_string()
            };
            println!(
                "  {label:>6}   {checks:>6}  {fired:>5}  {ms:>7.1}  {share:>12.2} %  {wall:>8.0}   \
                 {site_ms:>9.1}   {:>9.1}",
                memory().0
            );
            if m > 0 {
                assert_eq!(checks, n, "minute {m}: every watcher is due once");
                shares.push(share);
                per_minute.push(ms);
            }
        }
        let rss_sim = memory();
        let med = median(&per_minute);
        println!(
            "  median: {med:.1} ms of CPU a simulated minute = {:.2} % of one core \
             (min {:.1}, max {:.1} ms)",
            median(&shares),
            per_minute.iter().cloned().fold(f64::MAX, f64::min),
            per_minute.iter().cloned().fold(0.0, f64::max),
        );
        println!(
            "  baseline, same run: a plain reqwest client GETting the same {n} URLs \
             ({PARALLEL} at a time): {plain_client:.1} ms of CPU (the site: {plain_site:.1} ms); \
             the watchers' minute is {:.1}x that",
            med / plain_client
        );

        // The real clock, as `serve` runs the watchers.
        let mut real = None;
        if real_minutes > 0 {
            worker.finish().await;
            drop(runner);
            drop(hub);
            let hub = Arc::new(app.hub_with_clock(store.clone(), Clock::system()));
            let worker = hub.spawn_worker(ClaimScope::All);
            let counts = count(&hub);
            // The hub alone on the real clock, its watchers not yet run:
            // what the process costs without them.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let before = Cpu::now(site_clock);
            tokio::time::sleep(Duration::from_secs(IDLE_SECS)).await;
            let idle = Cpu::now(site_clock).since(&before).0 * 60.0 / IDLE_SECS as f64;
            let runner = Arc::new(Runner::new(hub.clone(), settings.clone()).unwrap());
            let task = runner.spawn();
            let changer = {
                let site = site.clone();
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_secs(60));
                    for m in minutes + 1.. {
                        every.tick().await;
                        site.change(m);
                    }
                })
            };
            // The overdue checks run at once; measure whole minutes after.
            tokio::time::sleep(Duration::from_secs(10)).await;
            let gets = site.gets.load(Ordering::SeqCst);
            let events = counts.events.load(Ordering::SeqCst);
            let before = Cpu::now(site_clock);
            let window = Duration::from_secs(60 * real_minutes as u64);
            tokio::time::sleep(window).await;
            let (ms, site_ms) = Cpu::now(site_clock).since(&before);
            let checks = site.gets.load(Ordering::SeqCst) - gets;
            let fired = counts.events.load(Ordering::SeqCst) - events;
            changer.abort();
            drop(task);
            delivered(&counts).await;
            worker.finish().await;
            real = Some((ms, site_ms, checks, fired, memory(), idle));
        } else {
            worker.finish().await;
        }

        println!();
        if let Some((ms, site_ms, checks, fired, _, idle)) = real {
            let secs = 60.0 * real_minutes as f64;
            println!(
                "real clock, the runner's own task, {real_minutes} min: {checks} checks, {fired} \
                 fired, {ms:.0} ms of CPU = {:.2} % of one core ({:.1} ms a minute; the site: \
                 {site_ms:.0} ms)",
                ms / secs / 10.0,
                ms / real_minutes as f64,
            );
            println!(
                "  baseline, same run: the same hub on the real clock before its runner started, \
                 {IDLE_SECS} s: {idle:.1} ms of CPU a minute ({:.3} % of one core)",
                idle / 600.0
            );
        }
        println!("memory of the process (the site's thread included):");
        let line = |label: String, (rss, hwm): (f64, f64)| {
            println!(
                "  {label:<38} VmRSS {rss:>6.1} MiB  VmHWM {hwm:>6.1} MiB  ({:+.1} MiB)",
                rss - rss_hub.0
            )
        };
        line("hub loaded, no watcher:".into(), rss_hub);
        line("after the plain client's baseline:".into(), rss_plain);
        line(
            format!("{n} watchers, {minutes} simulated minutes:"),
            rss_sim,
        );
        if let Some((.., rss_real, _)) = real {
            line(
                format!("then {real_minutes} min on the real clock:"),
                rss_real,
            );
        }
        println!(
            "the webhook endpoint received {} requests; load average {} at the end",
            site.hooks.load(Ordering::SeqCst),
            loadavg()
        );
    });
}
