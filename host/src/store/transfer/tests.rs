//! The copy against a real PostgreSQL server (`MCP_PUSH_TEST_POSTGRES`;
//! skipped without one, except under CI): every column of every row arrives
//! as it was (leases dropped), ids continue after the copied ones, and a
//! refused or failed copy leaves the target as it was. Each check gets a
//! schema of its own on the server.

use super::tables::{Kind, OnCopy, Page, TABLES, Table, Values};
use super::*;
use crate::model::DeliveryError;
use crate::notification::EventKind;
use crate::store::conformance::{hub, run_event, send};
use crate::store::prelude::*;
use crate::store::{
    ClaimScope, DeliveryId, EventId, NewWatcher, SqliteOptions, SqliteStore, WatcherOrigin,
    WatcherState, postgres_test_server,
};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A schema of its own on the test server, dropped after the check.
struct Target {
    admin: String,
    schema: String,
}

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

impl Target {
    fn new() -> Option<Target> {
        let admin = postgres_test_server()?;
        let schema = format!(
            "mcp_push_transfer_{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
        Some(Target { admin, schema })
    }

    /// With a password, which must show nowhere.
    fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin).unwrap();
        url.set_password(Some("transfer-secret-9f2")).unwrap();
        url.query_pairs_mut()
            .append_pair("options", &format!("-csearch_path={}", self.schema));
        url.to_string()
    }

    fn client(&self) -> postgres::Client {
        let mut c = postgres::Client::connect(&self.admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!("SET search_path = {}", self.schema))
            .unwrap();
        c
    }

    /// Every row of `table`, as the copy reads the source (leases NULL).
    fn rows(&self, table: &Table) -> Page {
        let rows = self
            .client()
            .query(
                &format!(
                    "SELECT {} FROM {} ORDER BY {}",
                    table.column_list(),
                    table.name,
                    table.key
                ),
                &[],
            )
            .unwrap();
        let mut page = Page::new(table);
        for row in rows {
            for (i, values) in page.columns.iter_mut().enumerate() {
                match values {
                    Values::Int(v) => v.push(row.get(i)),
                    Values::Real(v) => v.push(row.get(i)),
                    Values::Text(v) => v.push(row.get(i)),
                    Values::Flag(v) => v.push(row.get(i)),
                }
            }
        }
        page
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

macro_rules! target_or_skip {
    () => {
        match Target::new() {
            Some(t) => t,
            None => return,
        }
    };
}

fn fast() -> SqliteOptions {
    SqliteOptions {
        synchronous_full: false,
        ..Default::default()
    }
}

/// Every row of `table` in the source, read as the copy reads it.
fn source_rows(path: &Path, table: &Table) -> Page {
    let mut snapshot = SqliteSnapshot::open(path).unwrap();
    let mut all = Page::new(table);
    snapshot
        .pages(table, 2, |page| -> Result<(), StoreError> {
            for (into, from) in all.columns.iter_mut().zip(&page.columns) {
                match (into, from) {
                    (Values::Int(a), Values::Int(b)) => a.extend(b.iter().cloned()),
                    (Values::Real(a), Values::Real(b)) => a.extend(b.iter().cloned()),
                    (Values::Text(a), Values::Text(b)) => a.extend(b.iter().cloned()),
                    (Values::Flag(a), Values::Flag(b)) => a.extend(b.iter().cloned()),
                    _ => unreachable!("a page has its table's kinds"),
                }
            }
            Ok(())
        })
        .unwrap();
    all
}

/// A store with some of everything: a run, an idempotency key, sent,
/// failed and pending deliveries, one leased to a process that died, and
/// two watchers, one deleted (its id must not come back).
fn a_store_with_history(dir: &tempfile::TempDir) -> (PathBuf, DeliveryId) {
    let path = dir.path().join("hub.db");
    let store = SqliteStore::open(&path, fast()).unwrap();
    let now = UnixMillis(1_000);
    let a = store
        .append(send("keyed", &["ops", "mail"], Some("k1")))
        .unwrap();
    store
        .record_sent(a.deliveries[0].1, Some("remote-1"), now)
        .unwrap();
    store
        .record_failure(
            a.deliveries[1].1,
            &DeliveryError::Rejected("no such chat".into()),
            now,
        )
        .unwrap();
    for (kind, at) in [(EventKind::Start, 1_000), (EventKind::Update, 2_000)] {
        store.append(run_event(kind, at, "step")).unwrap();
    }
    store.append(send("pending", &["ops"], None)).unwrap();
    // A hub that died mid-send: its lease runs long after the copy.
    let dead = hub(0x3fff_fff0);
    let leased = store
        .claim_due(
            UnixMillis::now(),
            1,
            Duration::from_secs(3_600),
            dead,
            ClaimScope::All,
        )
        .unwrap();
    assert_eq!(leased.len(), 1);
    let leased = leased[0].delivery;
    for name in ["gone", "kept"] {
        store
            .create_watcher(
                NewWatcher {
                    name: name.into(),
                    kind: "schedule".into(),
                    spec: serde_json::json!({"every": "1h"}),
                    origin: WatcherOrigin::Api,
                    state: WatcherState::Active,
                    next_check_at: Some(now),
                    at: now,
                },
                10,
            )
            .unwrap();
    }
    let gone = store.watcher_named("gone").unwrap().unwrap();
    assert!(store.delete_watcher(gone.id).unwrap());
    let ask = store
        .create_ask(crate::store::NewAsk {
            question: crate::store::Question {
                question: "Deploy?".into(),
                choices: vec!["yes".into(), "no".into()],
                default: None,
                channels: vec![crate::notification::ChannelId::new("ops").unwrap()],
                run_id: None,
            },
            deadline: now.plus(Duration::from_secs(600)),
            at: now,
        })
        .unwrap();
    let answer = crate::store::Answer {
        text: "yes".into(),
        by: "reply link".into(),
        channel: Some(crate::notification::ChannelId::new("ops").unwrap()),
        at: now,
    };
    store.answer_ask(ask.id, answer).unwrap();
    store.reply_key().unwrap();
    (path, leased)
}

#[test]
fn every_row_arrives_as_it_was_and_ids_continue_after_them() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let (path, leased) = a_store_with_history(&dir);
    let copied = sqlite_to_postgres(&path, &target.url(), UnixMillis::now()).unwrap();
    assert!(!copied.target.contains("transfer-secret"), "{copied:?}");
    let counts: Vec<(&str, u64)> = copied.tables.clone();
    assert_eq!(
        counts,
        [
            ("events", 4),
            ("deliveries", 5),
            ("runs", 1),
            ("watchers", 1),
            ("asks", 1),
            ("hub_keys", 1)
        ],
        "{copied:?}"
    );
    for table in TABLES {
        assert_eq!(
            target.rows(table),
            source_rows(&path, table),
            "the rows of {}",
            table.name
        );
    }
    let leases: i64 = target
        .client()
        .query_one(
            "SELECT count(*) FROM deliveries WHERE lease_until IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leases, 0, "the dead hub's lease is dropped");

    // The hub on the target: the leased delivery is due at once, a
    // repeated key finds the first event, new rows come after the copied.
    let store = PgStore::open(&target.url(), PgOptions::default()).unwrap();
    let due = store
        .claim_due(
            UnixMillis::now(),
            10,
            Duration::from_secs(30),
            hub(1),
            ClaimScope::All,
        )
        .unwrap();
    assert!(
        due.iter().any(|c| c.delivery == leased),
        "the delivery leased to the dead hub is due at once: {due:?}"
    );
    let again = store
        .append(send("keyed again", &["ops"], Some("k1")))
        .unwrap();
    assert_eq!(again.event_id, EventId(1));
    let new = store.append(send("new", &["ops"], None)).unwrap();
    assert_eq!(new.event_id, EventId(5));
    assert_eq!(new.deliveries[0].1, DeliveryId(6));
    let w = store
        .create_watcher(
            NewWatcher {
                name: "new".into(),
                kind: "schedule".into(),
                spec: serde_json::json!({"every": "1h"}),
                origin: WatcherOrigin::Api,
                state: WatcherState::Active,
                next_check_at: None,
                at: UnixMillis(5_000),
            },
            10,
        )
        .unwrap();
    assert_eq!(
        w.id.0, 3,
        "the deleted watcher's id 1 and the kept one's 2 are not reused"
    );
}

#[test]
fn a_target_with_history_is_refused_and_left_as_it_was() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = a_store_with_history(&dir);
    let store = PgStore::open(&target.url(), PgOptions::default()).unwrap();
    store.append(send("already here", &["ops"], None)).unwrap();
    drop(store);
    let before: Vec<Page> = TABLES.iter().map(|t| target.rows(t)).collect();
    let err = sqlite_to_postgres(&path, &target.url(), UnixMillis::now()).unwrap_err();
    assert!(matches!(err, TransferError::TargetNotEmpty { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("1 event, 1 delivery, 0 runs"), "{text}");
    assert!(!text.contains("transfer-secret"), "{text}");
    let after: Vec<Page> = TABLES.iter().map(|t| target.rows(t)).collect();
    assert_eq!(before, after);
}

/// A row PostgreSQL refuses halfway (a delivery of an event that is not
/// there, which SQLite let through with its foreign keys off): the rows
/// written before it are rolled back with it.
#[test]
fn a_copy_that_fails_halfway_leaves_the_target_empty() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = a_store_with_history(&dir);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO deliveries (event_id, channel, state, updated_at)
         VALUES (999, 'ops', 'pending', 0);",
    )
    .unwrap();
    drop(conn);
    let err = sqlite_to_postgres(&path, &target.url(), UnixMillis::now()).unwrap_err();
    assert!(matches!(err, TransferError::Store(_)), "{err}");
    assert!(!err.to_string().contains("transfer-secret"), "{err}");
    for table in TABLES {
        assert_eq!(target.rows(table).rows(), 0, "{}", table.name);
    }
}

