//! What only the SQLite backend promises (its file, its locks, its
//! process-id leases), and the conformance suite run against it.

use super::*;
use crate::store::conformance::{Backend, hub, send};
use crate::store::prelude::*;
use crate::store::{ClaimScope, DeliveryState, EventQuery, GroupCommit, HubId, UnixMillis};
use std::sync::Arc;

/// A temporary directory; each open is a new connection to its `hub.db`.
struct Sqlite(tempfile::TempDir);

impl Sqlite {
    fn new() -> Self {
        Sqlite(tempfile::tempdir().unwrap())
    }
}

impl Backend for Sqlite {
    fn open(&self) -> Arc<dyn Store> {
        Arc::new(open(&self.0))
    }
}

mod conformance {
    crate::store::conformance::conformance_suite!(super::Sqlite::new());
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("hub.db"), fast()).unwrap()
}

fn fast() -> SqliteOptions {
    SqliteOptions {
        busy_timeout: Duration::from_millis(50),
        synchronous_full: false,
        ..Default::default()
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let garbage = vec![0x5Au8; 8192];
    std::fs::write(&path, &garbage).unwrap();
    let err = SqliteStore::open(&path, fast()).err().unwrap();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("is not an mcp-push database") && msg.contains("--db"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "never recreate it");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    drop(SqliteStore::open(&path, fast()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, fast()).err().unwrap();
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
}

#[test]
fn a_locked_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let store = SqliteStore::open(&path, fast()).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = std::time::Instant::now();
    let err = store.append(send("a", &["ops"], None)).err().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another process"),
        "{err}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    store.append(send("a", &["ops"], None)).unwrap();
}

#[test]
fn db_path_prefers_the_flag() {
    let flag = PathBuf::from("/tmp/x.db");
    assert_eq!(resolve_db_path(Some(flag.clone())), Some(flag));
}

#[test]
fn opening_a_database_another_process_holds_says_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
        .unwrap();
    let err = SqliteStore::open(&path, fast()).err().unwrap();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
}

