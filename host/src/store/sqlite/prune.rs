//! Retention for the SQLite store: what is done and out of the window is
//! forgotten in small batches, each its own short write transaction, so the
//! writer is never held for long.

use super::SqliteStore;
use crate::store::{Pruned, Retention, StoreError, StoreSize, UnixMillis};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// The events a prune may take: out of the window (older than the cutoff,
/// or past the newest `keep_events`), no delivery pending, no run running.
/// What a dry run counts, on the reads' connection; a prune finds its
/// batches with `by_age` and `by_count`, which an index serves.
const CANDIDATES: &str = "
    FROM events e
    WHERE ((?1 IS NOT NULL AND e.created_at < ?1)
           OR (?2 IS NOT NULL
               AND e.id < (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?2)))
      AND NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.event_id = e.id AND d.state = 'pending')
      AND (e.run_id IS NULL
           OR NOT EXISTS (SELECT 1 FROM runs r
                          WHERE r.run_id = e.run_id AND r.status = 'running'))";

/// What makes an event forgettable besides its age or place: no delivery of
/// it still pending, and no run of it still running.
const SETTLED: &str = "
    NOT EXISTS (SELECT 1 FROM deliveries d
                WHERE d.event_id = e.id AND d.state = 'pending')
    AND (e.run_id IS NULL
         OR NOT EXISTS (SELECT 1 FROM runs r
                        WHERE r.run_id = e.run_id AND r.status = 'running'))";

/// A batch of the events older than the window (?1), oldest first, through
/// `events_created`. The `OR` of `CANDIDATES` fits no index: every pass read
/// the whole events table (and probed the deliveries for each row) inside
/// the writer's transaction, holding every append behind it, even with
/// nothing to forget.
pub(super) fn by_age() -> String {
    format!(
        "SELECT e.id FROM events e WHERE e.created_at < ?1 AND {SETTLED} ORDER BY e.created_at LIMIT ?2"
    )
}

/// A batch of the events past the newest ?1 (less one), oldest first,
/// found by id.
pub(super) fn by_count() -> String {
    format!(
        "SELECT e.id FROM events e
         WHERE e.id < (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1) AND {SETTLED}
         ORDER BY e.id LIMIT ?2"
    )
}

/// The runs of a batch's events (a JSON array of ids), read before they go.
pub(super) const RUNS_OF_BATCH: &str = "SELECT DISTINCT run_id FROM events
    WHERE id IN (SELECT value FROM json_each(?1)) AND run_id IS NOT NULL";

/// Of those runs (a JSON array), the finished ones left without events. Only
/// a batch's runs can have lost their last event: a sweep of every run read
/// the whole runs table in the writer's transaction on every pass.
pub(super) const FORGET_RUNS: &str = "DELETE FROM runs
    WHERE run_id IN (SELECT value FROM json_each(?1)) AND status <> 'running'
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.run_id = runs.run_id)";

impl SqliteStore {
    pub(super) fn prune_rows(
        &self,
        keep: &Retention,
        now: UnixMillis,
        limit: usize,
        dry_run: bool,
    ) -> Result<Pruned, StoreError> {
        let cutoff = keep.cutoff(now).map(|t| t.0);
        // OFFSET counts from 0: the newest `keep_events` end at the one it finds.
        let keep_events = keep.keep_events.map(|n| n as i64 - 1);
        if keep_events.is_some_and(|n| n < 0) {
            return Ok(Pruned::default());
        }
        if dry_run {
            let conn = self.reader();
            let count = |sql: String| -> rusqlite::Result<u64> {
                conn.query_row(&sql, params![cutoff, keep_events], |r| r.get::<_, i64>(0))
                    .map(|n| n as u64)
            };
            let events = count(format!("SELECT COUNT(*) {CANDIDATES}")).map_err(|e| self.err(e))?;
            let deliveries = count(format!(
                "SELECT COUNT(*) FROM deliveries WHERE event_id IN (SELECT e.id {CANDIDATES})"
            ))
            .map_err(|e| self.err(e))?;
            // Runs all of whose events would go, and that are over.
            let runs = count(format!(
                "SELECT COUNT(*) FROM runs r WHERE r.status <> 'running'
                   AND NOT EXISTS (SELECT 1 FROM events x WHERE x.run_id = r.run_id
                                   AND x.id NOT IN (SELECT e.id {CANDIDATES}))"
            ))
            .map_err(|e| self.err(e))?;
            return Ok(Pruned {
                events,
                deliveries,
                runs,
            });
        }
        self.still_ours()?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let pruned = (|| {
            let batch = |sql: String, bound: i64| -> rusqlite::Result<Vec<i64>> {
                tx.prepare_cached(&sql)?
                    .query_map(params![bound, limit as i64], |r| r.get(0))?
                    .collect()
            };
            let mut ids = match cutoff {
                Some(cutoff) => batch(by_age(), cutoff)?,
                None => Vec::new(),
            };
            if let Some(keep) = keep_events.filter(|_| ids.len() < limit) {
                ids.extend(batch(by_count(), keep)?);
                ids.sort_unstable();
                ids.dedup();
                ids.truncate(limit);
            }
            let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
            let runs_of_batch: Vec<String> = tx
                .prepare_cached(RUNS_OF_BATCH)?
                .query_map([&ids], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let deliveries = tx.execute(
                "DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?1))",
                [&ids],
            )? as u64;
            let events = tx.execute(
                "DELETE FROM events WHERE id IN (SELECT value FROM json_each(?1))",
                [&ids],
            )? as u64;
            let runs = tx.execute(
                FORGET_RUNS,
                [serde_json::to_string(&runs_of_batch).unwrap_or_else(|_| "[]".into())],
            )? as u64;
            Ok::<_, rusqlite::Error>(Pruned {
                events,
                deliveries,
                runs,
            })
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        // Hand freed pages back to the file system when the database can
        // (new stores are created with auto_vacuum = INCREMENTAL); otherwise
        // they are reused by the next writes, and the file stays as it is.
        if pruned.events > 0 {
            let _ = conn.execute_batch("PRAGMA incremental_vacuum(2000)");
        }
        Ok(pruned)
    }

    pub(super) fn size_of(&self) -> Result<StoreSize, StoreError> {
        let conn = self.reader();
        let (events, oldest): (i64, Option<i64>) = conn
            .query_row(
                "SELECT COUNT(*), (SELECT MIN(created_at) FROM events) FROM events",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or((0, None));
        let file = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        Ok(StoreSize {
            bytes: file(&self.path) + file(&self.wal_path()),
            events: events as u64,
            oldest_event_at: oldest.map(UnixMillis),
        })
    }
}
