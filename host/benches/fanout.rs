//! `cargo bench --bench fanout`: one send fanned out to 1, 10 and 50 channels
//! whose endpoint answers after 50 ms. Prints the wall time of the send (the
//! median of several), which should stay close to 50 ms however many channels
//! there are. Every send goes the durable way (SQLite file, delivery worker).

#[path = "../../tests/support/mod.rs"]
mod support;

use mcp_push::config::{Channel, Origin};
use mcp_push::hub::{Clock, Hub, Overall, Route, Submission, WorkerOptions};
use mcp_push::notification::{ChannelId, Notification};
use mcp_push::plugin::{Registry, Runtime, RuntimeOptions, SettingValue};
use mcp_push::store::{ClaimScope, Source, SqliteOptions, SqliteStore};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Behaviour, Mock, Reply};

const ROUNDS: usize = 15;

fn main() {
    let mock = Mock::service_with(
        Behaviour {
            delay: Some(Duration::from_millis(50)),
            gate: None,
        },
        |_: &support::Recorded| Reply::text(200, "ok"),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
        let registry = Registry::discover(&runtime, None).await;
        let webhook = registry
            .get("webhook")
            .expect("the bundled webhook")
            .clone();
        println!("one send, every channel's endpoint answering after 50 ms (median of {ROUNDS}):");
        for n in [1, 10, 50] {
            let channels: Vec<Channel> = (0..n)
                .map(|i| Channel {
                    id: ChannelId::new(&format!("ch{i}")).unwrap(),
                    plugin: webhook.clone(),
                    settings: vec![SettingValue {
                        key: "url".into(),
                        value: mock.url(&format!("/hook/{i}")),
                        secret: false,
                    }],
                    origin: Origin::Environment,
                    rules: Default::default(),
                })
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(
                SqliteStore::open(&dir.path().join("b.db"), SqliteOptions::default()).unwrap(),
            );
            let hub = Arc::new(Hub::new(
                channels,
                Route::default(),
                store,
                Clock::system(),
                WorkerOptions::default(),
            ));
            let worker = hub.spawn_worker(ClaimScope::All);
            let msg = Submission::new(Notification::new("Benchmark", "fan-out"), Source::Cli);
            let wait = Duration::from_secs(30);
            // Warm up connections and the pool.
            hub.send(msg.clone(), wait).await.unwrap();
            let mut times = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let t = Instant::now();
                let report = hub.send(msg.clone(), wait).await.unwrap();
                times.push(t.elapsed());
                assert_eq!(report.overall(), Overall::Success);
            }
            worker.finish().await;
            times.sort();
            println!(
                "  {n:>2} channel(s): median {:>5.1} ms, min {:>5.1} ms, max {:>5.1} ms",
                ms(times[ROUNDS / 2]),
                ms(times[0]),
                ms(times[ROUNDS - 1])
            );
        }
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
