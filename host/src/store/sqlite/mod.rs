//! The embedded backend: one SQLite file in WAL mode. This file opens it
//! (connections, schema, integrity) and turns SQLite's errors into
//! [`StoreError`]s; each role is implemented in its own file, and the row
//! decoders they share are in `rows.rs`.

use super::StoreError;
use super::retry::RetryPolicy;
use super::schema::{
    APPLICATION_ID, CORE_TABLES, MIGRATIONS, REPLY_SOURCE, SOURCE_CHECK, check_version,
};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod asks;
mod event_log;
mod export;
mod outbox;
mod prune;
mod rows;
mod runs;
#[cfg(test)]
mod tests;
mod upkeep;
mod watchers;

pub(super) use export::SqliteSnapshot;

/// Where the database lives: `--db`, else `MCP_PUSH_DB`, else the platform data dir.
pub fn resolve_db_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        std::env::var_os("MCP_PUSH_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .or_else(default_db_path)
}

/// Process-wide SQLite settings, for a process before it opens a connection
/// (SQLite refuses them after, harmlessly).
///
/// Page caches grow page by page instead of starting with a block of 20
/// pages: every cache, one per connection and one per temporary b-tree a
/// query sorts or numbers rows in, allocated and wrote 86 KiB at once.
///
/// # Safety
///
/// No other thread may be using SQLite meanwhile (`sqlite3_config` is not
/// thread-safe): call it before the process starts any.
pub unsafe fn configure_process() {
    // SAFETY: the caller keeps other threads out; a null buffer with no
    // lines is a valid argument.
    unsafe {
        rusqlite::ffi::sqlite3_config(
            rusqlite::ffi::SQLITE_CONFIG_PAGECACHE,
            std::ptr::null_mut::<std::ffi::c_void>(),
            0 as std::ffi::c_int,
            0 as std::ffi::c_int,
        );
    }
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
    /// How many pages the WAL may hold before a commit moves them into the
    /// file ([`CHECKPOINT_PAGES`] for a server, [`BRIEF_CHECKPOINT_PAGES`]
    /// for a command that writes a few rows and exits).
    pub checkpoint_pages: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            synchronous_full: true,
            retry: RetryPolicy::default(),
            checkpoint_pages: CHECKPOINT_PAGES,
        }
    }
}

/// SQLite's own default: a server checkpoints every 4 MiB of WAL, so that
/// its many small commits rarely pay for one.
pub const CHECKPOINT_PAGES: u32 = 1_000;

/// A process that opens the store when nobody else has it open first reads
/// the whole WAL (SQLite's recovery): about 2.7 ms of CPU per MiB here, and
/// one-shot commands left behind would grow it by ~40 KiB each up to 4 MiB,
/// so that a one-shot `send` took 26 ms of CPU instead of 17. Kept at 64
/// pages by the one-shots themselves, their checkpoint (two fsyncs, every
/// few runs) costs less than the reading it saves.
pub const BRIEF_CHECKPOINT_PAGES: u32 = 64;

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
    /// Every write, on one connection: appends commit synchronous as
    /// configured (FULL by default), so an acknowledged event survives a
    /// power cut; claims and outcomes commit with synchronous=NORMAL, which
    /// in WAL mode survives a crash of the process (a power cut can lose the
    /// last outcomes: a delivery is sent once more, never lost), sparing
    /// them an fsync each. One connection rather than one per mode: SQLite
    /// drops a connection's page cache whenever another connection has
    /// written, so the two modes on two connections read every page of each
    /// transaction again (24 `pread`s for a lone notification's three
    /// transactions).
    conn: Mutex<Writer>,
    /// Reads only. WAL lets them run beside a write; on `fast` they held
    /// the lock the writer thread's claims and outcomes wait for.
    read: Mutex<Connection>,
    /// The file the connections opened. A file deleted or replaced under a
    /// running server would take acknowledged writes into an unlinked inode,
    /// lost at the next start; each write first checks the path still names it.
    opened: Option<FileId>,
}

/// The one write connection and the synchronous mode it is in.
struct Writer {
    conn: Connection,
    /// synchronous=FULL (else NORMAL).
    durable: bool,
}

/// The write connection, locked, in the synchronous mode asked for.
struct WriteConn<'a>(MutexGuard<'a, Writer>);

impl Deref for WriteConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.conn
    }
}

/// A connection to read on: see [`SqliteStore::warm_reader`].
enum Reading<'a> {
    Writer(MutexGuard<'a, Writer>),
    Reader(MutexGuard<'a, Connection>),
}

impl Deref for Reading<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Reading::Writer(w) => &w.conn,
            Reading::Reader(c) => c,
        }
    }
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

