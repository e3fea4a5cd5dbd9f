//! A store read to be copied elsewhere (`mcp-push migrate`): the file is
//! opened read-only, never created, migrated nor marked, and everything is
//! read inside one read transaction, so that the copy and its counts are one
//! moment of the store even if a process still writes to it. It stops at
//! reading: what the rows become is `store/transfer`'s business.

use super::outbox::process_alive;
use super::{SqliteOptions, check_ours, classify};
use crate::store::schema::{MIGRATIONS, check_version};
use crate::store::transfer::tables::{Page, TABLES, Table, Values};
use crate::store::{StoreError, UnixMillis};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

pub struct SqliteSnapshot {
    path: PathBuf,
    options: SqliteOptions,
    conn: Connection,
    /// Its `user_version`: how many of [`MIGRATIONS`] ran on it.
    version: i64,
}

/// A process that holds a lease on the source: it is still sending from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLease {
    pub pid: u32,
    pub until: UnixMillis,
}

impl SqliteSnapshot {
    /// Open `path` to read it. A file that is missing, empty, not ours, or
    /// written by a newer mcp-push is an error; nothing is written to it
    /// (SQLite may add the `-shm` index beside a WAL file, as any reader does).
    pub fn open(path: &Path) -> Result<SqliteSnapshot, StoreError> {
        let options = SqliteOptions::default();
        let err = |e| classify(path, &options, e);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(options.busy_timeout).map_err(err)?;
        // Deferred: the snapshot is taken by the first read below and held
        // until the connection closes.
        conn.execute_batch("BEGIN").map_err(err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        check_ours(path, &options, &conn, version)?;
        if version == 0 {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                detail: "it holds no mcp-push store yet (an empty database): nothing to copy"
                    .into(),
            });
        }
        check_version(&path.display().to_string(), version, MIGRATIONS.len())?;
        Ok(SqliteSnapshot {
            path: path.to_path_buf(),
            options,
            conn,
            version,
        })
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, &self.options, e)
    }

    fn has(&self, table: &Table) -> bool {
        self.version >= table.since
    }

    pub fn count(&mut self, table: &Table) -> Result<u64, StoreError> {
        if !self.has(table) {
            return Ok(0);
        }
        let n: i64 = self
            .conn
            .query_row(&format!("SELECT count(*) FROM {}", table.name), [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    /// The highest id the table has handed out: its largest row's, or for an
    /// `AUTOINCREMENT` table (watchers) the largest it ever gave, deleted or
    /// not, so that the copy never hands that one out again either.
    pub fn highest_id(&mut self, table: &Table) -> Result<Option<i64>, StoreError> {
        if !self.has(table) || !table.identity {
            return Ok(None);
        }
        let sequenced: bool = self
            .conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_sequence'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let (key, name) = (table.key, table.name);
        let sql = if sequenced {
            format!(
                "SELECT max(coalesce((SELECT max({key}) FROM {name}), 0),
                            coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{name}'), 0))"
            )
        } else {
            format!("SELECT max({key}) FROM {name}")
        };
        let top: Option<i64> = self
            .conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(top.filter(|t| *t > 0))
    }

    /// A lease not yet run out whose process is alive: a `serve`, `mcp` or
    /// `send` still sending from this file, whose later writes the copy
    /// would miss (and whose sends the target would make again).
    pub fn live_lease(&mut self, now: UnixMillis) -> Result<Option<LiveLease>, StoreError> {
        let mut sql = String::from(
            "SELECT lease_owner, max(lease_until) FROM deliveries
             WHERE state = 'pending' AND lease_owner IS NOT NULL AND lease_until > ?1
             GROUP BY lease_owner",
        );
        // Watchers lease too, from the schema that brought them.
        if TABLES.iter().any(|t| t.name == "watchers" && self.has(t)) {
            sql.push_str(
                " UNION ALL SELECT lease_owner, max(lease_until) FROM watchers
                  WHERE lease_owner IS NOT NULL AND lease_until > ?1 GROUP BY lease_owner",
            );
        }
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let leases: Vec<(i64, i64)> = stmt
            .query_map([now.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| classify(&self.path, &self.options, e))?;
        Ok(leases
            .into_iter()
            .filter_map(|(pid, until)| {
                let pid = u32::try_from(pid).ok()?;
                (pid != std::process::id() && process_alive(pid)).then_some(LiveLease {
                    pid,
                    until: UnixMillis(until),
                })
            })
            .max_by_key(|l| l.until))
    }

    /// Every row of `table`, in pages of up to `rows`, handed to `each` in
    /// key order.
    pub fn pages<E: From<StoreError>>(
        &mut self,
        table: &Table,
        rows: usize,
        mut each: impl FnMut(&Page) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.has(table) {
            return Ok(());
        }
        let select = format!(
            "SELECT {}, {key} FROM {} {{where}} ORDER BY {key} LIMIT {rows}",
            table.source_columns(self.version),
            table.name,
            key = table.key,
        );
        let first = select.replace("{where}", "");
        let next = select.replace("{where}", &format!("WHERE {} > ?1", table.key));
        let mut after: Option<Value> = None;
        loop {
            let page = self.page(table, if after.is_some() { &next } else { &first }, &after)?;
            let Some((page, last)) = page else {
                return Ok(());
            };
            each(&page)?;
            if page.rows() < rows {
                return Ok(());
            }
            after = Some(last);
        }
    }

    /// One page and the key of its last row; `None` when there are no more rows.
    fn page(
        &self,
        table: &Table,
        sql: &str,
        after: &Option<Value>,
    ) -> Result<Option<(Page, Value)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let params: Vec<&dyn rusqlite::ToSql> = after.iter().map(|v| v as _).collect();
        let mut rows = stmt.query(params.as_slice()).map_err(|e| self.err(e))?;
        let mut page = Page::new(table);
        let mut last = None;
        let key_at = table.columns.len();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            for (i, values) in page.columns.iter_mut().enumerate() {
                read(row, i, values).map_err(|e| classify(&self.path, &self.options, e))?;
            }
            last = Some(
                row.get::<_, Value>(key_at)
                    .map_err(|e| classify(&self.path, &self.options, e))?,
            );
        }
        Ok(last.map(|l| (page, l)))
    }
}

/// Column `i` of `row` onto `values`, in the column's kind; a value of
/// another type is an error (a damaged or hand-edited file), never guessed.
fn read(row: &rusqlite::Row<'_>, i: usize, values: &mut Values) -> rusqlite::Result<()> {
    match values {
        Values::Int(v) => v.push(row.get(i)?),
        Values::Real(v) => v.push(row.get(i)?),
        Values::Text(v) => v.push(row.get(i)?),
        Values::Flag(v) => v.push(row.get::<_, Option<i64>>(i)?.map(|f| f != 0)),
    }
    Ok(())
}
