//! Rows copied in from another store (`mcp-push migrate`): one transaction
//! on one connection, pages written with one multi-row statement each, the
//! identity sequences moved past the copied ids. It only writes what it is
//! handed; which rows, and whether the copy is whole, is `store/transfer`'s
//! business.

use super::{PgStore, StoreError, off_runtime};
use crate::store::transfer::tables::{Page, TABLES, Table, Values};
use postgres::types::ToSql;

/// How long the copy waits for a hub already using the target to let go of
/// its tables before it gives up, rather than hang behind it.
const LOCK_TIMEOUT: &str = "10s";

/// The transaction the copy writes in; committed when the copy's work
/// returns `Ok`, rolled back otherwise (nothing written).
pub struct Import<'a> {
    tx: postgres::Transaction<'a>,
    store: &'a PgStore,
}

impl PgStore {
    /// Run `work` in one transaction that holds every table of the history
    /// (`EXCLUSIVE`: hubs may read, none may write until it ends), and
    /// commit it if `work` succeeds.
    pub(in crate::store) fn import<T: Send, E: From<StoreError> + Send>(
        &self,
        work: impl FnOnce(&mut Import<'_>) -> Result<T, E> + Send,
    ) -> Result<T, E> {
        off_runtime(|| {
            let mut conn = self.pool.get().map_err(|e| self.err(e))?;
            let (client, _) = conn.parts();
            let mut tx = client.transaction().map_err(|e| self.err(e))?;
            let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';
                 LOCK TABLE {} IN EXCLUSIVE MODE;",
                names.join(", ")
            ))
            .map_err(|e| self.err(e))?;
            let mut import = Import { tx, store: self };
            let out = work(&mut import)?;
            import.tx.commit().map_err(|e| self.err(e))?;
            Ok(out)
        })
    }
}

impl Import<'_> {
    /// How many rows each table of [`TABLES`] holds, in its order.
    pub fn counts(&mut self) -> Result<Vec<u64>, StoreError> {
        let mut counts = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let n: i64 = self
                .tx
                .query_one(&format!("SELECT count(*) FROM {}", table.name), &[])
                .map_err(|e| self.store.err(e))?
                .get(0);
            counts.push(n as u64);
        }
        Ok(counts)
    }

    /// A page of `table`'s rows, in one statement: each column goes as one
    /// array, and `unnest` turns the arrays back into rows (a thousand rows
    /// cost one round trip, not a thousand).
    pub fn insert(&mut self, table: &Table, page: &Page) -> Result<u64, StoreError> {
        let arrays: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, c.kind.pg_array()))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM unnest({})",
            table.name,
            table.column_list(),
            arrays.join(", ")
        );
        let params: Vec<&(dyn ToSql + Sync)> = page.columns.iter().map(param).collect();
        self.tx
            .execute(&sql, &params)
            .map_err(|e| self.store.err(e))
    }

    /// Make `table`'s identity hand out ids after `highest`. `setval` is not
    /// undone by a rollback: a copy that fails after it leaves the sequence
    /// ahead and the tables empty, which only means the first id is larger.
    pub fn continue_after(&mut self, table: &Table, highest: i64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "SELECT setval(pg_get_serial_sequence($1, $2), $3)",
                &[&table.name, &table.key, &highest],
            )
            .map_err(|e| self.store.err(e))?;
        Ok(())
    }
}

fn param(values: &Values) -> &(dyn ToSql + Sync) {
    match values {
        Values::Int(v) => v,
        Values::Real(v) => v,
        Values::Text(v) => v,
        Values::Flag(v) => v,
    }
}
