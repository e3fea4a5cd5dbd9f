//! The schema, as an append-only list of migrations. The database's
//! `user_version` says how many have run; never edit one that has shipped.
//! PostgreSQL's list is its own (`postgres/schema.rs`), with its own count;
//! the rule that refuses a newer store is shared ([`check_version`]).

use super::StoreError;

/// Refuse a store on which `found` migrations have run when this mcp-push
/// knows only `supported`: it would misread what the newer one wrote. `at`
/// names the store (its file, or its URL with the password masked).
pub fn check_version(at: &str, found: i64, supported: usize) -> Result<(), StoreError> {
    let supported = supported as i64;
    if found > supported {
        return Err(StoreError::TooNew {
            at: at.to_string(),
            found,
            supported,
        });
    }
    Ok(())
}

/// `PRAGMA application_id` of an mcp-push database ("mpsh"), set when the
/// schema is written, so another application's file is never taken for ours.
pub const APPLICATION_ID: i32 = 0x6d70_7368;

/// Tables every version of the schema has: a database from before
/// [`APPLICATION_ID`] is recognised by them.
pub const CORE_TABLES: &[&str] = &["deliveries", "events", "runs"];

pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('cli', 'mcp', 'http', 'watcher')),
    run_id          TEXT,
    kind            TEXT CHECK (kind IN ('start', 'update', 'end', 'error')),
    idempotency_key TEXT UNIQUE,
    notification    TEXT NOT NULL
);
CREATE INDEX events_run ON events (run_id, id) WHERE run_id IS NOT NULL;
CREATE INDEX events_created ON events (created_at);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    channel         TEXT NOT NULL,
    -- copied from the event so per-run ordering and coalescing need no join
    run_id          TEXT,
    kind            TEXT,
    state           TEXT NOT NULL
                    CHECK (state IN ('pending', 'sent', 'failed', 'skipped', 'coalesced')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    rate_limited    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until     INTEGER,
    lease_owner     INTEGER,
    sent_at         INTEGER,
    last_error      TEXT,
    remote_id       TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (event_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_failed ON deliveries (id) WHERE state = 'failed';
CREATE INDEX deliveries_run ON deliveries (run_id, channel, id) WHERE run_id IS NOT NULL;

CREATE TABLE runs (
    run_id       TEXT PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    progress     REAL,
    step         TEXT,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    duration_ms  INTEGER,
    last_message TEXT,
    artifact_url TEXT,
    error_code   TEXT,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX runs_started ON runs (started_at DESC);
"#,
    // How many parts of a split message earlier attempts delivered, so that
    // a retry resumes after them.
    r#"
ALTER TABLE deliveries ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
"#,
    // Watchers (issue 18): what each one watches, where its checks stand,
    // and what it remembers between checks; every event a watcher raises
    // names it. `AUTOINCREMENT` so that a deleted watcher's id is never
    // given to a new one (its events and idempotency keys name it).
    r#"
CREATE TABLE watchers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL,
    spec                 TEXT NOT NULL,
    origin               TEXT NOT NULL CHECK (origin IN ('api', 'file')),
    state                TEXT NOT NULL CHECK (state IN ('active', 'paused')),
    memory               TEXT,
    checks               INTEGER NOT NULL DEFAULT 0,
    claims               INTEGER NOT NULL DEFAULT 0,
    last_check_at        INTEGER,
    last_result          TEXT,
    last_fired_at        INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_reported     INTEGER NOT NULL DEFAULT 0,
    next_check_at        INTEGER,
    lease_until          INTEGER,
    lease_owner          INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX watchers_due ON watchers (next_check_at) WHERE state = 'active';
ALTER TABLE events ADD COLUMN watcher_id INTEGER;
CREATE INDEX events_watcher ON events (watcher_id, id) WHERE watcher_id IS NOT NULL;
"#,
    // Questions asked of the user (issue 20), and the store's reply key.
    // `AUTOINCREMENT`: a question's reply links are derived from its id, so
    // a deleted question's id is never given to a new one. The same
    // migration lets `events.source` be `reply` ([`REPLY_SOURCE`]).
    r#"
CREATE TABLE asks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    question   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('open', 'answered', 'timed_out', 'cancelled')),
    answer     TEXT,
    deadline   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at  INTEGER
);
CREATE INDEX asks_open ON asks (id) WHERE state = 'open';
CREATE TABLE hub_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
];

/// The migration (its number, as `user_version` counts) after which
/// `events.source` may be `reply`. SQLite cannot alter a CHECK constraint,
/// so the table's text in the schema is rewritten, SQLite's documented way
/// to loosen one (<https://www.sqlite.org/lang_altertable.html#otheralter>):
/// the constraint only admits one more value, and no stored row changes.
pub const REPLY_SOURCE: usize = 4;

/// The `events.source` constraint before and after [`REPLY_SOURCE`].
pub const SOURCE_CHECK: (&str, &str) = (
    "CHECK (source IN ('cli', 'mcp', 'http', 'watcher'))",
    "CHECK (source IN ('cli', 'mcp', 'http', 'watcher', 'reply'))",
);