#[test]
fn a_source_still_in_use_is_refused() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let store = SqliteStore::open(&path, fast()).unwrap();
    store.append(send("in flight", &["ops"], None)).unwrap();
    // This test's own process stands for a live hub.
    let alive = crate::store::HubId::from_raw(std::os::unix::process::parent_id());
    store
        .claim_due(
            UnixMillis::now(),
            1,
            Duration::from_secs(60),
            alive,
            ClaimScope::All,
        )
        .unwrap();
    let err = sqlite_to_postgres(&path, &target.url(), UnixMillis::now()).unwrap_err();
    assert!(matches!(err, TransferError::SourceBusy { .. }), "{err}");
    // Once its lease has run out, the hub is taken for gone.
    let later = UnixMillis::now().plus(Duration::from_secs(61));
    sqlite_to_postgres(&path, &target.url(), later).unwrap();
}

#[test]
fn a_missing_or_foreign_source_is_an_error_and_stays_as_it_was() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.db");
    let err = sqlite_to_postgres(&missing, &target.url(), UnixMillis::now()).unwrap_err();
    assert!(matches!(err, TransferError::SourceMissing { .. }), "{err}");
    assert!(!missing.exists(), "no store is made where there was none");
    let foreign = dir.path().join("other.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x TEXT)")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let err = sqlite_to_postgres(&foreign, &target.url(), UnixMillis::now()).unwrap_err();
    assert!(
        err.to_string().contains("not an mcp-push database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    // Written by a newer mcp-push: refused as the store refuses it.
    let newer = dir.path().join("newer.db");
    drop(SqliteStore::open(&newer, fast()).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let err = sqlite_to_postgres(&newer, &target.url(), UnixMillis::now()).unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::Store(StoreError::TooNew { found: 99, .. })
        ),
        "{err}"
    );
    let tables: i64 = target
        .client()
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        tables, 0,
        "the target is not touched before the source is known good"
    );
}

