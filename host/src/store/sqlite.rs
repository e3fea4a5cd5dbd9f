//! The embedded backend: one SQLite file in WAL mode.

use super::retry::{Decision, RetryPolicy};
use super::run::{self, RunState};
use super::schema::{APPLICATION_ID, CORE_TABLES, MIGRATIONS};
use super::{
    Appended, Attempt, ChannelCounts, Claim, ClaimScope, Delivery, DeliveryId, DeliveryState,
    EventId, EventQuery, NewEvent, Room, RunStatus, Source, Store, StoreError, StoredEvent, Target,
    UnixMillis,
};
use super::{Pruned, Retention, StoreSize};
use crate::notification::{ChannelId, EventKind, Notification, RunId};
use crate::model::DeliveryError;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod prune;

/// Where the database lives: `--db`, else `MCP_PUSH_DB`, else the platform data dir.
pub fn resolve_db_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        std::env::var_os("MCP_PUSH_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .or_else(default_db_path)
}

/// `<data dir>/mcp-push.db`, e.g. `~/.local/share/mcp-push/mcp-push.db` on Linux.
pub fn default_db_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mcp-push").map(|d| d.data_dir().join("mcp-push.db"))
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// How long to wait for another writer before reporting the database locked.
    pub busy_timeout: Duration,
    /// `FULL` syncs the WAL on every commit, so an acknowledged event survives
    /// a power cut; `NORMAL` only survives a process crash.
    pub synchronous_full: bool,
    pub retry: RetryPolicy,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            synchronous_full: true,
            retry: RetryPolicy::default(),
        }
    }
}

/// Prepared statements kept per connection. The reads and outcomes connection
/// runs about 30 distinct statements and rusqlite keeps 16 by default: an
/// evicted one is parsed again, and parsing was half of SQLite's 17% of a
/// notification's CPU time before every statement went through the cache.
const STATEMENT_CACHE: usize = 64;

/// How long the integrity check at open may take: a store of a few thousand
/// events is checked whole in about a millisecond.
const INTEGRITY_BUDGET: Duration = Duration::from_millis(50);

pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    /// Appends: synchronous as configured (FULL by default), so an
    /// acknowledged event survives a power cut.
    conn: Mutex<Connection>,
    /// Everything else (claims, outcomes, reads): synchronous=NORMAL. In WAL
    /// mode that survives a crash of the process; a power cut can lose the
    /// last outcomes, which only means a delivery is sent once more, never
    /// lost. It spares the claim and the outcome an fsync each.
    fast: Mutex<Connection>,
    /// Reads only. WAL lets them run beside a write; on `fast` they held
    /// the lock the writer thread's claims and outcomes wait for.
    read: Mutex<Connection>,
    /// The file the connections opened. A file deleted or replaced under a
    /// running server would take acknowledged writes into an unlinked inode,
    /// lost at the next start; each write first checks the path still names it.
    opened: Option<FileId>,
}

/// A file's identity on its file system (None where it cannot be known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_path: &Path) -> Option<FileId> {
    None
}

