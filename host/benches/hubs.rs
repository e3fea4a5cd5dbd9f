//! `cargo bench --bench hubs`: how far several hubs on one PostgreSQL go
//! (issue 19). The real `mcp-push serve`, one webhook channel to a loopback
//! sink, clients posting `POST /v1/notify?wait=0` spread over the hubs.
//! Each configuration in turn, on a fresh database, round after round:
//! SQLite (one hub, the baseline), then PostgreSQL with 1, 2 and 3 hubs.
//! For each: notifications accepted per second (all acknowledged), delivered
//! per second (all at the sink), the acknowledgement's latency p50/p99, and
//! what bounds them: PostgreSQL's commits per second, and per notification
//! its commits and WAL flushes (from `pg_stat_database` and `pg_stat_wal`,
//! read once the hubs stopped) and the transactions that wrote (transaction
//! ids drawn), beside the server's bare commit rate (one client, one-row
//! transactions) measured in the same run. Then the
//! conditions: cores, load average, PostgreSQL's version and durability.
//!
//! PostgreSQL is a cluster of the bench's own (`scripts/test-postgres.sh`,
//! fsync and synchronous commit on, as a real deployment); it needs
//! PostgreSQL installed. `MCP_PUSH_BENCH_SCALE=N` multiplies the counts
//! (default 1: about two minutes on the 2-core development machine).

#[path = "../../tests/support/mod.rs"]
mod support;

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Sandbox;
use support::postgres::{Cluster, Database, Hub};
use support::sink::{Closing, Sink};

/// Notifications per round, and clients posting them.
const PER_ROUND: usize = 4_000;
const CLIENTS: usize = 32;
const ROUNDS: usize = 3;

