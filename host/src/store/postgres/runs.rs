//! The runs on PostgreSQL: reading them, and the run-state rule the append
//! applies (one append at a time: see `event_log::lock_appends`).

use super::rows::{RUN_COLUMNS, run_from_row};
use super::{Db, Fail, PgStore, Tx};
use crate::notification::{EventKind, Notification, RunId};
use crate::store::run::{self, RunState};
use crate::store::{NewEvent, RunStatus, Runs, StoreError};
use postgres::GenericClient;

impl Runs for PgStore {
    fn run(&self, run_id: &RunId) -> Result<Option<RunState>, StoreError> {
        self.with(|c| load(c, &run_id.0))
    }

    fn list_runs(
        &self,
        status: Option<RunStatus>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<RunState>, StoreError> {
        let status = status.map(|s| s.as_str());
        let (limit, offset) = (limit as i64, offset as i64);
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE $1::text IS NULL OR status = $1
                     ORDER BY started_at DESC, run_id LIMIT $2 OFFSET $3"
                ),
                &[&status, &limit, &offset],
            )?
            .iter()
            .map(run_from_row)
            .collect()
        })
    }
}

/// Rule: a run's state follows its events, even out of order
/// ([`run::apply`]); a run's end or error adds how long it took (and its
/// artifact) to the message. Returns the notification as it is logged and
/// delivered, and the run's new state when it changed (written by
/// [`save`] once the event is known not to be a duplicate).
pub(super) fn advance(
    tx: &mut Tx<'_, '_>,
    ev: &NewEvent,
) -> Result<(Notification, Option<RunState>), Fail> {
    let mut notification = ev.notification.clone();
    let Some(re) = ev.notification.event.as_ref() else {
        return Ok((notification, None));
    };
    let prev = load(tx, &re.run_id.0)?;
    let unchanged = prev.clone();
    let next = run::apply(prev, re, &ev.notification.body, ev.received_at);
    if matches!(re.kind, EventKind::End | EventKind::Error) {
        notification.add_run_summary(next.duration_ms, next.artifact_url.as_deref());
    }
    let changed = (unchanged.as_ref() != Some(&next)).then_some(next);
    Ok((notification, changed))
}

fn load(c: &mut Db<'_, impl GenericClient>, run_id: &str) -> Result<Option<RunState>, Fail> {
    c.query_opt(
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = $1"),
        &[&run_id],
    )?
    .map(|r| run_from_row(&r))
    .transpose()
}

pub(super) fn save(tx: &mut Tx<'_, '_>, next: &RunState) -> Result<(), Fail> {
    tx.execute(
        "INSERT INTO runs (run_id, status, progress, step, started_at, ended_at,
                           duration_ms, last_message, artifact_url, error_code, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (run_id) DO UPDATE SET
            status = excluded.status, progress = excluded.progress, step = excluded.step,
            started_at = excluded.started_at, ended_at = excluded.ended_at,
            duration_ms = excluded.duration_ms, last_message = excluded.last_message,
            artifact_url = excluded.artifact_url, error_code = excluded.error_code,
            updated_at = excluded.updated_at",
        &[
            &next.run_id.0,
            &next.status.as_str(),
            &next.progress.map(f64::from),
            &next.step,
            &next.started_at.0,
            &next.ended_at.map(|t| t.0),
            &next.duration_ms,
            &next.last_message,
            &next.artifact_url,
            &next.error_code,
            &next.updated_at.0,
        ],
    )?;
    Ok(())
}