impl SqliteStore {
    /// Open (creating if missing) and migrate. A file that is not ours, is
    /// damaged, is newer, or stays locked is an error, never recreated.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                detail: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| classify(path, &options, e))?;
        // Opened now, set up once the schema is known good.
        let fast = Connection::open(path).map_err(|e| classify(path, &options, e))?;
        let read = Connection::open(path).map_err(|e| classify(path, &options, e))?;
        // The WAL is left as it is when the process ends, not checkpointed
        // into the file and removed: that cost a one-shot `send` four fsyncs
        // (the checkpoint's two, then the new WAL's header and directory on
        // the next start), more than its own two commits. Every commit is
        // already durable in the WAL; the periodic checkpoint (every 1000
        // pages) still moves it into the file.
        for c in [&conn, &fast, &read] {
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
                .map_err(|e| classify(path, &options, e))?;
        }
        let store = SqliteStore {
            path: path.to_path_buf(),
            options,
            conn: Mutex::new(conn),
            fast: Mutex::new(fast),
            read: Mutex::new(read),
            opened: None,
        };
        store.setup()?;
        let store = SqliteStore {
            opened: file_id(path),
            ..store
        };
        for conn in [store.fast(), store.reader()] {
            conn.busy_timeout(store.options.busy_timeout)
                .map_err(|e| store.err(e))?;
            conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                .map_err(|e| store.err(e))?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, &self.options, e)
    }

    /// Before a write: is the file at our path still the one we have open?
    /// One stat per write (a few microseconds), against losing every write
    /// from now on.
    fn still_ours(&self) -> Result<(), StoreError> {
        match self.opened {
            Some(opened) if file_id(&self.path) != Some(opened) => Err(StoreError::Replaced {
                path: self.path.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Refuse a database that is neither empty nor ours, before anything is
    /// written to it (switching to WAL mode would already change its header).
    /// `Ok(true)` when the file already carries our application id.
    fn check_ours(&self, conn: &Connection, version: i64) -> Result<bool, StoreError> {
        let app_id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if app_id == APPLICATION_ID {
            return Ok(true);
        }
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))?;
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let empty = version == 0 && objects == 0;
        // Written by an mcp-push from before the application id was set.
        let older_ours = version > 0 && CORE_TABLES.iter().all(|t| tables.iter().any(|n| n == t));
        if app_id == 0 && (empty || older_ours) {
            return Ok(false);
        }
        Err(StoreError::Foreign {
            path: self.path.clone(),
            tables,
        })
    }

    fn fast(&self) -> MutexGuard<'_, Connection> {
        self.fast.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.read.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no open transaction behind
        // (rusqlite rolls back on drop), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn setup(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        conn.busy_timeout(self.options.busy_timeout)
            .map_err(|e| self.err(e))?;
        // Reading the schema first makes a garbage file fail here, before any write.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let marked = self.check_ours(&conn, version)?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        self.quick_check(&mut conn)?;
        if version == 0 {
            // Before the first table, or it takes a VACUUM: lets retention
            // hand freed pages back to the file system.
            conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
                .map_err(|e| self.err(e))?;
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: self.path.clone(),
                detail: format!(
                    "cannot switch to WAL mode (got {mode}); is it on a network drive?"
                ),
            });
        }
        let sync = if self.options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(|e| self.err(e))?;
        if version < supported {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| self.err(e))?;
            // Another process may have migrated while we waited for the lock.
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(now as usize) {
                tx.execute_batch(sql).map_err(|e| self.err(e))?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                    .map_err(|e| self.err(e))?;
            }
            tx.commit().map_err(|e| self.err(e))?;
        }
        if !marked {
            conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Damage is found when the store opens, not at the first write (a
    /// damaged file once answered `runs` with "no runs yet"). `quick_check`
    /// reads every page, so it is cut off after [`INTEGRITY_BUDGET`]: a large
    /// store still opens at once, with its first pages checked.
    fn quick_check(&self, conn: &mut Connection) -> Result<(), StoreError> {
        let deadline = Instant::now() + INTEGRITY_BUDGET;
        conn.progress_handler(10_000, Some(move || Instant::now() > deadline))
            .map_err(|e| self.err(e))?;
        let found = conn.prepare("PRAGMA quick_check(3)").and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        });
        conn.progress_handler(0, None::<fn() -> bool>)
            .map_err(|e| self.err(e))?;
        match found {
            Ok(rows) if rows.iter().all(|r| r == "ok") => Ok(()),
            Ok(rows) => Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: rows.join("; "),
            }),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                Ok(())
            }
            Err(e) => Err(self.err(e)),
        }
    }

    fn load_run(conn: &Connection, run_id: &str) -> rusqlite::Result<Option<RunState>> {
        conn.prepare_cached(
            "SELECT run_id, status, progress, step, started_at, ended_at, duration_ms,
                    last_message, artifact_url, error_code, updated_at
             FROM runs WHERE run_id = ?1",
        )?
        .query_row([run_id], run_from_row)
        .optional()
    }
}

fn classify(path: &Path, options: &SqliteOptions, e: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path,
            detail: e.to_string(),
        },
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Locked {
            path,
            waited_ms: options.busy_timeout.as_millis(),
        },
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => StoreError::Open {
            path,
            detail: e.to_string(),
        },
        _ => StoreError::Sqlite { path, source: e },
    }
}

