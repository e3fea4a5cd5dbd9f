//! The watchers on PostgreSQL. A claim locks the due rows it reads and
//! skips those another hub holds (`FOR UPDATE SKIP LOCKED`), so two hubs
//! never lease the same check; each other change is one statement.

use super::rows::{bad, count, millis};
use super::{Fail, PgStore};
use crate::store::{
    CheckDone, CheckStatus, HubId, NewWatcher, StoreError, UnixMillis, Watcher, WatcherClaim,
    WatcherEdit, WatcherId, WatcherOrigin, WatcherState, Watchers,
};
use postgres::Row;
use postgres::error::SqlState;
use std::time::Duration;

/// Every column a [`Watcher`] is read from, on the table named `w`.
const COLUMNS: &str = "w.id, w.name, w.kind, w.spec, w.origin, w.state, w.memory, w.checks, \
     w.last_check_at, w.last_result, w.last_fired_at, w.last_error, w.consecutive_failures, \
     w.failing_reported, w.next_check_at, w.created_at, w.updated_at, w.claims";

fn json(text: Option<String>) -> Result<serde_json::Value, Fail> {
    match text {
        None => Ok(serde_json::Value::Null),
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| Fail::Store(StoreError::BadData(format!("a watcher's JSON: {e}")))),
    }
}

fn to_text(v: &serde_json::Value) -> Option<String> {
    // A `Value` always serializes.
    (!v.is_null()).then(|| v.to_string())
}

/// A row and its ticket (`claims`).
fn from_row(r: &Row) -> Result<(Watcher, u64), Fail> {
    let origin: String = r.try_get(4)?;
    let state: String = r.try_get(5)?;
    let watcher = Watcher {
        id: WatcherId(r.try_get(0)?),
        name: r.try_get(1)?,
        kind: r.try_get(2)?,
        spec: json(Some(r.try_get(3)?))?,
        origin: WatcherOrigin::parse(&origin).ok_or_else(|| bad("watcher origin", &origin))?,
        state: WatcherState::parse(&state).ok_or_else(|| bad("watcher state", &state))?,
        memory: json(r.try_get(6)?)?,
        checks: r.try_get::<_, i64>(7)?.max(0) as u64,
        status: CheckStatus {
            last_check_at: millis(r.try_get(8)?),
            last_result: r.try_get(9)?,
            last_fired_at: millis(r.try_get(10)?),
            last_error: r.try_get(11)?,
            consecutive_failures: count(r.try_get(12)?),
            failing_reported: r.try_get(13)?,
            next_check_at: millis(r.try_get(14)?),
        },
        created_at: UnixMillis(r.try_get(15)?),
        updated_at: UnixMillis(r.try_get(16)?),
    };
    Ok((watcher, r.try_get::<_, i64>(17)?.max(0) as u64))
}

fn watcher(row: Option<Row>) -> Result<Option<Watcher>, Fail> {
    row.map(|r| from_row(&r).map(|(w, _)| w)).transpose()
}

fn claim(row: &Row, until: UnixMillis) -> Result<WatcherClaim, Fail> {
    let (watcher, ticket) = from_row(row)?;
    Ok(WatcherClaim {
        watcher,
        ticket,
        lease_until: until,
    })
}

