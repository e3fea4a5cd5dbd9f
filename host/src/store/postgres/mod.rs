//! The networked backend: PostgreSQL, for several hubs sharing one store
//! (issue 19). This file opens it (URL, pool, schema) and turns the
//! driver's errors into [`StoreError`]s; each role is in its own file, as
//! for SQLite, and their row decoders are in `rows.rs`.
//!
//! What differs from SQLite, and why:
//! - Claims take rows with `FOR UPDATE SKIP LOCKED`, so hubs claiming at
//!   once never wait for each other nor take the same row; a lease is a
//!   time, and a hub on another machine that dies is taken over when its
//!   leases run out ([`Outbox::recover_abandoned`](crate::store::Outbox)
//!   frees nothing early: a process id says nothing about another machine).
//! - Appends commit one at a time across hubs (an advisory lock held to the
//!   commit), so event ids become visible in order (a `since=` reader never
//!   passes an event still being written) and two hubs appending events of
//!   one run at once apply them one after the other; a repeated idempotency key
//!   is settled by the unique index (`ON CONFLICT DO NOTHING`), so a
//!   concurrent duplicate gets the first event, not an error.
//!
//! Where it may block: the traits are synchronous, and so is the driver
//! used (`postgres`, the blocking wrapper over tokio-postgres: each
//! connection runs its own small runtime). Such a client panics when it
//! blocks on a thread that is driving an async runtime, and the host calls
//! the store from three kinds of thread: `spawn_blocking` and the group
//! commit's writer (where blocking is fine), and, in a few places (CLI
//! commands, `ops`, `http`, tests), straight from async code. Rather than
//! trust every caller, every use of a connection goes through
//! [`off_runtime`], which blocks in place on a multi-threaded runtime's
//! worker (tokio moves its other tasks away) and, on a single-threaded
//! runtime (`#[tokio::test]`), where that is not allowed, on a scoped thread
//! of its own. Dropping a connection blocks too (it says goodbye to the
//! server), so the pool closes its connections the same way.

use super::StoreError;
use super::retry::RetryPolicy;
use postgres::error::SqlState;
use std::time::Duration;

mod asks;
mod event_log;
mod import;
mod outbox;
mod pool;
mod rows;
mod runs;
mod schema;
mod statements;
#[cfg(test)]
mod tests;
mod upkeep;
mod watchers;

use pool::Pool;
use statements::{Db, Tx};

/// Whether `--db` (or `MCP_PUSH_DB`) names a PostgreSQL server rather than a file.
pub fn is_postgres_url(db: &str) -> bool {
    let lower = db.get(..13).unwrap_or(db).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The URL as it may be shown: password and secret-looking query values
/// masked. One the URL parser cannot read is not echoed at all (it may
/// still hold a password).
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(_) => crate::redact::mask_url(url),
        Err(_) => "a postgres:// URL that cannot be read".into(),
    }
}

/// The PostgreSQL server the tests use (`MCP_PUSH_TEST_POSTGRES`), for the
/// store's own tests and the end-to-end ones alike. Without it, `None`
/// after a line on stderr saying the test is skipped and how to run it; under
/// CI (`CI` set) a panic instead, so that the tests never pass unrun.
#[doc(hidden)]
pub fn test_server() -> Option<String> {
    if let Some(url) = std::env::var("MCP_PUSH_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return Some(url);
    }
    let how = "set MCP_PUSH_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT/postgres \
               (start a throwaway server with `eval \"$(scripts/test-postgres.sh start)\"`; \
               see README, Tests)";
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("the PostgreSQL tests need a server under CI: {how}");
    }
    // Past the test harness's capture (which only takes `eprintln!`), so
    // that a skip shows in a plain `cargo test`.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {how}");
    None
}