fn bad(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} {value:?}").into(),
    )
}

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunState> {
    let status: String = r.get(1)?;
    Ok(RunState {
        run_id: RunId(r.get(0)?),
        status: RunStatus::parse(&status).ok_or_else(|| bad("run status", &status))?,
        progress: r.get::<_, Option<f64>>(2)?.map(|p| p as f32),
        step: r.get(3)?,
        started_at: UnixMillis(r.get(4)?),
        ended_at: r.get::<_, Option<i64>>(5)?.map(UnixMillis),
        duration_ms: r.get(6)?,
        last_message: r.get(7)?,
        artifact_url: r.get(8)?,
        error_code: r.get(9)?,
        updated_at: UnixMillis(r.get(10)?),
    })
}

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.channel, d.state, d.attempts, d.next_attempt_at, d.last_error, d.remote_id, d.updated_at";

fn delivery_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let channel: String = r.get(2)?;
    let state: String = r.get(3)?;
    Ok(Delivery {
        id: DeliveryId(r.get(0)?),
        event_id: EventId(r.get(1)?),
        channel: ChannelId::new(&channel).map_err(|_| bad("channel", &channel))?,
        state: DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
        attempts: r.get(4)?,
        next_attempt_at: r.get::<_, Option<i64>>(5)?.map(UnixMillis),
        last_error: r.get(6)?,
        remote_id: r.get(7)?,
        updated_at: UnixMillis(r.get(8)?),
    })
}