impl Watchers for PgStore {
    fn create_watcher(&self, new: NewWatcher, max: usize) -> Result<Watcher, StoreError> {
        let spec = to_text(&new.spec).unwrap_or_else(|| "null".into());
        self.tx(|tx| {
            // Hubs adding watchers at once take turns, so `max` holds.
            tx.batch_execute("LOCK TABLE watchers IN SHARE ROW EXCLUSIVE MODE")?;
            let row = tx.query_one(
                "SELECT COUNT(*), COALESCE(BOOL_OR(name = $1), FALSE) FROM watchers",
                &[&new.name],
            )?;
            if row.try_get::<_, bool>(1)? {
                return Err(StoreError::WatcherNameTaken(new.name.clone()).into());
            }
            if row.try_get::<_, i64>(0)? as usize >= max {
                return Err(StoreError::TooManyWatchers { max }.into());
            }
            let row = tx.query_one(
                &format!(
                    "INSERT INTO watchers AS w (name, kind, spec, origin, state, next_check_at,
                                                created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                     RETURNING {COLUMNS}"
                ),
                &[
                    &new.name,
                    &new.kind,
                    &spec,
                    &new.origin.as_str(),
                    &new.state.as_str(),
                    &new.next_check_at.map(|t| t.0),
                    &new.at.0,
                ],
            );
            match row {
                Ok(r) => Ok(from_row(&r)?.0),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    Err(StoreError::WatcherNameTaken(new.name.clone()).into())
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    fn watcher(&self, id: WatcherId) -> Result<Option<Watcher>, StoreError> {
        self.with(|c| {
            watcher(c.query_opt(
                &format!("SELECT {COLUMNS} FROM watchers w WHERE w.id = $1"),
                &[&id.0],
            )?)
        })
    }

    fn watcher_named(&self, name: &str) -> Result<Option<Watcher>, StoreError> {
        self.with(|c| {
            watcher(c.query_opt(
                &format!("SELECT {COLUMNS} FROM watchers w WHERE w.name = $1"),
                &[&name],
            )?)
        })
    }

    fn list_watchers(&self) -> Result<Vec<Watcher>, StoreError> {
        self.with(|c| {
            c.query(
                &format!("SELECT {COLUMNS} FROM watchers w ORDER BY w.id"),
                &[],
            )?
            .iter()
            .map(|r| from_row(r).map(|(w, _)| w))
            .collect()
        })
    }

    fn edit_watcher(
        &self,
        id: WatcherId,
        edit: WatcherEdit,
        at: UnixMillis,
    ) -> Result<Option<Watcher>, StoreError> {
        self.with(|c| {
            let row = match &edit {
                // A new spec starts over: no memory, no failures, and a check
                // in flight (its ticket) no longer counts.
                WatcherEdit::Spec {
                    kind,
                    spec,
                    next_check_at,
                } => c.query_opt(
                    &format!(
                        "UPDATE watchers w SET kind = $2, spec = $3, memory = NULL,
                            consecutive_failures = 0, failing_reported = FALSE,
                            last_error = NULL, next_check_at = $4, claims = claims + 1,
                            lease_until = NULL, lease_owner = NULL, updated_at = $5
                         WHERE w.id = $1 RETURNING {COLUMNS}"
                    ),
                    &[
                        &id.0,
                        kind,
                        &to_text(spec).unwrap_or_else(|| "null".into()),
                        &next_check_at.map(|t| t.0),
                        &at.0,
                    ],
                )?,
                WatcherEdit::Pause => c.query_opt(
                    &format!(
                        "UPDATE watchers w SET state = 'paused', updated_at = $2
                         WHERE w.id = $1 RETURNING {COLUMNS}"
                    ),
                    &[&id.0, &at.0],
                )?,
                WatcherEdit::Resume { next_check_at } => c.query_opt(
                    &format!(
                        "UPDATE watchers w SET state = 'active', next_check_at = $2,
                            updated_at = $3
                         WHERE w.id = $1 RETURNING {COLUMNS}"
                    ),
                    &[&id.0, &next_check_at.map(|t| t.0), &at.0],
                )?,
            };
            watcher(row)
        })
    }

    fn delete_watcher(&self, id: WatcherId) -> Result<bool, StoreError> {
        self.with(|c| Ok(c.execute("DELETE FROM watchers WHERE id = $1", &[&id.0])? > 0))
    }

    fn claim_watchers(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: HubId,
    ) -> Result<Vec<WatcherClaim>, StoreError> {
        let until = now.plus(lease);
        let limit = limit as i64;
        // Rule: a claim leases the row and takes a new ticket, in one write.
        let mut claims = self.with(|c| {
            c.query(
                &format!(
                    "WITH due AS (
                        SELECT id FROM watchers
                        WHERE state = 'active' AND next_check_at <= $1
                          AND (lease_until IS NULL OR lease_until <= $1)
                        ORDER BY next_check_at, id LIMIT $2
                        FOR UPDATE SKIP LOCKED)
                     UPDATE watchers w SET lease_until = $3, lease_owner = $4,
                        claims = w.claims + 1
                     FROM due WHERE w.id = due.id
                     RETURNING {COLUMNS}"
                ),
                &[&now.0, &limit, &until.0, &i64::from(owner.raw())],
            )?
            .iter()
            .map(|r| claim(r, until))
            .collect::<Result<Vec<_>, Fail>>()
        })?;
        claims.sort_by_key(|c| (c.watcher.status.next_check_at, c.watcher.id));
        Ok(claims)
    }

    fn claim_watcher(
        &self,
        id: WatcherId,
        now: UnixMillis,
        lease_for: Duration,
        owner: HubId,
    ) -> Result<Option<WatcherClaim>, StoreError> {
        let until = now.plus(lease_for);
        self.with(|c| {
            c.query_opt(
                &format!(
                    "UPDATE watchers w SET lease_until = $3, lease_owner = $4,
                        claims = w.claims + 1
                     WHERE w.id = $1 AND (w.lease_until IS NULL OR w.lease_until <= $2)
                     RETURNING {COLUMNS}"
                ),
                &[&id.0, &now.0, &until.0, &i64::from(owner.raw())],
            )?
            .map(|r| claim(&r, until))
            .transpose()
        })
    }

    fn finish_check(
        &self,
        id: WatcherId,
        ticket: u64,
        done: CheckDone,
    ) -> Result<bool, StoreError> {
        let memory = done.memory.as_ref().map(to_text);
        let s = &done.status;
        self.with(|c| {
            let n = c.execute(
                "UPDATE watchers SET
                    memory = CASE WHEN $3 THEN $4 ELSE memory END,
                    checks = checks + 1, last_check_at = $5, last_result = $6,
                    last_fired_at = $7, last_error = $8, consecutive_failures = $9,
                    failing_reported = $10, next_check_at = $11,
                    lease_until = NULL, lease_owner = NULL, updated_at = $12
                 WHERE id = $1 AND claims = $2",
                &[
                    &id.0,
                    &(ticket as i64),
                    &memory.is_some(),
                    &memory.clone().flatten(),
                    &s.last_check_at.map(|t| t.0),
                    &s.last_result,
                    &s.last_fired_at.map(|t| t.0),
                    &s.last_error,
                    &i64::from(s.consecutive_failures),
                    &s.failing_reported,
                    &s.next_check_at.map(|t| t.0),
                    &done.at.0,
                ],
            )?;
            Ok(n > 0)
        })
    }

    fn next_watcher_due(&self) -> Result<Option<UnixMillis>, StoreError> {
        self.with(|c| {
            let at: Option<i64> = c
                .query_one(
                    "SELECT MIN(GREATEST(next_check_at, COALESCE(lease_until, 0))) FROM watchers
                     WHERE state = 'active' AND next_check_at IS NOT NULL",
                    &[],
                )?
                .try_get(0)?;
            Ok(at.map(UnixMillis))
        })
    }
}