#[derive(Debug, Clone)]
pub struct PgOptions {
    pub retry: RetryPolicy,
    /// Connections kept open at most. Each blocks one caller at a time; the
    /// writer thread, the worker's claims and a few readers are the most
    /// that run at once.
    pub max_connections: usize,
    /// How long one connection attempt may take before the store reports
    /// PostgreSQL unreachable.
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            retry: RetryPolicy::default(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

pub struct PgStore {
    /// The URL with its password masked, for errors and status.
    target: String,
    options: PgOptions,
    pool: Pool,
}

/// A failure inside a unit of work: the driver's, or one of the store's own.
pub(super) enum Fail {
    Db(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// How many times a transaction that lost a deadlock (or a serialization
/// conflict) to another hub is tried again before the error is returned.
const CONFLICT_RETRIES: usize = 3;

impl PgStore {
    /// Connect (the URL's user, password, host and database) and migrate.
    /// A database written by a newer mcp-push, or holding tables of another
    /// application, is refused. Errors never show the password.
    pub fn open(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let target = shown_url(url);
        let mut config: postgres::Config =
            url.parse()
                .map_err(|e: postgres::Error| StoreError::PostgresDown {
                    target: target.clone(),
                    detail: format!(
                        "not a valid PostgreSQL URL ({})",
                        scrub(&e.to_string(), url)
                    ),
                })?;
        // Registered before the first connection, so that no log line can
        // show it, whatever the driver puts in its errors.
        if let Some(p) = config.get_password() {
            crate::redact::register([String::from_utf8_lossy(p).into_owned()]);
        }
        config
            .application_name("mcp-push")
            .connect_timeout(options.connect_timeout);
        let store = PgStore {
            target,
            pool: Pool::new(config, options.max_connections.max(1)),
            options,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The URL with its password masked.
    pub fn target(&self) -> &str {
        &self.target
    }

    pub(super) fn retry_policy(&self) -> &RetryPolicy {
        &self.options.retry
    }

    /// Run `work` on a pooled connection, off the async runtime.
    fn with<T: Send>(
        &self,
        work: impl FnOnce(&mut Db<'_, postgres::Client>) -> Result<T, Fail> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| {
            let mut conn = self.pool.get().map_err(|e| self.err(e))?;
            let (client, statements) = conn.parts();
            work(&mut Db {
                conn: client,
                statements,
            })
            .map_err(|f| self.fail(f))
        })
    }

    /// Run `work` in one transaction, committed when it returns `Ok`. A
    /// transaction that lost a deadlock to another hub is run again.
    fn tx<T: Send>(
        &self,
        work: impl Fn(&mut Tx<'_, '_>) -> Result<T, Fail> + Send + Sync,
    ) -> Result<T, StoreError> {
        off_runtime(|| {
            let mut conn = self.pool.get().map_err(|e| self.err(e))?;
            let mut tries = 0;
            loop {
                let mut once = || -> Result<T, Fail> {
                    let (client, statements) = conn.parts();
                    let mut tx = client.transaction()?;
                    let out = work(&mut Db {
                        conn: &mut tx,
                        statements,
                    })?;
                    tx.commit()?;
                    Ok(out)
                };
                match once() {
                    Err(Fail::Db(e)) if tries < CONFLICT_RETRIES && is_conflict(&e) => tries += 1,
                    done => return done.map_err(|f| self.fail(f)),
                }
            }
        })
    }

    fn fail(&self, f: Fail) -> StoreError {
        match f {
            Fail::Db(e) => self.err(e),
            Fail::Store(e) => e,
        }
    }

    /// The driver's error as the store's: down (every statement would fail
    /// alike) or one statement's, with the server's message.
    pub(super) fn err(&self, e: postgres::Error) -> StoreError {
        let target = self.target.clone();
        let Some(db) = e.as_db_error() else {
            // No server message: the connection could not be made or was lost.
            return StoreError::PostgresDown {
                target,
                detail: crate::redact::redact(&e.to_string()),
            };
        };
        let code = db.code();
        let detail = crate::redact::redact(&format!("{} ({})", db.message(), code.code()));
        let down = code == &SqlState::INVALID_PASSWORD
            || code == &SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            || code == &SqlState::INVALID_CATALOG_NAME
            || code == &SqlState::ADMIN_SHUTDOWN
            || code == &SqlState::CRASH_SHUTDOWN
            || code == &SqlState::CANNOT_CONNECT_NOW
            || code == &SqlState::TOO_MANY_CONNECTIONS
            || code.code().starts_with("08");
        if down {
            StoreError::PostgresDown { target, detail }
        } else {
            StoreError::Postgres { target, detail }
        }
    }
}

/// Lost to another transaction: running it again can succeed.
fn is_conflict(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        c == &SqlState::T_R_DEADLOCK_DETECTED || c == &SqlState::T_R_SERIALIZATION_FAILURE
    })
}

/// `text` without the URL in it (a parse error may quote it), password and all.
fn scrub(text: &str, url: &str) -> String {
    text.replace(url, "the URL")
}

/// Run `f`, which blocks on a synchronous PostgreSQL client, where that is
/// allowed (see the module's comment): as it is on a plain or blocking
/// thread, in place on a multi-threaded runtime's worker, on a scoped
/// thread on a single-threaded runtime.
pub(super) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Err(_) => f(),
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::CurrentThread => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
        // On a blocking thread of this runtime, this runs `f` as it is.
        Ok(_) => tokio::task::block_in_place(f),
    }
}