/// A WAL left larger than [`SqliteOptions::checkpoint_pages`] is moved into
/// the file and emptied at close, when nobody else is using it (never
/// waiting for them): the commit-time checkpoint alone leaves it full for a
/// process that commits once, and the next one to open reads all of it.
impl Drop for SqliteStore {
    fn drop(&mut self) {
        let limit = u64::from(self.options.checkpoint_pages) * 4096;
        if std::fs::metadata(self.wal_path()).is_ok_and(|m| m.len() > limit) {
            let conn = self.lock();
            let _ = conn.busy_timeout(Duration::ZERO);
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }
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
        let read = Connection::open(path).map_err(|e| classify(path, &options, e))?;
        // The WAL is left as it is when the process ends, not checkpointed
        // into the file and removed: that cost a one-shot `send` four fsyncs
        // (the checkpoint's two, then the new WAL's header and directory on
        // the next start), more than its own two commits. Every commit is
        // already durable in the WAL; the periodic checkpoint (every 1000
        // pages) still moves it into the file.
        for c in [&conn, &read] {
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
                .map_err(|e| classify(path, &options, e))?;
            // Plans that do not depend on bound values. Left free to plan on
            // them, SQLite prepared a cached statement again whenever a
            // value it had looked at changed: the claim's query (its time
            // changes on every run) and the read of an event's deliveries
            // (checked against the partial indexes) were parsed again for
            // every notification, on the store's one writer thread. No query
            // here needs a value to find its index: each scope of a claim
            // has its own text.
            c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
                .map_err(|e| classify(path, &options, e))?;
        }
        let mut store = SqliteStore {
            path: path.to_path_buf(),
            options,
            conn: Mutex::new(Writer {
                conn,
                durable: true,
            }),
            read: Mutex::new(read),
            opened: None,
        };
        store.setup()?;
        store.opened = file_id(path);
        {
            let conn = store.reader();
            conn.busy_timeout(store.options.busy_timeout)
                .map_err(|e| store.err(e))?;
            conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                .map_err(|e| store.err(e))?;
        }
        store
            .lock()
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {}",
                store.options.checkpoint_pages
            ))
            .map_err(|e| store.err(e))?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn wal_path(&self) -> PathBuf {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        PathBuf::from(wal)
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

    /// The write connection for claims, outcomes and the other writes an
    /// fsync need not wait for (synchronous=NORMAL).
    fn fast(&self) -> WriteConn<'_> {
        self.writer(false)
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.read.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The write connection for appends (synchronous as configured).
    fn lock(&self) -> WriteConn<'_> {
        self.writer(self.options.synchronous_full)
    }

    /// For a small read that follows a write (an event's deliveries, read
    /// back on the writer thread right after the claim): the write
    /// connection when nobody holds it, whose page cache is current, else
    /// the reads' own, whose cache every write throws away (five `pread`s
    /// and a read lock's worth of `fcntl`s for one notification's rows).
    fn warm_reader(&self) -> Reading<'_> {
        match self.conn.try_lock() {
            Ok(w) => Reading::Writer(w),
            Err(std::sync::TryLockError::Poisoned(p)) => Reading::Writer(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Reading::Reader(self.reader()),
        }
    }

    fn writer(&self, durable: bool) -> WriteConn<'_> {
        // A panic while holding the lock left no open transaction behind
        // (rusqlite rolls back on drop), so the connection is still usable.
        let mut w = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if w.durable != durable {
            let sync = if durable { "FULL" } else { "NORMAL" };
            // A pager flag, no I/O. Should it fail, commits keep the mode
            // they had: stricter (FULL) costs an fsync, never durability;
            // only a failed switch to FULL is worth saying, and it shows
            // again at the next append.
            match w
                .conn
                .execute_batch(&format!("PRAGMA synchronous = {sync}"))
            {
                Ok(()) => w.durable = durable,
                Err(e) => tracing::warn!("cannot set synchronous = {sync}: {e}"),
            }
        }
        WriteConn(w)
    }

    fn setup(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        conn.busy_timeout(self.options.busy_timeout)
            .map_err(|e| self.err(e))?;
        // Reading the schema first makes a garbage file fail here, before any write.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let marked = check_ours(&self.path, &self.options, &conn, version)?;
        check_version(&self.path.display().to_string(), version, MIGRATIONS.len())?;
        let supported = MIGRATIONS.len() as i64;
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
                if i + 1 == REPLY_SOURCE {
                    allow_reply_source(&tx)?;
                }
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
}

/// Refuse a database that is neither empty nor ours, before anything is
/// written to it (switching to WAL mode would already change its header).
/// `Ok(true)` when the file already carries our application id. Also what
/// the copy of `mcp-push migrate` asks of its source (`export.rs`).
fn check_ours(
    path: &Path,
    options: &SqliteOptions,
    conn: &Connection,
    version: i64,
) -> Result<bool, StoreError> {
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| classify(path, options, e))?;
    if app_id == APPLICATION_ID {
        return Ok(true);
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| classify(path, options, e))?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|e| classify(path, options, e))?;
    let empty = version == 0 && objects == 0;
    // Written by an mcp-push from before the application id was set.
    let older_ours = version > 0 && CORE_TABLES.iter().all(|t| tables.iter().any(|n| n == t));
    if app_id == 0 && (empty || older_ours) {
        return Ok(false);
    }
    Err(StoreError::Foreign {
        path: path.to_path_buf(),
        tables,
    })
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

/// Let `events.source` be `reply` (see [`REPLY_SOURCE`]): the steps of
/// SQLite's documented procedure, inside the migration's transaction.
fn allow_reply_source(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let failed = |e: rusqlite::Error| {
        StoreError::BadData(format!("cannot let events come from replies: {e}"))
    };
    let version: i64 = tx
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .map_err(failed)?;
    tx.execute_batch("PRAGMA writable_schema = ON")
        .map_err(failed)?;
    let changed = tx
        .execute(
            "UPDATE sqlite_schema SET sql = replace(sql, ?1, ?2)
             WHERE type = 'table' AND name = 'events' AND instr(sql, ?1) > 0",
            [SOURCE_CHECK.0, SOURCE_CHECK.1],
        )
        .map_err(failed)?;
    tx.execute_batch(&format!(
        "PRAGMA schema_version = {}; PRAGMA writable_schema = OFF;",
        version + 1
    ))
    .map_err(failed)?;
    if changed != 1 {
        return Err(StoreError::BadData(
            "the events table's source constraint is not the one mcp-push wrote".into(),
        ));
    }
    Ok(())
}
