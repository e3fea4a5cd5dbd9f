//! `cargo bench --bench retention`: the store's size under a steady load,
//! with retention (`keep_days = 3`) and without it (the baseline, in the same
//! run). Each simulated day appends the same number of done events (one
//! delivery each, as a quiet channel's); retention runs after each day, as
//! `serve` would. Prints the file size (with its WAL) day by day.
//!
//! Events a day: `MCP_PUSH_BENCH_PER_DAY` (default 20,000).

use mcp_push::notification::{ChannelId, Notification};
use mcp_push::store::{
    DeliveryPlan, NewEvent, Retention, Source, SqliteOptions, SqliteStore, Store, UnixMillis,
};
use std::sync::Arc;
use std::time::Instant;

const DAY: i64 = 86_400_000;
const DAYS: i64 = 12;

fn event(i: usize, at: i64) -> NewEvent {
    let mut plan = DeliveryPlan::now(ChannelId::new("ops").unwrap());
    // Done at once: what retention may take once it is old enough.
    plan.skip = Some("done".into());
    NewEvent {
        notification: Notification::new(format!("event {i}"), "the build finished in 42 s"),
        source: Source::Cli,
        watcher: None,
        deliveries: vec![plan],
        idempotency_key: None,
        received_at: UnixMillis(at),
    }
}

fn main() {
    let per_day: usize = std::env::var("MCP_PUSH_BENCH_PER_DAY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let options = || SqliteOptions {
        synchronous_full: false,
        ..Default::default()
    };
    let kept: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("kept.db"), options()).unwrap());
    let all: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("all.db"), options()).unwrap());
    let keep = Retention {
        keep_days: Some(3),
        keep_events: None,
    };
    let bytes = |s: &Arc<dyn Store>| s.size().unwrap().bytes as f64 / 1_048_576.0;
    println!("{per_day} events a day, keep_days = 3 against no retention:");
    println!("  day   with retention (MiB, events)   without (MiB, events)   prune time");
    let mut sizes = Vec::new();
    for day in 0..DAYS {
        for store in [&kept, &all] {
            for chunk in (0..per_day).collect::<Vec<_>>().chunks(1_000) {
                let events = chunk
                    .iter()
                    .map(|&i| event(i, day * DAY + (i as i64) * (DAY / per_day as i64)))
                    .collect();
                store.append_batch(events).unwrap();
            }
        }
        let t = Instant::now();
        let now = UnixMillis((day + 1) * DAY);
        loop {
            let p = kept.prune(&keep, now, 500, false).unwrap();
            if p.events < 500 {
                break;
            }
        }
        let took = t.elapsed();
        let (k, a) = (bytes(&kept), bytes(&all));
        sizes.push(k);
        println!(
            "  {:>3}   {:>8.1} {:>10}              {:>8.1} {:>10}       {:>6.0} ms",
            day + 1,
            k,
            kept.size().unwrap().events,
            a,
            all.size().unwrap().events,
            took.as_secs_f64() * 1000.0
        );
    }
    let settled = sizes[4];
    let last = *sizes.last().unwrap();
    println!(
        "with retention, day {DAYS} / day 5: {:.2}x (flat is 1.0); without, the store grows by {:.1} MiB a day",
        last / settled,
        (bytes(&all) - sizes[0]) / (DAYS - 1) as f64
    );
}
