//! Upkeep on SQLite: retention (in `prune.rs`), size, and compacting the file.

use super::SqliteStore;
use crate::store::{Activity, Pruned, Retention, StoreError, StoreSize, UnixMillis, Upkeep};

impl Upkeep for SqliteStore {
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

    fn activity(&self, since: UnixMillis) -> Result<Activity, StoreError> {
        // Both counts read an index (events_created, deliveries_due).
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT (SELECT COUNT(*) FROM events WHERE created_at >= ?1),
                    (SELECT COUNT(*) FROM deliveries WHERE state = 'pending')",
        )
        .and_then(|mut s| {
            s.query_row([since.0], |r| {
                Ok(Activity {
                    events_since: r.get::<_, i64>(0)?.max(0) as u64,
                    pending: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })
        })
        .map_err(|e| self.err(e))
    }

    /// Each connection's page cache (up to 2 MiB) is dropped, to be read
    /// again from the file system's cache when work comes back.
    fn release_memory(&self) {
        if let Ok(writer) = self.conn.try_lock() {
            let _ = writer.conn.release_memory();
        }
        if let Ok(read) = self.read.try_lock() {
            let _ = read.release_memory();
        }
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
}
