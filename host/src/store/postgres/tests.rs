//! The conformance suite against a real PostgreSQL server, and what only
//! this backend promises (its URL's secrets, several hubs at once, calls
//! from async code). Each check gets a schema of its own, made from an
//! admin connection and dropped after it.
//!
//! The server is `MCP_PUSH_TEST_POSTGRES`; `scripts/test-postgres.sh`
//! starts a throwaway one. Without it the tests say they were skipped,
//! except under CI, where they fail.

use super::*;
use crate::notification::EventKind;
use crate::store::conformance::{Backend, hub, run_event, send};
use crate::store::prelude::*;
use crate::store::{ClaimScope, EventQuery, GroupCommit, RunStatus, UnixMillis};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh schema on the test server; each open is a new store on it.
struct Pg {
    admin: String,
    schema: String,
}

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

impl Pg {
    fn new() -> Option<Self> {
        let admin = test_server()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "mcp_push_test_{}_{}_{nanos}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed)
        );
        admin_sql(&admin, &format!("CREATE SCHEMA {schema}")).expect("cannot create a test schema");
        Some(Pg { admin, schema })
    }

    /// The server's URL, with this check's schema as the search path.
    fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin).expect("MCP_PUSH_TEST_POSTGRES is a URL");
        url.query_pairs_mut()
            .append_pair("options", &format!("-csearch_path={}", self.schema));
        url.to_string()
    }

    fn store(&self) -> PgStore {
        PgStore::open(&self.url(), PgOptions::default()).unwrap()
    }
}

fn admin_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach the test server {}: {e}",
            crate::redact::mask_url(url)
        )
    })
}

/// Run `sql` on its own connection; from async tests too.
fn admin_sql(url: &str, sql: &str) -> Result<(), postgres::Error> {
    off_runtime(|| admin_client(url).batch_execute(sql))
}

impl Drop for Pg {
    fn drop(&mut self) {
        let dropped = admin_sql(
            &self.admin,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        );
        if let Err(e) = dropped {
            eprintln!("cannot drop the test schema {}: {e}", self.schema);
        }
    }
}

impl Backend for Pg {
    fn open(&self) -> Arc<dyn Store> {
        Arc::new(self.store())
    }
}

/// The test's backend, or, with no server outside CI, the end of the test
/// (`return` from the `#[test]` function the suite's macro writes).
macro_rules! pg_or_skip {
    () => {
        match Pg::new() {
            Some(pg) => pg,
            None => return,
        }
    };
}

mod conformance {
    use super::Pg;
    crate::store::conformance::conformance_suite!(pg_or_skip!());
}

