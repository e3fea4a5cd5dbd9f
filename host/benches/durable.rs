//! `cargo bench --bench durable`: events through the whole durable path —
//! routed, written (group commit, synchronous=FULL) to a SQLite file, claimed
//! by the delivery worker, sent by the bundled webhook component to a loopback
//! endpoint that answers at once, and recorded. Prints events per second and
//! the latency each event sees from submission to its delivery being recorded
//! (p50/p99), and the durable-ack latency (submission until written).

#[path = "../../tests/support/mod.rs"]
mod support;

use mcp_push::config::{Channel, Origin};
use mcp_push::hub::{Clock, Hub, Live, Route, Submission, Submitted, WorkerOptions};
use mcp_push::notification::{ChannelId, Notification};
use mcp_push::plugin::{Registry, Runtime, RuntimeOptions, SettingValue};
use mcp_push::store::{ClaimScope, DeliveryState, EventId, Source, SqliteOptions, SqliteStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Mock, Reply};

const EVENTS: usize = 20_000;
const SENDERS: usize = 256;
/// The steady phase: this many events at this rate, to see the latency an
/// event gets when the hub is not saturated.
const STEADY: usize = 2_000;
const STEADY_RATE: u64 = 1_000;

fn main() {
    let mock = Mock::service(|_: &support::Recorded| Reply::text(200, "ok"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
        let registry = Registry::discover(&runtime, None).await;
        let webhook = registry.get("webhook").unwrap().clone();
        let channel = Channel {
            id: ChannelId::new("hook").unwrap(),
            plugin: webhook,
            settings: vec![SettingValue {
                key: "url".into(),
                value: mock.url("/hook"),
                secret: false,
            }],
            origin: Origin::Environment,
            rules: Default::default(),
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("bench.db"), SqliteOptions::default()).unwrap(),
        );
        let hub = Arc::new(Hub::new(
            vec![channel],
            Route::default(),
            store,
            Clock::system(),
            WorkerOptions::default(),
        ));
        let worker = hub.spawn_worker(ClaimScope::All);
        // Delivery times, by event, from the live stream.
        let delivered: Arc<Mutex<HashMap<EventId, Instant>>> = Arc::default();
        let mut live = hub.subscribe();
        let listener = {
            let delivered = delivered.clone();
            tokio::spawn(async move {
                let mut n = 0;
                while n < EVENTS + STEADY + 100 {
                    match live.recv().await {
                        Ok(Live::Delivery {
                            event_id,
                            state: DeliveryState::Sent,
                            ..
                        }) => {
                            delivered.lock().unwrap().insert(event_id, Instant::now());
                            n += 1;
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                            panic!("the benchmark's listener lagged by {k}")
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        let submit = {
            let hub = hub.clone();
            move |i: usize| {
                let hub = hub.clone();
                async move {
                    let t = Instant::now();
                    let sub = Submission::new(
                        Notification::new(format!("event {i}"), "benchmark"),
                        Source::Http,
                    );
                    match hub.submit(sub).await.unwrap() {
                        Submitted::Logged { appended, .. } => (appended.event_id, t, t.elapsed()),
                        Submitted::Skipped { .. } => unreachable!(),
                    }
                }
            }
        };
        // Warm up: connections, the pool, the statement cache.
        for i in 0..100 {
            submit(i).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;

        let started = Instant::now();
        let mut senders = tokio::task::JoinSet::new();
        for s in 0..SENDERS {
            let submit = submit.clone();
            senders.spawn(async move {
                let mut out = Vec::new();
                let mut i = s;
                while i < EVENTS {
                    out.push(submit(100 + i).await);
                    i += SENDERS;
                }
                out
            });
        }
        let mut submitted = Vec::with_capacity(EVENTS);
        while let Some(r) = senders.join_next().await {
            submitted.extend(r.unwrap());
        }
        let accepted = started.elapsed();
        let burst_ids: Vec<EventId> = submitted.iter().map(|(id, _, _)| *id).collect();
        while burst_ids
            .iter()
            .any(|id| !delivered.lock().unwrap().contains_key(id))
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let all_done = started.elapsed();

        // Steady load: one event every 1/STEADY_RATE s.
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / STEADY_RATE));
        let mut steady_tasks = tokio::task::JoinSet::new();
        for i in 0..STEADY {
            tick.tick().await;
            let submit = submit.clone();
            steady_tasks.spawn(async move { submit(100 + EVENTS + i).await });
        }
        let mut steady = Vec::with_capacity(STEADY);
        while let Some(r) = steady_tasks.join_next().await {
            steady.push(r.unwrap());
        }
        listener.await.unwrap();
        worker.finish().await;

        let delivered = delivered.lock().unwrap();
        let mut total: Vec<Duration> = submitted
            .iter()
            .map(|(id, t, _)| delivered[id].duration_since(*t))
            .collect();
        let mut ack: Vec<Duration> = submitted.iter().map(|(_, _, a)| *a).collect();
        let mut steady_total: Vec<Duration> = steady
            .iter()
            .map(|(id, t, _)| delivered[id].duration_since(*t))
            .collect();
        total.sort();
        ack.sort();
        steady_total.sort();
        let pct = |v: &[Duration], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
        println!(
            "{EVENTS} events from {SENDERS} concurrent senders, one webhook channel on loopback, \
             SQLite synchronous=FULL with group commit:"
        );
        println!(
            "  throughput: {:.0} events/s delivered ({:.0} events/s accepted)",
            EVENTS as f64 / all_done.as_secs_f64(),
            EVENTS as f64 / accepted.as_secs_f64()
        );
        println!(
            "  submit -> durable ack:     p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(pct(&ack, 0.5)),
            ms(pct(&ack, 0.99))
        );
        println!(
            "  submit -> sent + recorded: p50 {:>7.2} ms  p99 {:>7.2} ms  (queueing in the burst)",
            ms(pct(&total, 0.5)),
            ms(pct(&total, 0.99))
        );
        println!("{STEADY} events at a steady {STEADY_RATE} events/s (the latency the durable path adds):");
        println!(
            "  submit -> sent + recorded: p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(pct(&steady_total, 0.5)),
            ms(pct(&steady_total, 0.99))
        );
        assert_eq!(mock.requests_to("/hook").len(), EVENTS + STEADY + 100);
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
