//! `cargo bench --bench fanout`: one send fanned out to 1, 10 and 50 channels
//! whose endpoint answers after 50 ms. Prints the wall time of the send (the
//! median of several), which should stay close to 50 ms however many channels
//! there are.

#[path = "../../tests/support/mod.rs"]
mod support;

use mcp_push::config::{Channel, Origin};
use mcp_push::hub::{Hub, Report, Route};
use mcp_push::notification::{ChannelId, Notification};
use mcp_push::plugin::{Registry, Runtime, RuntimeOptions, SettingValue};
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
                })
                .collect();
            let hub = Hub::new(channels, Route::default());
            let msg = Notification::new("Benchmark", "fan-out");
            // Warm up connections and the pool.
            hub.send(&msg, &[]).await.unwrap();
            let mut times = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let t = Instant::now();
                let report = hub.send(&msg, &[]).await.unwrap();
                times.push(t.elapsed());
                let Report::Sent { outcomes } = report else {
                    panic!("not sent")
                };
                assert!(outcomes.iter().all(|o| o.result.is_ok()));
            }
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
