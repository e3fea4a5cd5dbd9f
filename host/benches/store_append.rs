//! `cargo bench --bench store_append`: events per second through the durable
//! path (event + one delivery row committed, WAL synced on every commit), first
//! one transaction per event, then with group commit from several producers.
//! The issue asks for at least 10,000 events/s.

use mcp_push::notification::{ChannelId, Notification};
use mcp_push::store::prelude::*;
use mcp_push::store::{
    DeliveryPlan, GroupCommit, NewEvent, Source, SqliteOptions, SqliteStore, UnixMillis,
};
use std::sync::Arc;
use std::time::Instant;

const SINGLE: usize = 2_000;
const GROUPED: usize = 50_000;
const PRODUCERS: usize = 32;

fn event(i: usize) -> NewEvent {
    NewEvent {
        notification: Notification::new(format!("event {i}"), "the build finished in 42 s"),
        source: Source::Cli,
        watcher: None,
        deliveries: vec![DeliveryPlan::now(ChannelId::new("ops").unwrap())],
        idempotency_key: None,
        received_at: UnixMillis::now(),
    }
}

fn open(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
    SqliteStore::open(&dir.path().join(name), SqliteOptions::default()).unwrap()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();

    let store = open(&dir, "single.db");
    let start = Instant::now();
    for i in 0..SINGLE {
        store.append(event(i)).unwrap();
    }
    let single = SINGLE as f64 / start.elapsed().as_secs_f64();
    println!("one transaction per event ({SINGLE} events): {single:>9.0} events/s");

    // For comparison only: without a sync per commit an event survives a crash
    // of mcp-push but not a power cut, so this is not the durable path.
    let store = SqliteStore::open(
        &dir.path().join("normal.db"),
        SqliteOptions {
            synchronous_full: false,
            ..Default::default()
        },
    )
    .unwrap();
    let start = Instant::now();
    for i in 0..GROUPED {
        store.append(event(i)).unwrap();
    }
    let normal = GROUPED as f64 / start.elapsed().as_secs_f64();
    println!("one transaction per event, no sync ({GROUPED} events): {normal:>9.0} events/s");

    let store: Arc<dyn Store> = Arc::new(open(&dir, "group.db"));
    let group = Arc::new(GroupCommit::new(store, 1_024));
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let group = group.clone();
            std::thread::spawn(move || {
                for i in (p..GROUPED).step_by(PRODUCERS) {
                    group.append_blocking(event(i)).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let grouped = GROUPED as f64 / start.elapsed().as_secs_f64();
    println!(
        "group commit, {PRODUCERS} producers ({GROUPED} events): {grouped:>9.0} events/s{}",
        if grouped >= 10_000.0 {
            ""
        } else {
            "  (below the 10,000/s target)"
        }
    );
}
