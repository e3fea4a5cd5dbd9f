//! Upkeep on SQLite: retention (in `prune.rs`), size, and compacting the file.

use super::SqliteStore;
use crate::store::{Pruned, Retention, StoreError, StoreSize, UnixMillis, Upkeep};

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