#[test]
fn a_newer_schema_is_refused() {
    let pg = pg_or_skip!();
    drop(pg.store());
    let mut c = admin_client(&pg.url());
    c.batch_execute("UPDATE mcp_push_schema SET version = 99")
        .unwrap();
    let err = PgStore::open(&pg.url(), PgOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer mcp-push"), "{err}");
}

#[test]
fn another_applications_tables_are_left_alone() {
    let pg = pg_or_skip!();
    let mut c = admin_client(&pg.url());
    c.batch_execute("CREATE TABLE events (id INT); INSERT INTO events VALUES (7)")
        .unwrap();
    let err = PgStore::open(&pg.url(), PgOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("did not make (events)"), "{err}");
    let n: i32 = c.query_one("SELECT id FROM events", &[]).unwrap().get(0);
    assert_eq!(n, 7, "left unchanged");
}

#[test]
fn errors_name_the_server_but_never_the_password() {
    let Some(admin) = test_server() else {
        return;
    };
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_password(Some("pw-never-shown-8c1f")).unwrap();
    // A database that does not exist: the server answers, and says no.
    url.set_path("/mcp_push_no_such_database");
    let err = PgStore::open(url.as_str(), PgOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::PostgresDown { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("mcp_push_no_such_database") && msg.contains(":***@"),
        "{msg}"
    );
    assert!(!msg.contains("pw-never-shown-8c1f"), "{msg}");

    // Nobody listens: a port the system gave and took back.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    url.set_port(Some(port)).unwrap();
    let err = PgStore::open(url.as_str(), PgOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::PostgresDown { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains("pw-never-shown-8c1f"), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
}

#[test]
fn a_url_that_cannot_be_read_is_not_echoed() {
    let err = PgStore::open("postgres://u:sekrit-9f2@[bad/db", PgOptions::default())
        .err()
        .unwrap();
    assert!(!err.to_string().contains("sekrit-9f2"), "{err}");
}

#[test]
fn urls_select_postgres() {
    for url in ["postgres://u@h/db", "postgresql://u@h/db", "PostgreSQL://h"] {
        assert!(is_postgres_url(url), "{url}");
    }
    for path in ["/tmp/x.db", "postgres.db", "./postgres://x", ""] {
        assert!(!is_postgres_url(path), "{path}");
    }
}

/// Hubs appending the same key at once: one event, and every caller gets it.
#[test]
fn a_key_appended_by_several_hubs_at_once_is_written_once() {
    let pg = pg_or_skip!();
    let hubs: Vec<Arc<dyn Store>> = (0..4).map(|_| pg.open()).collect();
    for round in 0..20 {
        let key = format!("k{round}");
        let barrier = Arc::new(std::sync::Barrier::new(hubs.len()));
        let got: Vec<_> = hubs
            .iter()
            .map(|s| {
                let (s, key, barrier) = (s.clone(), key.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    s.append(send("dup", &["ops"], Some(&key))).unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert!(got.iter().all(|a| a.event_id == got[0].event_id), "{got:?}");
        assert_eq!(
            got.iter().filter(|a| a.duplicate_of.is_none()).count(),
            1,
            "{got:?}"
        );
    }
    assert_eq!(hubs[0].size().unwrap().events, 20);
}

/// A reader that follows the log with `since=` (a `/v1/stream` client
/// reconnecting to any hub) while hubs append at once never skips an
/// event: an id is only seen once every smaller id is readable. Ids come
/// from a sequence when a row is inserted, not when it commits, so without
/// appends committing in id order a later id can be read while a smaller
/// one is still in flight, and the cursor passes it for good.
#[test]
fn a_reader_following_the_log_never_skips_an_event_appended_by_another_hub() {
    let pg = pg_or_skip!();
    const HUBS: usize = 4;
    const EACH: usize = 150;
    let hubs: Vec<Arc<dyn Store>> = (0..HUBS).map(|_| pg.open()).collect();
    let reader = pg.open();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = hubs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = s.clone();
            std::thread::spawn(move || {
                for j in 0..EACH {
                    let mut ev = send(&format!("{i}-{j}"), &["ops"], None);
                    ev.deliveries.clear();
                    s.append(ev).unwrap();
                }
            })
        })
        .collect();
    let follow = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let q = EventQuery {
                    since: cursor,
                    limit: 1_000,
                    ..EventQuery::default()
                };
                for e in reader.events(&q).unwrap() {
                    cursor = Some(e.id);
                    seen.push(e.id.0);
                }
                if finished {
                    return seen;
                }
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = follow.join().unwrap();
    let all: Vec<i64> = hubs[0]
        .events(&EventQuery {
            limit: HUBS * EACH + 1,
            ..EventQuery::default()
        })
        .unwrap()
        .iter()
        .map(|e| e.id.0)
        .collect();
    assert_eq!(all.len(), HUBS * EACH);
    let missed: Vec<&i64> = all.iter().filter(|id| !seen.contains(id)).collect();
    assert!(
        missed.is_empty(),
        "the reader's cursor passed {} event(s) still being written: {missed:?}",
        missed.len()
    );
}

/// Hubs appending events of one run at once: every event counts, as if
/// they came one after the other.
#[test]
fn a_runs_state_follows_events_appended_by_several_hubs() {
    let pg = pg_or_skip!();
    let hubs: Vec<Arc<dyn Store>> = (0..4).map(|_| pg.open()).collect();
    hubs[0]
        .append(run_event(EventKind::Start, 1_000, "go"))
        .unwrap();
    let threads: Vec<_> = hubs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = s.clone();
            std::thread::spawn(move || {
                for j in 0..10 {
                    let mut ev = run_event(EventKind::Update, 2_000 + j, &format!("{i}-{j}"));
                    ev.deliveries.clear();
                    s.append(ev).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    hubs[0]
        .append(run_event(EventKind::End, 9_000, "done"))
        .unwrap();
    let run = hubs[0]
        .run(&crate::notification::RunId("train".into()))
        .unwrap()
        .unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.duration_ms, Some(8_000));
}

/// Hubs claiming at once never lease the same delivery.
#[test]
fn hubs_claiming_at_once_never_take_the_same_delivery() {
    let pg = pg_or_skip!();
    let store = pg.open();
    let group = GroupCommit::new(store.clone(), 64);
    for i in 0..200 {
        group
            .append_blocking(send(&format!("e{i}"), &["a", "b"], None))
            .unwrap();
    }
    drop(group);
    let hubs: Vec<Arc<dyn Store>> = (0..4).map(|_| pg.open()).collect();
    let threads: Vec<_> = hubs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let got = s
                        .claim_due(
                            UnixMillis(5_000),
                            7,
                            Duration::from_secs(600),
                            hub(i as u32 + 1),
                            ClaimScope::All,
                        )
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.delivery));
                }
            })
        })
        .collect();
    let mut all: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (400, 400), "each delivery claimed once");
}

/// Async code may call the store directly: on a single-threaded runtime
/// (where blocking in place is refused) and on a worker of a multi-threaded one.
#[tokio::test]
async fn calls_from_a_single_threaded_runtime_do_not_panic() {
    let pg = pg_or_skip!();
    let store = pg.open();
    let a = store.append(send("a", &["ops"], None)).unwrap();
    assert!(store.event(a.event_id).unwrap().is_some());
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_a_runtime_worker_do_not_panic() {
    let pg = pg_or_skip!();
    let store = pg.open();
    let a = tokio::spawn(async move {
        let a = store.append(send("a", &["ops"], None)).unwrap();
        assert!(store.event(a.event_id).unwrap().is_some());
        a
    })
    .await
    .unwrap();
    assert_eq!(a.deliveries.len(), 1);
}