fn parse_notification(json: &str) -> rusqlite::Result<Notification> {
    serde_json::from_str(json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn kind_from_str(s: &str) -> Option<EventKind> {
    [
        EventKind::Start,
        EventKind::Update,
        EventKind::End,
        EventKind::Error,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

/// Write one event inside an open transaction.
fn append_one(tx: &rusqlite::Transaction<'_>, ev: &NewEvent) -> rusqlite::Result<Appended> {
    if let Some(key) = &ev.idempotency_key {
        let first: Option<i64> = tx
            .prepare_cached("SELECT id FROM events WHERE idempotency_key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        if let Some(first) = first {
            let mut stmt = tx.prepare_cached(
                "SELECT channel, id FROM deliveries WHERE event_id = ?1 ORDER BY id",
            )?;
            let deliveries = stmt
                .query_map([first], |r| {
                    let c: String = r.get(0)?;
                    Ok((
                        ChannelId::new(&c).map_err(|_| bad("channel", &c))?,
                        DeliveryId(r.get(1)?),
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            return Ok(Appended {
                event_id: EventId(first),
                deliveries,
                duplicate_of: Some(EventId(first)),
            });
        }
    }
    let now = ev.received_at;
    let run_event = ev.notification.event.as_ref();
    let mut notification = ev.notification.clone();
    if let Some(re) = run_event {
        let prev = SqliteStore::load_run(tx, &re.run_id.0)?;
        let unchanged = prev.clone();
        let next = run::apply(prev, re, &ev.notification.body, now);
        if matches!(re.kind, EventKind::End | EventKind::Error) {
            notification.add_run_summary(next.duration_ms, next.artifact_url.as_deref());
        }
        if unchanged.as_ref() != Some(&next) {
            save_run(tx, &next)?;
        }
    }
    let json = serde_json::to_string(&notification)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let run_id = run_event.map(|e| e.run_id.0.as_str());
    let kind = run_event.map(|e| e.kind);
    tx.prepare_cached(
        "INSERT INTO events (created_at, source, run_id, kind, idempotency_key, notification)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        now.0,
        ev.source.as_str(),
        run_id,
        kind.map(|k| k.as_str()),
        ev.idempotency_key,
        json,
    ])?;
    let event_id = tx.last_insert_rowid();
    let mut deliveries = Vec::with_capacity(ev.deliveries.len());
    for plan in &ev.deliveries {
        let channel = plan.channel.as_str();
        let mut due = plan.not_before.unwrap_or(now).max(now);
        let mut held: Option<String> = None;
        if let Some(run_id) = run_id {
            match kind {
                // Latest wins: a newer update replaces the ones still waiting,
                // and goes out one interval after the last one that went.
                Some(EventKind::Update) => {
                    if let Some(interval) = plan.update_interval.filter(|i| !i.is_zero()) {
                        coalesce_waiting_updates(
                            tx,
                            run_id,
                            channel,
                            now,
                            &format!("replaced by a newer update (event {event_id})"),
                        )?;
                        let last: Option<i64> = tx
                            .prepare_cached(
                                "SELECT MAX(COALESCE(sent_at, updated_at)) FROM deliveries
                                 WHERE run_id = ?1 AND channel = ?2 AND kind = 'update'
                                   AND (state = 'sent'
                                        OR (state = 'pending' AND lease_until > ?3))",
                            )?
                            .query_row(params![run_id, channel, now.0], |r| r.get(0))?;
                        if let Some(last) = last {
                            let next = UnixMillis(last).plus(interval);
                            if next > due {
                                due = next;
                                // Said with the delivery, so a sender sees why
                                // it waits rather than a bare `queued`.
                                held = Some(format!(
                                    "coalesced: at most one update of a run every {} s on this \
                                     channel (update_interval_secs); a newer update replaces it",
                                    interval.as_secs()
                                ));
                            }
                        }
                    }
                }
                // The final word makes waiting progress reports moot.
                Some(EventKind::End) | Some(EventKind::Error) => {
                    coalesce_waiting_updates(
                        tx,
                        run_id,
                        channel,
                        now,
                        &format!("the run ended first (event {event_id})"),
                    )?;
                }
                _ => {}
            }
        }
        let (state, next, reason) = match &plan.skip {
            Some(reason) => (DeliveryState::Skipped, None, Some(reason.as_str())),
            None => (DeliveryState::Pending, Some(due.0), held.as_deref()),
        };
        tx.prepare_cached(
            "INSERT INTO deliveries (event_id, channel, run_id, kind, state, next_attempt_at,
                                     last_error, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            event_id,
            channel,
            run_id,
            kind.map(|k| k.as_str()),
            state.as_str(),
            next,
            reason,
            now.0
        ])?;
        deliveries.push((plan.channel.clone(), DeliveryId(tx.last_insert_rowid())));
    }
    Ok(Appended {
        event_id: EventId(event_id),
        deliveries,
        duplicate_of: None,
    })
}

/// Close the run's updates to this channel that are still waiting (not in flight).
fn coalesce_waiting_updates(
    tx: &rusqlite::Transaction<'_>,
    run_id: &str,
    channel: &str,
    now: UnixMillis,
    reason: &str,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "UPDATE deliveries SET state = 'coalesced', last_error = ?4, next_attempt_at = NULL,
            updated_at = ?3
         WHERE run_id = ?1 AND channel = ?2 AND kind = 'update' AND state = 'pending'
           AND (lease_until IS NULL OR lease_until <= ?3)",
    )?
    .execute(params![run_id, channel, now.0, reason])
}

fn save_run(tx: &rusqlite::Transaction<'_>, next: &RunState) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO runs (run_id, status, progress, step, started_at, ended_at,
                           duration_ms, last_message, artifact_url, error_code, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (run_id) DO UPDATE SET
            status = excluded.status, progress = excluded.progress, step = excluded.step,
            started_at = excluded.started_at, ended_at = excluded.ended_at,
            duration_ms = excluded.duration_ms, last_message = excluded.last_message,
            artifact_url = excluded.artifact_url, error_code = excluded.error_code,
            updated_at = excluded.updated_at",
    )?
    .execute(params![
        next.run_id.0,
        next.status.as_str(),
        next.progress.map(f64::from),
        next.step,
        next.started_at.0,
        next.ended_at.map(|t| t.0),
        next.duration_ms,
        next.last_message,
        next.artifact_url,
        next.error_code,
        next.updated_at.0,
    ])
}

fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let source: String = r.get(1)?;
    let kind: Option<String> = r.get(3)?;
    Ok(StoredEvent {
        id: EventId(r.get(0)?),
        source: Source::parse(&source).ok_or_else(|| bad("source", &source))?,
        run_id: r.get::<_, Option<String>>(2)?.map(RunId),
        kind: match kind {
            Some(k) => Some(kind_from_str(&k).ok_or_else(|| bad("event kind", &k))?),
            None => None,
        },
        created_at: UnixMillis(r.get(4)?),
        idempotency_key: r.get(5)?,
        notification: parse_notification(&r.get::<_, String>(6)?)?,
    })
}

const EVENT_COLUMNS: &str = "id, source, run_id, kind, created_at, idempotency_key, notification";

fn record_sent_tx(
    store: &SqliteStore,
    conn: &Connection,
    id: DeliveryId,
    remote_id: Option<&str>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'sent', attempts = attempts + 1,
                remote_id = ?2, lease_until = NULL, lease_owner = NULL, next_attempt_at = NULL,
                sent_at = ?3, updated_at = ?3
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.0, remote_id, now.0]))
        .map_err(|e| store.err(e))?;
    if n == 0 {
        return Err(StoreError::NoSuchDelivery(id));
    }
    Ok(())
}

