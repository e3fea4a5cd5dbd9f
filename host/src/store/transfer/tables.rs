//! The one list of what moves: every table that holds history, every column
//! of it, in both schemas' names, and what a copy does with each column.
//! The SQLite reader and the PostgreSQL writer build their statements from
//! it, and the tests below check it against both schemas both ways, so that
//! a column added by a later migration cannot be left behind unnoticed.
//!
//! Not copied: `mcp_push_schema` (PostgreSQL's schema version, written by the
//! target's own migration) and `sqlite_sequence` (SQLite's bookkeeping for
//! `AUTOINCREMENT`; its number becomes the watchers' identity sequence).

/// How a column's values travel: SQLite's storage class on one side, the
/// PostgreSQL type of the `unnest` array on the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
    /// A 0/1 integer on SQLite, a `BOOLEAN` on PostgreSQL.
    Flag,
}

impl Kind {
    pub fn pg_array(self) -> &'static str {
        match self {
            Kind::Int => "bigint[]",
            Kind::Real => "float8[]",
            Kind::Text => "text[]",
            Kind::Flag => "boolean[]",
        }
    }
}

/// What the copy does with a column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCopy {
    Keep,
    /// Dropped to NULL: a lease. Every lease in the source was taken by a
    /// process on this machine (its id is the lease's owner) that no longer
    /// writes there once the store has moved. Kept, a lease would hold its
    /// row until it ran out, up to the 15 s send deadline plus renewals, or
    /// longer for a watcher, since PostgreSQL's hubs never free a lease early
    /// (they cannot probe a process on another machine); dropped, the row is
    /// due as its `next_attempt_at` says, which is what SQLite's own
    /// `recover_abandoned` does at the next start when the owner is gone.
    /// A send that was in flight when its process died may have arrived, so
    /// it is sent again once: at least once, as on any restart.
    Drop,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// The migration count (SQLite's `user_version`) that added it; an older
    /// source is read with `default` instead.
    pub since: i64,
    /// SQL for its value in a source older than `since`.
    pub default: &'static str,
    pub on_copy: OnCopy,
}

#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    /// Unique, for reading in pages (`WHERE key > ? ORDER BY key`).
    pub key: &'static str,
    /// An identity column (`id`) whose sequence must continue after the copied rows.
    pub identity: bool,
    /// The migration count that added the table: an older source has none of its rows.
    pub since: i64,
    pub columns: &'static [Column],
}

impl Table {
    /// Its column names, in order, comma separated.
    pub fn column_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        names.join(", ")
    }

    /// The SELECT list that reads a source at schema `version`: a column it
    /// has, a default for one it predates, NULL for a dropped lease.
    pub fn source_columns(&self, version: i64) -> String {
        let exprs: Vec<String> = self
            .columns
            .iter()
            .map(|c| match (c.on_copy, version >= c.since) {
                (OnCopy::Drop, _) => "NULL".to_string(),
                (OnCopy::Keep, true) => c.name.to_string(),
                (OnCopy::Keep, false) => c.default.to_string(),
            })
            .collect();
        exprs.join(", ")
    }
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        since: 1,
        default: "NULL",
        on_copy: OnCopy::Keep,
    }
}

const fn added(name: &'static str, kind: Kind, since: i64, default: &'static str) -> Column {
    Column {
        name,
        kind,
        since,
        default,
        on_copy: OnCopy::Keep,
    }
}

const fn lease(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Int,
        since: 1,
        default: "NULL",
        on_copy: OnCopy::Drop,
    }
}

use Kind::{Flag, Int, Real, Text};

