//! Upkeep on PostgreSQL: retention in batches (each its own short
//! transaction, so hubs appending meanwhile are never held for long), the
//! store's size, and compacting its tables.

use super::{Fail, PgStore};
use crate::store::{Activity, Pruned, Retention, StoreError, StoreSize, UnixMillis, Upkeep};

/// The events a prune may take: out of the window (older than the cutoff,
/// or past the newest `keep_events`), no delivery pending, no run running.
const CANDIDATES: &str = "
    FROM events e
    WHERE (($1::bigint IS NOT NULL AND e.created_at < $1)
           OR ($2::bigint IS NOT NULL
               AND e.id < (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET $2)))
      AND NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.event_id = e.id AND d.state = 'pending')
      AND (e.run_id IS NULL
           OR NOT EXISTS (SELECT 1 FROM runs r
                          WHERE r.run_id = e.run_id AND r.status = 'running'))";

/// Finished runs whose events are all gone.
const ORPHAN_RUNS: &str = "
    FROM runs r
    WHERE r.status <> 'running'
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.run_id = r.run_id)";

/// The store's tables, whose size is the store's.
const TABLES: &str = "events, deliveries, runs, watchers, mcp_push_schema";

impl Upkeep for PgStore {
    fn prune(
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
            return self.with(|c| {
                let mut count = |sql: String| -> Result<u64, Fail> {
                    let n: i64 = c.query_one(&sql, &[&cutoff, &keep_events])?.try_get(0)?;
                    Ok(n.max(0) as u64)
                };
                Ok(Pruned {
                    events: count(format!("SELECT COUNT(*) {CANDIDATES}"))?,
                    deliveries: count(format!(
                        "SELECT COUNT(*) FROM deliveries WHERE event_id IN (SELECT e.id {CANDIDATES})"
                    ))?,
                    // Runs all of whose events would go, and that are over.
                    runs: count(format!(
                        "SELECT COUNT(*) FROM runs r WHERE r.status <> 'running'
                           AND NOT EXISTS (SELECT 1 FROM events x WHERE x.run_id = r.run_id
                                           AND x.id NOT IN (SELECT e.id {CANDIDATES}))"
                    ))?,
                })
            });
        }
        let limit = limit as i64;
        self.tx(|tx| {
            let ids: Vec<i64> = tx
                .query(
                    &format!("SELECT e.id {CANDIDATES} ORDER BY e.id LIMIT $3"),
                    &[&cutoff, &keep_events, &limit],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            // Rechecked as they go: a delivery retried by hand since the
            // look above keeps its event.
            let deliveries = tx.execute(
                "DELETE FROM deliveries WHERE event_id = ANY($1) AND state <> 'pending'",
                &[&ids],
            )?;
            let events = tx.execute(
                "DELETE FROM events e WHERE e.id = ANY($1)
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)",
                &[&ids],
            )?;
            let runs = tx.execute(
                &format!(
                    "DELETE FROM runs WHERE run_id IN (SELECT r.run_id {ORPHAN_RUNS} LIMIT $1)"
                ),
                &[&limit],
            )?;
            Ok(Pruned {
                events,
                deliveries,
                runs,
            })
        })
    }

    /// The bytes are the store's tables with their indexes and TOAST, not
    /// the whole database (which other applications may share).
    fn size(&self) -> Result<StoreSize, StoreError> {
        self.with(|c| {
            let bytes: i64 = c
                .query_one(
                    "SELECT COALESCE(SUM(pg_total_relation_size(t::regclass)), 0)::bigint
                     FROM unnest(string_to_array($1, ', ')) AS t",
                    &[&TABLES],
                )?
                .try_get(0)?;
            let row = c.query_one("SELECT COUNT(*), MIN(created_at) FROM events", &[])?;
            Ok(StoreSize {
                bytes: bytes.max(0) as u64,
                events: row.try_get::<_, i64>(0)?.max(0) as u64,
                oldest_event_at: row.try_get::<_, Option<i64>>(1)?.map(UnixMillis),
            })
        })
    }

    fn activity(&self, since: UnixMillis) -> Result<Activity, StoreError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT (SELECT COUNT(*) FROM events WHERE created_at >= $1),
                        (SELECT COUNT(*) FROM deliveries WHERE state = 'pending')",
                &[&since.0],
            )?;
            Ok(Activity {
                events_since: row.try_get::<_, i64>(0)?.max(0) as u64,
                pending: row.try_get::<_, i64>(1)?.max(0) as u64,
            })
        })
    }

    /// `VACUUM FULL` rewrites each table, holding it whole meanwhile (as
    /// SQLite's `VACUUM` does the file); between compactions autovacuum
    /// keeps the space freed by pruning for new rows.
    fn compact(&self) -> Result<(), StoreError> {
        self.with(|c| Ok(c.batch_execute(&format!("VACUUM (FULL, ANALYZE) {TABLES}"))?))
    }
}