/// A store last written by an mcp-push of schema 1 (before `parts_sent`
/// and watchers) is read as it is, not migrated: it is copied with the
/// defaults those migrations give.
#[test]
fn an_older_source_is_copied_without_being_changed() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(crate::store::schema::MIGRATIONS[0])
        .unwrap();
    conn.execute_batch(
        "PRAGMA user_version = 1;
         INSERT INTO events (id, created_at, source, notification) VALUES (7, 1, 'cli', '{}');
         INSERT INTO deliveries (id, event_id, channel, state, updated_at)
         VALUES (9, 7, 'ops', 'sent', 1);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let copied = sqlite_to_postgres(&path, &target.url(), UnixMillis::now()).unwrap();
    assert_eq!(copied.tables[3], ("watchers", 0));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the source is not migrated"
    );
    let parts: i64 = target
        .client()
        .query_one("SELECT parts_sent FROM deliveries WHERE id = 9", &[])
        .unwrap()
        .get(0);
    assert_eq!(parts, 0);
}

/// 10,000 events with a delivery each: seconds, not minutes (one statement
/// per thousand rows). The time is printed for the record.
#[test]
fn ten_thousand_events_copy_in_seconds() {
    let target = target_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    drop(SqliteStore::open(&path, fast()).unwrap());
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    let tx = conn.transaction().unwrap();
    let body = serde_json::to_string(&crate::notification::Notification::new(
        "a title of some length",
        "a body of a few hundred bytes, ".repeat(10),
    ))
    .unwrap();
    for i in 1..=10_000i64 {
        tx.execute(
            "INSERT INTO events (id, created_at, source, notification) VALUES (?1, ?1, 'cli', ?2)",
            rusqlite::params![i, body],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO deliveries (id, event_id, channel, state, attempts, sent_at, updated_at)
             VALUES (?1, ?1, 'ops', 'sent', 1, ?1, ?1)",
            [i],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(conn);
    let copied = sqlite_to_postgres(&path, &target.url(), UnixMillis::now()).unwrap();
    assert_eq!(copied.tables[0], ("events", 10_000));
    assert_eq!(copied.tables[1], ("deliveries", 10_000));
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "copied 10,000 events and 10,000 deliveries in {:?}",
        copied.took
    );
    assert!(copied.took < Duration::from_secs(30), "{:?}", copied.took);
}

/// The list is PostgreSQL's schema too: every table and column of it is
/// copied or knowingly skipped, and every listed column is there.
#[test]
fn the_list_is_the_postgres_schema() {
    let target = target_or_skip!();
    drop(PgStore::open(&target.url(), PgOptions::default()).unwrap());
    let mut c = target.client();
    let tables: Vec<String> = c
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in &tables {
        assert!(
            TABLES.iter().any(|l| l.name == t)
                || super::tables::tests::NOT_COPIED.contains(&t.as_str()),
            "table {t} of the PostgreSQL schema is neither copied nor listed as skipped"
        );
    }
    for table in TABLES {
        let mut have: Vec<String> = c
            .query(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1",
                &[&table.name],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut listed: Vec<String> = table.columns.iter().map(|c| c.name.into()).collect();
        have.sort();
        listed.sort();
        assert_eq!(have, listed, "the columns of {}", table.name);
    }
}

#[test]
fn leases_are_the_only_columns_dropped() {
    let dropped: Vec<String> = TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.on_copy == OnCopy::Drop)
                .map(move |c| format!("{}.{}", t.name, c.name))
        })
        .collect();
    assert_eq!(
        dropped,
        [
            "deliveries.lease_until",
            "deliveries.lease_owner",
            "watchers.lease_until",
            "watchers.lease_owner"
        ]
    );
    assert!(
        TABLES
            .iter()
            .flat_map(|t| t.columns)
            .filter(|c| c.on_copy == OnCopy::Drop)
            .all(|c| c.kind == Kind::Int)
    );
}