/// In the order the copy writes them: events before the deliveries that
/// reference them (the only foreign key).
pub const TABLES: &[Table] = &[
    Table {
        name: "events",
        key: "id",
        identity: true,
        since: 1,
        columns: &[
            col("id", Int),
            col("created_at", Int),
            col("source", Text),
            col("run_id", Text),
            col("kind", Text),
            col("idempotency_key", Text),
            col("notification", Text),
            added("watcher_id", Int, 3, "NULL"),
        ],
    },
    Table {
        name: "deliveries",
        key: "id",
        identity: true,
        since: 1,
        columns: &[
            col("id", Int),
            col("event_id", Int),
            col("channel", Text),
            col("run_id", Text),
            col("kind", Text),
            col("state", Text),
            col("attempts", Int),
            col("failures", Int),
            col("rate_limited", Int),
            col("next_attempt_at", Int),
            lease("lease_until"),
            lease("lease_owner"),
            col("sent_at", Int),
            col("last_error", Text),
            col("remote_id", Text),
            added("parts_sent", Int, 2, "0"),
            col("updated_at", Int),
        ],
    },
    Table {
        name: "runs",
        key: "run_id",
        identity: false,
        since: 1,
        columns: &[
            col("run_id", Text),
            col("status", Text),
            col("progress", Real),
            col("step", Text),
            col("started_at", Int),
            col("ended_at", Int),
            col("duration_ms", Int),
            col("last_message", Text),
            col("artifact_url", Text),
            col("error_code", Text),
            col("updated_at", Int),
        ],
    },
    Table {
        name: "watchers",
        key: "id",
        identity: true,
        since: 3,
        columns: &[
            col("id", Int),
            col("name", Text),
            col("kind", Text),
            col("spec", Text),
            col("origin", Text),
            col("state", Text),
            col("memory", Text),
            col("checks", Int),
            col("claims", Int),
            col("last_check_at", Int),
            col("last_result", Text),
            col("last_fired_at", Int),
            col("last_error", Text),
            col("consecutive_failures", Int),
            col("failing_reported", Flag),
            col("next_check_at", Int),
            lease("lease_until"),
            lease("lease_owner"),
            col("created_at", Int),
            col("updated_at", Int),
        ],
    },
    Table {
        name: "asks",
        key: "id",
        identity: true,
        since: 4,
        columns: &[
            col("id", Int),
            col("question", Text),
            col("state", Text),
            col("answer", Text),
            col("deadline", Int),
            col("created_at", Int),
            col("closed_at", Int),
        ],
    },
    // The reply key goes along, or the links of questions still open
    // would stop working once the store has moved.
    Table {
        name: "hub_keys",
        key: "name",
        identity: false,
        since: 4,
        columns: &[col("name", Text), col("value", Text)],
    },
];

/// One column's values for a page of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Flag(Vec<Option<bool>>),
}

impl Values {
    pub fn new(kind: Kind) -> Values {
        match kind {
            Kind::Int => Values::Int(Vec::new()),
            Kind::Real => Values::Real(Vec::new()),
            Kind::Text => Values::Text(Vec::new()),
            Kind::Flag => Values::Flag(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Real(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Flag(v) => v.len(),
        }
    }
}

/// A page of one table's rows, column by column (as `unnest` takes them).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub columns: Vec<Values>,
}

impl Page {
    pub fn new(table: &Table) -> Page {
        Page {
            columns: table.columns.iter().map(|c| Values::new(c.kind)).collect(),
        }
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Values::len)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::schema::MIGRATIONS;

    /// Tables of either schema that are not history (see the module's comment).
    pub const NOT_COPIED: &[&str] = &["mcp_push_schema", "sqlite_sequence"];

    fn sqlite_schema(version: usize) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn
    }

    fn sqlite_columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Every table and column of the current SQLite schema is in the list,
    /// and everything in the list is in the schema (names as sets: a column
    /// added by `ALTER TABLE` comes last in SQLite, where it falls in PostgreSQL).
    #[test]
    fn the_list_is_the_sqlite_schema() {
        let conn = sqlite_schema(MIGRATIONS.len());
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in &tables {
            assert!(
                TABLES.iter().any(|l| l.name == t) || NOT_COPIED.contains(&t.as_str()),
                "table {t} of the SQLite schema is neither copied nor listed as skipped"
            );
        }
        for table in TABLES {
            let mut have = sqlite_columns(&conn, table.name);
            let mut listed: Vec<String> = table.columns.iter().map(|c| c.name.into()).collect();
            have.sort();
            listed.sort();
            assert_eq!(have, listed, "the columns of {}", table.name);
        }
    }

    /// A column or table's `since` is the migration that added it: absent
    /// just before, present from then on.
    #[test]
    fn since_is_the_migration_that_added_it() {
        for version in 1..=MIGRATIONS.len() as i64 {
            let conn = sqlite_schema(version as usize);
            for table in TABLES {
                let have = sqlite_columns(&conn, table.name);
                assert_eq!(!have.is_empty(), version >= table.since, "{}", table.name);
                if version < table.since {
                    continue;
                }
                for c in table.columns {
                    assert_eq!(
                        have.iter().any(|h| h == c.name),
                        version >= c.since,
                        "{}.{} at version {version}",
                        table.name,
                        c.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_source_is_read_with_defaults_for_what_it_predates_and_no_leases() {
        let deliveries = TABLES.iter().find(|t| t.name == "deliveries").unwrap();
        let cases = [
            (1, "0"),          // before parts_sent: none sent
            (2, "parts_sent"), // from then on, its own
        ];
        for (version, parts) in cases {
            let select = deliveries.source_columns(version);
            let exprs: Vec<&str> = select.split(", ").collect();
            let at = |name: &str| {
                exprs[deliveries
                    .columns
                    .iter()
                    .position(|c| c.name == name)
                    .unwrap()]
            };
            assert_eq!(at("parts_sent"), parts, "version {version}");
            assert_eq!(at("lease_until"), "NULL");
            assert_eq!(at("lease_owner"), "NULL");
            assert_eq!(at("state"), "state");
        }
    }
}