fn record_failure_tx(
    store: &SqliteStore,
    conn: &Connection,
    id: DeliveryId,
    error: &DeliveryError,
    now: UnixMillis,
) -> Result<DeliveryState, StoreError> {
    let row: Option<(String, u32, u32)> = conn
        .prepare_cached("SELECT state, failures, rate_limited FROM deliveries WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(|e| store.err(e))?;
    let (current, mut failures, mut rate_limited) = row.ok_or(StoreError::NoSuchDelivery(id))?;
    // A late answer from a worker whose lease ran out must not reopen a
    // delivery another worker already finished.
    if current != DeliveryState::Pending.as_str() {
        return Err(StoreError::NotPending {
            id,
            state: DeliveryState::parse(&current)
                .ok_or_else(|| StoreError::BadData(format!("delivery state {current:?}")))?,
            wanted: DeliveryState::Pending,
        });
    }
    if matches!(error, DeliveryError::RateLimited(_)) {
        rate_limited += 1;
    } else {
        failures += 1;
    }
    let decision =
        store
            .options
            .retry
            .decide(error, failures, rate_limited, now, rand::random::<f64>());
    let (state, next) = match decision {
        Decision::RetryAt(at) => (DeliveryState::Pending, Some(at.0)),
        Decision::Fail => (DeliveryState::Failed, None),
    };
    conn.prepare_cached(
        "UPDATE deliveries SET state = ?2, attempts = attempts + 1, failures = ?3,
            rate_limited = ?4, next_attempt_at = ?5, lease_until = NULL, lease_owner = NULL,
            last_error = ?6, updated_at = ?7
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            id.0,
            state.as_str(),
            failures,
            rate_limited,
            next,
            error.to_string(),
            now.0
        ])
    })
    .map_err(|e| store.err(e))?;
    Ok(state)
}

/// The earliest time a pending, unleased delivery falls due.
fn next_due_on(conn: &Connection) -> rusqlite::Result<Option<UnixMillis>> {
    conn.prepare_cached(
        "SELECT MIN(COALESCE(MAX(next_attempt_at, lease_until), next_attempt_at))
         FROM deliveries WHERE state = 'pending'",
    )?
    .query_row([], |r| r.get::<_, Option<i64>>(0))
    .map(|t| t.map(UnixMillis))
}

fn load_delivery(conn: &Connection, id: DeliveryId) -> rusqlite::Result<Option<Delivery>> {
    conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id = ?1"
    ))?
    .query_row([id.0], delivery_from_row)
    .optional()
}

