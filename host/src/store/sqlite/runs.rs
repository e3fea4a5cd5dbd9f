//! The runs on SQLite: reading them, and the run-state rule the append applies.

use super::SqliteStore;
use super::rows::run_from_row;
use crate::notification::{EventKind, Notification, RunId};
use crate::store::run::{self, RunState};
use crate::store::{NewEvent, RunStatus, Runs, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

impl Runs for SqliteStore {
    fn run(&self, run_id: &RunId) -> Result<Option<RunState>, StoreError> {
        let conn = self.reader();
        load_run(&conn, &run_id.0).map_err(|e| self.err(e))
    }

    fn list_runs(
        &self,
        status: Option<RunStatus>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<RunState>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT run_id, status, progress, step, started_at, ended_at, duration_ms,
                        last_message, artifact_url, error_code, updated_at
                 FROM runs WHERE ?1 IS NULL OR status = ?1
                 ORDER BY started_at DESC, run_id LIMIT ?2 OFFSET ?3",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(
            params![status.map(|s| s.as_str()), limit as i64, offset as i64],
            run_from_row,
        )
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }
}

/// Rule: a run's state follows its events, even out of order
/// ([`run::apply`]); a run's end or error adds how long it took (and its
/// artifact) to the message; the row is written only when the state changed.
/// Returns the notification as it is logged and delivered.
pub(super) fn advance(
    tx: &rusqlite::Transaction<'_>,
    ev: &NewEvent,
) -> rusqlite::Result<Notification> {
    let mut notification = ev.notification.clone();
    let Some(re) = ev.notification.event.as_ref() else {
        return Ok(notification);
    };
    let prev = load_run(tx, &re.run_id.0)?;
    let unchanged = prev.clone();
    let next = run::apply(prev, re, &ev.notification.body, ev.received_at);
    if matches!(re.kind, EventKind::End | EventKind::Error) {
        notification.add_run_summary(next.duration_ms, next.artifact_url.as_deref());
    }
    if unchanged.as_ref() != Some(&next) {
        save_run(tx, &next)?;
    }
    Ok(notification)
}

fn load_run(conn: &Connection, run_id: &str) -> rusqlite::Result<Option<RunState>> {
    conn.prepare_cached(
        "SELECT run_id, status, progress, step, started_at, ended_at, duration_ms,
                last_message, artifact_url, error_code, updated_at
         FROM runs WHERE run_id = ?1",
    )?
    .query_row([run_id], run_from_row)
    .optional()
}

fn save_run(tx: &rusqlite::Transaction<'_>, next: &RunState) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO runs (run_id, status, progress, step, started_at, ended_at,
                           duration_ms, last_message, artifact_url, error_code, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (run_id) DO UPDATE SET
            status = excluded.status, progress = excluded.progress, step = excluded.step,
            started_at = excluded.started_at, ended_at = excluded.ended_at,
            duration_ms = excluded.duration_ms, last_message = excluded.last_message,
            artifact_url = excluded.artifact_url, error_code = excluded.error_code,
            updated_at = excluded.updated_at",
    )?
    .execute(params![
        next.run_id.0,
        next.status.as_str(),
        next.progress.map(f64::from),
        next.step,
        next.started_at.0,
        next.ended_at.map(|t| t.0),
        next.duration_ms,
        next.last_message,
        next.artifact_url,
        next.error_code,
        next.updated_at.0,
    ])
}