#[test]
fn damaged_pages_are_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    {
        let store = open(&dir);
        for i in 0..200 {
            store
                .append(send(&format!("e{i}"), &["ops"], None))
                .unwrap();
        }
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 3 * page);
    for b in &mut bytes[page..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    // Found when the store opens, before anyone reads "no runs yet" from it.
    let err = SqliteStore::open(&path, fast())
        .err()
        .expect("damage must be found at open");
    assert!(
        matches!(
            err,
            StoreError::Corrupt { .. } | StoreError::NotADatabase { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn group_commit_reports_a_locked_database_to_every_caller() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(open(&dir));
    let group = GroupCommit::new(store, 16);
    let other = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = group
        .append_blocking(send("a", &["ops"], None))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    other.execute_batch("ROLLBACK").unwrap();
    group.append_blocking(send("a", &["ops"], None)).unwrap();
}

/// The writer's idle hook runs once after a burst of writes, on the writer
/// thread, and not again until it has written again.
#[test]
fn group_commit_calls_its_idle_hook_once_after_writing() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static ON_WRITER: AtomicUsize = AtomicUsize::new(0);
    fn hook() {
        CALLS.fetch_add(1, Ordering::SeqCst);
        if std::thread::current().name() == Some("mcp-push-store-writer") {
            ON_WRITER.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(open(&dir));
    let hooks = crate::store::WriterHooks {
        idle: Some(hook),
        ..Default::default()
    };
    let group = GroupCommit::with_hooks(store, 16, hooks);
    let after_idle = || std::thread::sleep(Duration::from_millis(2_500));
    after_idle();
    assert_eq!(CALLS.load(Ordering::SeqCst), 0, "nothing written yet");
    for i in 0..3 {
        group
            .append_blocking(send(&format!("e{i}"), &["ops"], None))
            .unwrap();
    }
    after_idle();
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    after_idle();
    assert_eq!(CALLS.load(Ordering::SeqCst), 1, "idle, the writer sleeps");
    group
        .append_blocking(send("again", &["ops"], None))
        .unwrap();
    drop(group);
    assert_eq!(ON_WRITER.load(Ordering::SeqCst), 1);
}

#[test]
fn leases_of_a_dead_owner_can_be_released_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.append(send("a", &["x"], None)).unwrap();
    store.append(send("b", &["x"], None)).unwrap();
    let lease = Duration::from_secs(600);
    store
        .claim_due(UnixMillis(2_000), 1, lease, hub(111), ClaimScope::All)
        .unwrap();
    store
        .claim_due(UnixMillis(2_000), 1, lease, hub(222), ClaimScope::All)
        .unwrap();
    let mut owners = store.lease_owners().unwrap();
    owners.sort();
    assert_eq!(owners, vec![hub(111), hub(222)]);
    assert_eq!(store.release_leases(Some(hub(111))).unwrap(), 1);
    assert_eq!(store.lease_owners().unwrap(), vec![hub(222)]);
    // Only the released row can be claimed again.
    assert_eq!(
        store
            .claim_due(UnixMillis(2_000), 10, lease, hub(333), ClaimScope::All)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn leases_of_a_gone_process_are_recovered_and_a_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.append(send("a", &["x"], None)).unwrap();
    store.append(send("b", &["x"], None)).unwrap();
    // A process that has exited (and been reaped): its id names no process.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone = HubId::from_raw(child.id());
    child.wait().unwrap();
    let lease = Duration::from_secs(600);
    for owner in [gone, HubId::this_process()] {
        let got = store
            .claim_due(UnixMillis(2_000), 1, lease, owner, ClaimScope::All)
            .unwrap();
        assert_eq!(got.len(), 1);
    }
    assert_eq!(store.recover_abandoned(UnixMillis(2_000)).unwrap(), 1);
    assert_eq!(store.lease_owners().unwrap(), vec![HubId::this_process()]);
    assert_eq!(store.recover_abandoned(UnixMillis(2_000)).unwrap(), 0);
    let again = store
        .claim_due(UnixMillis(2_000), 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(again.len(), 1, "only the gone process's row comes free");
    assert_eq!(
        store
            .deliveries_for(&crate::store::Target::Event(again[0].event_id))
            .unwrap()[0]
            .state,
        DeliveryState::Pending
    );
}

#[test]
fn one_shot_commands_leave_a_small_wal_for_the_next_to_read() {
    // Each store opened and closed as a one-shot command does: `send` makes
    // two commits (its event, then its outcome), others one.
    let wal_after = |checkpoint_pages: u32, commits: usize| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.db");
        for i in 0..120 {
            let store = SqliteStore::open(
                &path,
                SqliteOptions {
                    checkpoint_pages,
                    ..fast()
                },
            )
            .unwrap();
            for j in 0..commits {
                store
                    .append(send(&format!("e{i}-{j}"), &["ops"], None))
                    .unwrap();
            }
        }
        std::fs::metadata(dir.path().join("hub.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    let frame = 4096 + 24;
    for commits in [1, 2] {
        let brief = wal_after(BRIEF_CHECKPOINT_PAGES, commits);
        assert!(
            brief <= 2 * u64::from(BRIEF_CHECKPOINT_PAGES) * frame,
            "{commits} commit(s) each: the WAL grew to {brief} bytes"
        );
        // What the setting prevents: left to the server's, it grows.
        let server = wal_after(CHECKPOINT_PAGES, commits);
        assert!(server > 4 * brief, "{server} against {brief}");
    }
}

/// Appends, claims and outcomes share one write connection (see
/// `SqliteStore::conn`): whatever ran on it last, an append commits with
/// synchronous=FULL and a claim or outcome with NORMAL.
#[test]
fn the_one_write_connection_commits_appends_full_and_the_rest_normal() {
    let dir = tempfile::tempdir().unwrap();
    let durable = SqliteOptions {
        synchronous_full: true,
        ..fast()
    };
    let store = SqliteStore::open(&dir.path().join("hub.db"), durable).unwrap();
    let mode = |conn: &Connection| -> i64 {
        conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    };
    let (full, normal) = (2, 1);
    for _ in 0..2 {
        assert_eq!(mode(&store.fast()), normal, "claims and outcomes");
        assert_eq!(mode(&store.lock()), full, "appends");
    }
    // Through the store's own calls: after a claim, the next append.
    store.append(send("a", &["x"], None)).unwrap();
    let lease = Duration::from_secs(600);
    let claimed = store
        .claim_due(UnixMillis(2_000), 1, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(mode(&store.lock()), full);
}

/// Bytes a connection's page cache holds.
fn cache_used(conn: &rusqlite::Connection) -> i32 {
    let (mut current, mut highest) = (0, 0);
    // SAFETY: the handle is live for the borrow; the call only reads counters.
    unsafe {
        rusqlite::ffi::sqlite3_db_status(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
            &mut current,
            &mut highest,
            0,
        );
    }
    current
}

/// Going idle hands the connections' page caches back, and the store works
/// on from the file.
#[test]
fn release_memory_empties_the_page_caches_and_the_store_works_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let events: Vec<_> = (0..300)
        .map(|i| send(&format!("e{i}"), &["ops"], None))
        .collect();
    store.append_batch(events).unwrap();
    store.size().unwrap();
    store.activity(UnixMillis(0)).unwrap();
    let held =
        || cache_used(&store.conn.lock().unwrap().conn) + cache_used(&store.read.lock().unwrap());
    let before = held();
    assert!(before > 100 << 10, "{before} bytes cached");
    store.release_memory();
    let after = held();
    assert!(after < before / 4, "{before} bytes cached, {after} after");

    store.append(send("after", &["ops"], None)).unwrap();
    assert_eq!(store.activity(UnixMillis(0)).unwrap().events_since, 301);
}

/// The steps of SQLite's plan for `sql`, every parameter bound to 1.
fn query_plan(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    for i in 1..=stmt.parameter_count() {
        stmt.raw_bind_parameter(i, 1_i64).unwrap();
    }
    let mut rows = stmt.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>(3).unwrap());
    }
    steps
}

/// A retention pass finds its batch, and the runs it leaves empty, through
/// indexes: before, its queries read every event (probing its deliveries)
/// and every run inside the writer's transaction, every ten minutes, whether
/// or not anything was old enough.
#[test]
fn retention_finds_old_events_without_reading_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let conn = store.reader();
    let plan = |sql: String| query_plan(&conn, &sql);
    let by_age = plan(super::prune::by_age());
    assert!(
        by_age
            .iter()
            .any(|s| s.contains("SEARCH e USING INDEX events_created")),
        "{by_age:?}"
    );
    let by_count = plan(super::prune::by_count());
    assert!(
        by_count
            .iter()
            .any(|s| s.starts_with("SEARCH e USING INTEGER PRIMARY KEY")),
        "{by_count:?}"
    );
    // (The count's subquery walks back from the newest event to the kept
    // count: `SCAN events`, bounded by it.)
    for step in by_age.iter().chain(&by_count) {
        assert!(!step.starts_with("SCAN e ") && step != "SCAN e", "{step}");
    }
    for sql in [super::prune::RUNS_OF_BATCH, super::prune::FORGET_RUNS] {
        let steps = plan(sql.into());
        assert!(
            steps
                .iter()
                .all(|s| !s.starts_with("SCAN ") || s.starts_with("SCAN json_each")),
            "{steps:?}"
        );
    }
}

/// A run's events, and a watcher's, are read through their indexes, not by
/// reading every event after `since`.
#[test]
fn a_runs_events_are_found_through_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    use super::event_log::{events_sql, filters};
    let conn = store.reader();
    let plan = |q: EventQuery| query_plan(&conn, &events_sql(&filters(&q)));
    let run = plan(EventQuery {
        run_id: Some(crate::notification::RunId("deploy".into())),
        ..Default::default()
    });
    assert!(run.iter().any(|s| s.contains("events_run")), "{run:?}");
    let watcher = plan(EventQuery {
        watcher: Some(crate::model::WatcherId(1)),
        ..Default::default()
    });
    assert!(
        watcher.iter().any(|s| s.contains("events_watcher")),
        "{watcher:?}"
    );
}

/// The failed deliveries are listed from their partial index.
#[test]
fn failed_deliveries_are_listed_from_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let conn = store.reader();
    let sql = super::outbox::list_deliveries_sql(Some(DeliveryState::Failed));
    let steps = query_plan(&conn, &sql);
    assert!(
        steps.iter().any(|s| s.contains("deliveries_failed")),
        "{steps:?}"
    );
}