fn scale() -> f64 {
    std::env::var("MCP_PUSH_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Sqlite,
    Postgres(usize),
}

impl Setup {
    fn name(self) -> String {
        match self {
            Setup::Sqlite => "SQLite, 1 hub".into(),
            Setup::Postgres(1) => "PostgreSQL, 1 hub".into(),
            Setup::Postgres(n) => format!("PostgreSQL, {n} hubs"),
        }
    }
}

/// How long the server is given to take in the counts of the hubs'
/// connections once they closed.
const STATS_SETTLE: Duration = Duration::from_millis(500);

/// One round's figures.
struct Figures {
    accepted_per_s: f64,
    delivered_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// PostgreSQL only.
    db: Option<DbFigures>,
}

/// What a round cost PostgreSQL.
#[derive(Clone, Copy)]
struct DbFigures {
    commits_per_s: f64,
    /// Per notification: transactions committed (reads too), those that
    /// wrote (each draws a transaction id), and WAL flushes.
    commits: f64,
    writes: f64,
    flushes: f64,
}

fn main() {
    let Some(cluster) = Cluster::start() else {
        eprintln!("the hubs benchmark needs PostgreSQL (Debian: apt-get install postgresql)");
        std::process::exit(1);
    };
    let n = ((PER_ROUND as f64 * scale()).round() as usize).max(CLIENTS);
    let rt = support::mcp_client::rt();
    let (load_before, cores) = (loadavg(), cores());
    let version = query_one(&cluster.url, "SHOW server_version");
    let bare = bare_commit_rate(&cluster.url, Duration::from_secs(3));

    let setups = [
        Setup::Sqlite,
        Setup::Postgres(1),
        Setup::Postgres(2),
        Setup::Postgres(3),
    ];
    let mut results: Vec<(Setup, Vec<Figures>)> = setups.iter().map(|s| (*s, vec![])).collect();
    for round in 0..ROUNDS {
        for (i, setup) in setups.iter().enumerate() {
            let db = Database::new(cluster.url.clone(), &format!("bench_{i}_{round}"), "pw");
            let f = rt.block_on(one_round(*setup, &db, n));
            eprintln!(
                "round {}: {:<22} accepted {:>6.0}/s  delivered {:>6.0}/s  ack p50 {:>5.1} ms  p99 {:>6.1} ms{}",
                round + 1,
                setup.name(),
                f.accepted_per_s,
                f.delivered_per_s,
                f.p50_ms,
                f.p99_ms,
                f.db.map(|d| format!(
                    "  {:.0} commits/s; per notification {:.1} commits, {:.2} writing, {:.2} WAL flushes",
                    d.commits_per_s, d.commits, d.writes, d.flushes
                ))
                .unwrap_or_default()
            );
            results[i].1.push(f);
        }
    }

    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let base = {
        let mut v: Vec<f64> = results[0].1.iter().map(|f| f.accepted_per_s).collect();
        median(&mut v)
    };
    println!(
        "\n{n} notifications per round, {CLIENTS} clients posting ?wait=0 spread over the hubs, \
         one webhook channel to a loopback sink; medians of {ROUNDS} rounds"
    );
    println!(
        "{:<22} {:>10} {:>10} {:>8} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8}",
        "",
        "accepted/s",
        "vs SQLite",
        "sent/s",
        "ack p50",
        "ack p99",
        "commits/s",
        "commits",
        "writing",
        "flushes"
    );
    println!("{:>110}", "(per notification)");
    for (setup, figures) in &results {
        let pick = |f: &dyn Fn(&Figures) -> f64| {
            let mut v: Vec<f64> = figures.iter().map(f).collect();
            median(&mut v)
        };
        let accepted = pick(&|f| f.accepted_per_s);
        let db = |of: fn(&DbFigures) -> f64, places: usize| match figures[0].db {
            Some(_) => format!("{:.*}", places, pick(&|f| f.db.as_ref().map_or(0.0, of))),
            None => "-".into(),
        };
        println!(
            "{:<22} {:>10.0} {:>9.2}x {:>8.0} {:>6.1} ms {:>6.1} ms {:>10} {:>8} {:>8} {:>8}",
            setup.name(),
            accepted,
            accepted / base,
            pick(&|f| f.delivered_per_s),
            pick(&|f| f.p50_ms),
            pick(&|f| f.p99_ms),
            db(|d| d.commits_per_s, 0),
            db(|d| d.commits, 1),
            db(|d| d.writes, 2),
            db(|d| d.flushes, 2),
        );
    }
    println!(
        "\nPostgreSQL {version}, fsync and synchronous_commit on, its bare commit rate \
         {bare:.0}/s (one client, one-row transactions); {cores} cores, load average {load_before} \
         before, {} after",
        loadavg()
    );
    drop(cluster);
}

/// Start the setup's hubs on `db` (or a SQLite file), post `n`, wait for the
/// sink to have them all, stop the hubs.
async fn one_round(setup: Setup, db: &Database, n: usize) -> Figures {
    let sink = Sink::start(n, Closing::NEVER).await;
    let home = Sandbox::new().config(&format!(
        "[channels.sink]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        sink.url()
    ));
    let (url, hubs) = match setup {
        Setup::Sqlite => (None, 1),
        Setup::Postgres(k) => (Some(db.url()), k),
    };
    let location = url
        .clone()
        .unwrap_or_else(|| home.dir.path().join("hub.db").display().to_string());
    let mut running: Vec<Hub> = (0..hubs).map(|_| Hub::start(&home, &location)).collect();
    let bases: Arc<Vec<String>> = Arc::new(running.iter().map(Hub::base).collect());
    let counts_before = url.as_deref().map(counters);

    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (next, bases, latencies) = (next.clone(), bases.clone(), latencies.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let base = &bases[client % bases.len()];
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/v1/notify?wait=0"))
                        .json(&json!({ "title": "bench", "content": format!("marker {i}") }))
                        .send()
                        .await
                        .expect("the hub answers");
                    assert!(r.status().is_success(), "{}", r.status());
                    mine.push(t.elapsed());
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let accepted = started.elapsed();
    while sink.arrived.load(Ordering::SeqCst) < n {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "not all delivered after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let delivered = started.elapsed();
    for h in running.iter_mut() {
        h.stop();
    }
    // A busy backend reports its counts at most once a second, an idle one
    // after ten: read before the hubs' connections closed, a round of a
    // second or two showed almost none of its commits. A backend reports
    // all it has as it exits.
    tokio::time::sleep(STATS_SETTLE).await;
    let db = url.as_deref().zip(counts_before).map(|(u, before)| {
        let after = counters(u);
        let commits = (after.commits - before.commits) as f64;
        // Less the transaction id `counters` itself drew.
        let writes = (after.xid - before.xid - 1) as f64;
        DbFigures {
            commits_per_s: commits / delivered.as_secs_f64(),
            commits: commits / n as f64,
            writes: writes / n as f64,
            flushes: (after.flushes - before.flushes) as f64 / n as f64,
        }
    });
    let mut l = std::mem::take(&mut *latencies.lock().unwrap());
    l.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Figures {
        accepted_per_s: n as f64 / accepted.as_secs_f64(),
        delivered_per_s: n as f64 / delivered.as_secs_f64(),
        p50_ms: ms(l[l.len() / 2]),
        p99_ms: ms(l[l.len() * 99 / 100]),
        db,
    }
}

/// PostgreSQL's counts so far (the bench is the cluster's only user).
struct Counters {
    /// Transactions committed in the database `url` names.
    commits: i64,
    /// The server's WAL flushes: what a durable commit waits for.
    flushes: i64,
    /// The next transaction id: one is drawn by each transaction that
    /// writes (and by the query that reads it), in every database.
    xid: i64,
}

fn counters(url: &str) -> Counters {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let r = c
            .query_one(
                "SELECT (SELECT xact_commit FROM pg_stat_database
                         WHERE datname = current_database()),
                        (SELECT wal_sync FROM pg_stat_wal),
                        txid_current()",
                &[],
            )
            .unwrap();
        Counters {
            commits: r.get(0),
            flushes: r.get(1),
            xid: r.get(2),
        }
    })
    .join()
    .unwrap()
}

fn query_one(url: &str, sql: &str) -> String {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

/// One client committing one-row transactions for `time`: what one
/// connection gets from this server's disk.
fn bare_commit_rate(url: &str, time: Duration) -> f64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let _ = c.batch_execute("DROP TABLE IF EXISTS bench_commits");
    c.batch_execute("CREATE TABLE bench_commits (x BIGINT)")
        .unwrap();
    let insert = c.prepare("INSERT INTO bench_commits VALUES ($1)").unwrap();
    let started = Instant::now();
    let mut n = 0i64;
    while started.elapsed() < time {
        c.execute(&insert, &[&n]).unwrap();
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    c.batch_execute("DROP TABLE bench_commits").unwrap();
    rate
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