impl Store for SqliteStore {
    fn append_batch(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        self.still_ours()?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(events.len());
        for ev in &events {
            out.push(append_one(&tx, ev).map_err(|e| self.err(e))?);
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.0], event_from_row).optional())
            .map_err(|e| self.err(e))
    }

    fn events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events
                 WHERE id > ?1 AND (?2 IS NULL OR run_id = ?2) AND (?3 IS NULL OR kind = ?3)
                 ORDER BY id LIMIT ?4"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_map(
            params![
                q.since.map(|e| e.0).unwrap_or(0),
                q.run_id.as_ref().map(|r| r.0.as_str()),
                q.kind.map(|k| k.as_str()),
                q.limit as i64
            ],
            event_from_row,
        )
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    fn claim_due_within(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: u32,
        scope: ClaimScope,
        room: &Room,
    ) -> Result<Vec<Claim>, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let lease_until = now.plus(lease);
        let (only_event, only_ids) = match &scope {
            ClaimScope::All => (None, None),
            ClaimScope::Event(id) => (Some(id.0), None),
            ClaimScope::Deliveries(ids) => (
                None,
                Some(
                    serde_json::to_string(&ids.iter().map(|d| d.0).collect::<Vec<_>>())
                        .unwrap_or_default(),
                ),
            ),
        };
        let room_json = serde_json::to_string(
            &room
                .channels
                .iter()
                .map(|(c, n)| (c.as_str(), *n))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap_or_else(|_| "{}".into());
        let per_channel = room.per_channel.map(|n| n as i64);
        let claims = (|| {
            let mut claims = Vec::new();
            {
                // A run's rows to one channel go in order: a row waits while
                // an earlier one (retrying, held, or in flight) is pending;
                // but a start, end or error never waits behind an update that
                // coalescing holds back (one waited 53 s): only an update in
                // flight keeps it.
                // The window counts each channel's rows among the first
                // `limit` due, so it never sorts more than those.
                let mut stmt = tx.prepare_cached(
                    "WITH due AS (
                        SELECT d.id, d.event_id, d.channel, d.attempts, e.notification,
                               e.created_at, d.parts_sent, d.next_attempt_at
                        FROM deliveries d JOIN events e ON e.id = d.event_id
                        WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                          AND (d.lease_until IS NULL OR d.lease_until <= ?1)
                          AND (?3 IS NULL OR d.event_id = ?3)
                          AND (?4 IS NULL OR d.id IN (SELECT value FROM json_each(?4)))
                          AND (d.run_id IS NULL OR NOT EXISTS (
                               SELECT 1 FROM deliveries p
                               WHERE p.run_id = d.run_id AND p.channel = d.channel
                                 AND p.state = 'pending' AND p.id < d.id
                                 AND NOT (d.kind IS NOT 'update' AND p.kind = 'update'
                                          AND (p.lease_until IS NULL OR p.lease_until <= ?1))))
                          AND d.channel NOT IN (SELECT key FROM json_each(?5) WHERE value = 0)
                        ORDER BY d.next_attempt_at, d.id LIMIT ?2
                     )
                     SELECT id, event_id, channel, attempts, notification, created_at, parts_sent
                     FROM (SELECT *, ROW_NUMBER() OVER (
                                PARTITION BY channel ORDER BY next_attempt_at, id) AS nth
                           FROM due)
                     WHERE nth <= COALESCE((SELECT value FROM json_each(?5) WHERE key = channel),
                                           ?6, ?2)
                     ORDER BY next_attempt_at, id",
                )?;
                let rows = stmt.query_map(
                    params![
                        now.0,
                        limit as i64,
                        only_event,
                        only_ids,
                        room_json,
                        per_channel
                    ],
                    |r| {
                        let c: String = r.get(2)?;
                        let (id, created): (i64, i64) = (r.get(0)?, r.get(5)?);
                        Ok(Claim {
                            // The event's time makes it unlike the same id in
                            // another (or a recreated) database.
                            key: format!("{created:x}-{id:x}"),
                            parts_sent: r.get(6)?,
                            delivery: DeliveryId(id),
                            event_id: EventId(r.get(1)?),
                            channel: ChannelId::new(&c).map_err(|_| bad("channel", &c))?,
                            attempts: r.get(3)?,
                            lease_until,
                            notification: parse_notification(&r.get::<_, String>(4)?)?,
                        })
                    },
                )?;
                for c in rows {
                    claims.push(c?);
                }
            }
            let mut lease_stmt = tx.prepare_cached(
                "UPDATE deliveries SET lease_until = ?2, lease_owner = ?3, updated_at = ?4
                 WHERE id = ?1",
            )?;
            for c in &claims {
                lease_stmt.execute(params![c.delivery.0, lease_until.0, owner, now.0])?;
            }
            Ok(claims)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(claims)
    }

    fn lease_owners(&self) -> Result<Vec<u32>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT DISTINCT lease_owner FROM deliveries
                 WHERE state = 'pending' AND lease_owner IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn release_leases(&self, owner: Option<u32>) -> Result<u64, StoreError> {
        let conn = self.fast();
        let n = conn
            .prepare_cached(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
                 WHERE state = 'pending' AND lease_until IS NOT NULL
                   AND (?1 IS NULL OR lease_owner = ?1)",
            )
            .and_then(|mut s| s.execute([owner]))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn renew_leases(
        &self,
        ids: &[DeliveryId],
        owner: u32,
        until: UnixMillis,
    ) -> Result<u64, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let mut n = 0;
        {
            // `updated_at` stays: nothing about the delivery changed. A row
            // without a lease was given back, and is not taken again here.
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE deliveries SET lease_until = MAX(lease_until, ?3)
                     WHERE id = ?1 AND state = 'pending' AND lease_owner = ?2
                       AND lease_until IS NOT NULL",
                )
                .map_err(|e| self.err(e))?;
            for id in ids {
                n += stmt
                    .execute(params![id.0, owner, until.0])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn put_back(
        &self,
        ids: &[DeliveryId],
        now: UnixMillis,
        due: UnixMillis,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL,
                        next_attempt_at = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4
                     WHERE id = ?1 AND state = 'pending'",
                )
                .map_err(|e| self.err(e))?;
            for id in ids {
                stmt.execute(params![id.0, due.0, note, now.0])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn next_due(&self) -> Result<Option<UnixMillis>, StoreError> {
        let conn = self.reader();
        next_due_on(&conn).map_err(|e| self.err(e))
    }

    fn due_deliveries(&self, by: UnixMillis, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d
             WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
               AND (d.lease_until IS NULL OR d.lease_until <= ?1)
             ORDER BY d.next_attempt_at, d.id LIMIT ?2"
        ))
        .and_then(|mut s| {
            s.query_map(params![by.0, limit as i64], delivery_from_row)?
                .collect()
        })
        .map_err(|e| self.err(e))
    }

    fn record_sent(
        &self,
        id: DeliveryId,
        remote_id: Option<&str>,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        record_sent_tx(self, &conn, id, remote_id, now)
    }

    fn record_failure(
        &self,
        id: DeliveryId,
        error: &DeliveryError,
        now: UnixMillis,
    ) -> Result<DeliveryState, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let state = record_failure_tx(self, &tx, id, error, now)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(state)
    }

    fn record(&self, attempts: &[Attempt]) -> Vec<Result<Delivery, StoreError>> {
        if let Err(e) = self.still_ours() {
            return attempts
                .iter()
                .map(|_| Err(e.database_wide_copy()))
                .collect();
        }
        let mut conn = self.fast();
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let e = self.err(e);
                return attempts
                    .iter()
                    .map(|_| Err(e.database_wide_copy()))
                    .collect();
            }
        };
        let out: Vec<Result<Delivery, StoreError>> = attempts
            .iter()
            .map(|a| {
                match &a.result {
                    Ok(remote) => record_sent_tx(self, &tx, a.delivery, remote.as_deref(), a.at)?,
                    Err(e) => {
                        record_failure_tx(self, &tx, a.delivery, e, a.at)?;
                        if a.parts_sent > 0 {
                            tx.prepare_cached(
                                "UPDATE deliveries SET parts_sent = ?2 WHERE id = ?1",
                            )
                            .and_then(|mut s| s.execute(params![a.delivery.0, a.parts_sent]))
                            .map_err(|e| self.err(e))?;
                        }
                    }
                }
                load_delivery(&tx, a.delivery)
                    .map_err(|e| self.err(e))?
                    .ok_or(StoreError::NoSuchDelivery(a.delivery))
            })
            .collect();
        match tx.commit() {
            Ok(()) => out,
            Err(e) => {
                let e = self.err(e);
                attempts
                    .iter()
                    .map(|_| Err(e.database_wide_copy()))
                    .collect()
            }
        }
    }

    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        let conn = self.reader();
        load_delivery(&conn, id).map_err(|e| self.err(e))
    }

    fn record_not_sent(
        &self,
        id: DeliveryId,
        state: DeliveryState,
        reason: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        if !matches!(state, DeliveryState::Skipped | DeliveryState::Coalesced) {
            return Err(StoreError::NotACloseState(state));
        }
        self.still_ours()?;
        let conn = self.fast();
        let n = conn
            .prepare_cached(
                "UPDATE deliveries SET state = ?2, last_error = ?3, next_attempt_at = NULL,
                    lease_until = NULL, updated_at = ?4
                 WHERE id = ?1 AND state = 'pending'",
            )
            .and_then(|mut s| s.execute(params![id.0, state.as_str(), reason, now.0]))
            .map_err(|e| self.err(e))?;
        if n == 0 {
            let current: Option<String> = conn
                .prepare_cached("SELECT state FROM deliveries WHERE id = ?1")
                .and_then(|mut s| s.query_row([id.0], |r| r.get(0)).optional())
                .map_err(|e| self.err(e))?;
            let current = current.ok_or(StoreError::NoSuchDelivery(id))?;
            return Err(StoreError::NotPending {
                id,
                state: DeliveryState::parse(&current)
                    .ok_or_else(|| StoreError::BadData(format!("delivery state {current:?}")))?,
                wanted: state,
            });
        }
        Ok(())
    }

    fn retry(&self, id: DeliveryId, now: UnixMillis) -> Result<(), StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let row: Option<(String, Option<i64>)> = tx
            .prepare_cached("SELECT state, lease_until FROM deliveries WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        let (state, lease_until) = row.ok_or(StoreError::NoSuchDelivery(id))?;
        let state = DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::BadData(format!("delivery state {state:?}")))?;
        let in_flight = lease_until.is_some_and(|t| t > now.0);
        match state {
            DeliveryState::Failed => {}
            DeliveryState::Pending if in_flight => {
                return Err(StoreError::InFlight(id));
            }
            DeliveryState::Pending => {
                // Due now; its failures so far still count toward the limit.
                tx.prepare_cached(
                    "UPDATE deliveries SET next_attempt_at = ?2, lease_until = NULL,
                        lease_owner = NULL, updated_at = ?2
                     WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![id.0, now.0]))
                .map_err(|e| self.err(e))?;
                tx.commit().map_err(|e| self.err(e))?;
                return Ok(());
            }
            _ => return Err(StoreError::NotRetryable { id, state }),
        }
        // A manual retry is a new decision by a person: a fresh budget, history kept in `attempts`.
        tx.prepare_cached(
            "UPDATE deliveries SET state = 'pending', failures = 0, rate_limited = 0,
                next_attempt_at = ?2, lease_until = NULL, updated_at = ?2
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.0, now.0]))
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    fn deliveries_for(&self, target: &Target) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.reader();
        let (sql, arg): (String, rusqlite::types::Value) = match target {
            Target::Event(id) => (
                format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.event_id = ?1 ORDER BY d.id"
                ),
                id.0.into(),
            ),
            Target::Run(run) => (
                format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
                     WHERE e.run_id = ?1 ORDER BY d.id"
                ),
                run.0.clone().into(),
            ),
        };
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map([arg], delivery_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn list_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE ?1 IS NULL OR d.state = ?1
                 ORDER BY d.id DESC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_map(
            params![state.map(|s| s.as_str()), limit as i64],
            delivery_from_row,
        )
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    fn delivery_counts(&self, since: UnixMillis) -> Result<Vec<ChannelCounts>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT channel, state, attempts > 0, COUNT(*) FROM deliveries
                 WHERE updated_at >= ?1 GROUP BY 1, 2, 3",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(ChannelId, DeliveryState, bool, u64)> = stmt
            .query_map([since.0], |r| {
                let channel: String = r.get(0)?;
                let state: String = r.get(1)?;
                Ok((
                    ChannelId::new(&channel).map_err(|_| bad("channel", &channel))?,
                    DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
                    r.get(2)?,
                    r.get::<_, i64>(3)?.max(0) as u64,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        Ok(super::fold_counts(rows))
    }

    fn run(&self, run_id: &RunId) -> Result<Option<RunState>, StoreError> {
        let conn = self.reader();
        Self::load_run(&conn, &run_id.0).map_err(|e| self.err(e))
    }

    fn list_runs(
        &self,
        status: Option<RunStatus>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<RunState>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT run_id, status, progress, step, started_at, ended_at, duration_ms,
                        last_message, artifact_url, error_code, updated_at
                 FROM runs WHERE ?1 IS NULL OR status = ?1
                 ORDER BY started_at DESC, run_id LIMIT ?2 OFFSET ?3",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(
            params![status.map(|s| s.as_str()), limit as i64, offset as i64],
            run_from_row,
        )
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    fn prune(
        &self,
        keep: &Retention,
        now: UnixMillis,
        limit: usize,
        dry_run: bool,
    ) -> Result<Pruned, StoreError> {
        self.prune_rows(keep, now, limit, dry_run)
    }

    fn size(&self) -> Result<StoreSize, StoreError> {
        self.size_of()
    }

    fn compact(&self) -> Result<(), StoreError> {
        self.still_ours()?;
        let conn = self.lock();
        // auto_vacuum changes only with a VACUUM, which rewrites the file;
        // the checkpoint first, so the WAL's pages are in it.
        conn.execute_batch(
            "PRAGMA auto_vacuum = INCREMENTAL; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .map_err(|e| self.err(e))
    }

    fn last_remote_id(
        &self,
        run_id: &RunId,
        channel: &ChannelId,
    ) -> Result<Option<String>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT d.remote_id FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE e.run_id = ?1 AND d.channel = ?2 AND d.state = 'sent'
               AND d.remote_id IS NOT NULL
             ORDER BY d.event_id DESC LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(params![run_id.0, channel.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(|e| self.err(e))
    }
}
