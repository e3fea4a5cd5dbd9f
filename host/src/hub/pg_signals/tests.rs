//! Against a real PostgreSQL server: `MCP_PUSH_TEST_POSTGRES` names one
//! (`scripts/test-postgres.sh` starts a throwaway one); without it the tests
//! say so and stop, and under `CI` they fail.

use super::*;
use crate::hub::{PluginAction, ToolPhase};
use crate::store::{EventId, Source, UnixMillis};
use std::time::Instant;

/// A database of its own on the test server (notifications are per
/// database, and tests run side by side), dropped after the test.
struct TestDb {
    config: Config,
    admin: String,
    name: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // WITH (FORCE): the hubs' listening connections may still be closing.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let admin = self.admin.clone();
        // Its own thread: the blocking client may not run on a runtime's.
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&admin, NoTls) {
                let _ = c.batch_execute(&sql);
            }
        })
        .join();
    }
}

async fn server() -> Option<TestDb> {
    let admin = crate::store::postgres_test_server()?;
    let mut config: Config = admin
        .parse()
        .expect("MCP_PUSH_TEST_POSTGRES is not a PostgreSQL URL");
    let (client, connection) = config
        .connect(NoTls)
        .await
        .expect("cannot reach MCP_PUSH_TEST_POSTGRES");
    tokio::spawn(connection);
    let name = format!("mcp_push_signals_{:016x}", rand::random::<u64>());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    config.dbname(&name);
    Some(TestDb {
        config,
        admin,
        name,
    })
}

fn event(id: i64, message: String) -> Live {
    Live::Event {
        event_id: EventId(id),
        source: Source::Http,
        watcher: None,
        run_id: None,
        kind: None,
        title: "deploy".into(),
        message,
        at: UnixMillis(1_700_000_000_000),
    }
}

/// Publish on `from` until `to` hears something that `pick` accepts: the
/// signals connect in the background, and what is sent before the other
/// listens is lost by design.
async fn relay<T>(
    from: &PgSignals,
    msg: &Live,
    to: &mut broadcast::Receiver<Live>,
    pick: impl Fn(&Live) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "the other hub never heard it");
        from.live.publish(msg.clone());
        let wait = tokio::time::sleep(Duration::from_millis(200));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                got = to.recv() => {
                    if let Some(t) = got.ok().as_ref().and_then(&pick) {
                        return t;
                    }
                }
                _ = &mut wait => break,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_on_one_hub_reaches_the_others_stream_and_wakes_its_worker_once_only_there() {
    let Some(db) = server().await else { return };
    let (a, b) = (
        PgSignals::start(db.config.clone()),
        PgSignals::start(db.config.clone()),
    );
    let mut on_b = b.live.subscribe();
    let mut on_a = a.live.subscribe();
    let id = relay(&a, &event(7, "v2 is out".into()), &mut on_b, |m| match m {
        Live::Event {
            event_id, message, ..
        } if message == "v2 is out" => Some(*event_id),
        _ => None,
    })
    .await;
    assert_eq!(id, EventId(7));
    // B's worker was woken by it.
    tokio::time::timeout(Duration::from_secs(5), b.wakeup.woken())
        .await
        .expect("B's worker was not woken");
    // A heard its own messages once each, in-process, never echoed back.
    let sent = std::iter::from_fn(|| on_a.try_recv().ok()).count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        std::iter::from_fn(|| on_a.try_recv().ok()).count(),
        0,
        "an echo came back after {sent}"
    );
    // A plain wake-up crosses too.
    while tokio::time::timeout(Duration::from_millis(300), b.wakeup.woken())
        .await
        .is_ok()
    {}
    a.wakeup.wake();
    tokio::time::timeout(Duration::from_secs(5), b.wakeup.woken())
        .await
        .expect("a wake-up on A did not reach B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_too_long_for_notify_arrives_cut_and_a_hubs_own_business_stays_home() {
    let Some(db) = server().await else { return };
    let (a, b) = (
        PgSignals::start(db.config.clone()),
        PgSignals::start(db.config.clone()),
    );
    let mut on_b = b.live.subscribe();
    let long = "é".repeat(20_000);
    let (id, cut) = relay(&a, &event(9, long.clone()), &mut on_b, |m| match m {
        Live::Event {
            event_id, message, ..
        } if message.starts_with('é') => Some((*event_id, message.chars().count())),
        _ => None,
    })
    .await;
    assert_eq!(id, EventId(9));
    assert!(cut > 1_000 && cut < 4_000, "cut to {cut} characters");
    // A tool call and a plugin reload on A are not B's news; a later event is.
    a.live.publish(Live::ToolExecution {
        tool: "notify".into(),
        phase: ToolPhase::Started,
        arguments: serde_json::json!({}),
        duration_ms: None,
        error: None,
        at: UnixMillis(1),
    });
    a.live.publish(Live::Plugin {
        action: PluginAction::Loaded,
        plugin: "x".into(),
        version: None,
        detail: None,
        at: UnixMillis(1),
    });
    a.live.publish(event(10, "after".into()));
    let next = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match on_b.recv().await.unwrap() {
                Live::Event {
                    event_id: EventId(9),
                    ..
                } => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("B heard nothing more");
    assert!(
        matches!(
            next,
            Live::Event {
                event_id: EventId(10),
                ..
            }
        ),
        "{next:?}"
    );
}

#[test]
fn only_mcp_push_payloads_are_heard_and_cutting_keeps_them_under_the_limit() {
    let shared = Shared {
        id: 1,
        wake: LocalWakeup::default(),
        live: LocalLive::default(),
        out: mpsc::channel(1).0,
    };
    let mut rx = shared.live.subscribe();
    shared.heard("not json");
    shared.heard(r#"{"from":2,"live":{"type":"nonsense"}}"#);
    shared.heard(&payload(1, Body::Live(event(1, "mine".into()))));
    assert!(rx.try_recv().is_err());
    shared.heard(&payload(2, Body::Live(event(2, "theirs".into()))));
    assert!(matches!(
        rx.try_recv(),
        Ok(Live::Event {
            event_id: EventId(2),
            ..
        })
    ));
    let huge = fit(1, event(3, "x".repeat(1 << 20))).unwrap();
    assert!(huge.len() < MAX_PAYLOAD, "{}", huge.len());
}
