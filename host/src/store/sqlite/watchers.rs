//! The watchers on SQLite. Claims take the write lock first (`IMMEDIATE`),
//! so two hubs on one file never lease the same check.

use super::SqliteStore;
use super::rows::bad;
use crate::store::{
    CheckDone, CheckStatus, HubId, NewWatcher, StoreError, UnixMillis, Watcher, WatcherClaim,
    WatcherEdit, WatcherId, WatcherOrigin, WatcherState, Watchers,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::time::Duration;

const COLUMNS: &str = "id, name, kind, spec, origin, state, memory, checks, last_check_at, \
     last_result, last_fired_at, last_error, consecutive_failures, failing_reported, \
     next_check_at, created_at, updated_at, claims";

fn json(text: Option<String>) -> rusqlite::Result<serde_json::Value> {
    match text {
        None => Ok(serde_json::Value::Null),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        }),
    }
}

fn to_text(v: &serde_json::Value) -> rusqlite::Result<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    serde_json::to_string(v)
        .map(Some)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// A row and its ticket (`claims`).
fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Watcher, u64)> {
    let origin: String = r.get(4)?;
    let state: String = r.get(5)?;
    let ms = |i: usize| -> rusqlite::Result<Option<UnixMillis>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(UnixMillis))
    };
    let watcher = Watcher {
        id: WatcherId(r.get(0)?),
        name: r.get(1)?,
        kind: r.get(2)?,
        spec: json(Some(r.get(3)?))?,
        origin: WatcherOrigin::parse(&origin).ok_or_else(|| bad("watcher origin", &origin))?,
        state: WatcherState::parse(&state).ok_or_else(|| bad("watcher state", &state))?,
        memory: json(r.get(6)?)?,
        checks: r.get::<_, i64>(7)? as u64,
        status: CheckStatus {
            last_check_at: ms(8)?,
            last_result: r.get(9)?,
            last_fired_at: ms(10)?,
            last_error: r.get(11)?,
            consecutive_failures: r.get(12)?,
            failing_reported: r.get(13)?,
            next_check_at: ms(14)?,
        },
        created_at: UnixMillis(r.get(15)?),
        updated_at: UnixMillis(r.get(16)?),
    };
    Ok((watcher, r.get::<_, i64>(17)? as u64))
}

fn load(conn: &Connection, id: i64) -> rusqlite::Result<Option<(Watcher, u64)>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM watchers WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Rule: a claim leases the row and takes a new ticket, in one write.
fn take_lease(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    until: UnixMillis,
    owner: HubId,
) -> rusqlite::Result<Option<WatcherClaim>> {
    tx.prepare_cached(
        "UPDATE watchers SET lease_until = ?2, lease_owner = ?3, claims = claims + 1
         WHERE id = ?1",
    )?
    .execute(params![id, until.0, owner.raw()])?;
    Ok(load(tx, id)?.map(|(watcher, ticket)| WatcherClaim {
        watcher,
        ticket,
        lease_until: until,
    }))
}

impl Watchers for SqliteStore {
    fn create_watcher(&self, new: NewWatcher, max: usize) -> Result<Watcher, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let (count, taken): (i64, bool) = tx
            .query_row(
                "SELECT count(*), coalesce(max(name = ?1), 0) FROM watchers",
                [&new.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        if taken {
            return Err(StoreError::WatcherNameTaken(new.name));
        }
        if count as usize >= max {
            return Err(StoreError::TooManyWatchers { max });
        }
        let spec = to_text(&new.spec).map_err(|e| self.err(e))?;
        tx.prepare_cached(
            "INSERT INTO watchers (name, kind, spec, origin, state, next_check_at,
                                   created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                new.name,
                new.kind,
                spec,
                new.origin.as_str(),
                new.state.as_str(),
                new.next_check_at.map(|t| t.0),
                new.at.0,
            ])
        })
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        let row = load(&tx, id).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        row.map(|(w, _)| w)
            .ok_or_else(|| StoreError::BadData("a watcher just written cannot be read".into()))
    }

    fn watcher(&self, id: WatcherId) -> Result<Option<Watcher>, StoreError> {
        let conn = self.reader();
        Ok(load(&conn, id.0).map_err(|e| self.err(e))?.map(|(w, _)| w))
    }

    fn watcher_named(&self, name: &str) -> Result<Option<Watcher>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM watchers WHERE name = ?1"))
            .and_then(|mut s| s.query_row([name], from_row).optional())
            .map(|w| w.map(|(w, _)| w))
            .map_err(|e| self.err(e))
    }

    fn list_watchers(&self) -> Result<Vec<Watcher>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM watchers ORDER BY id"))
            .and_then(|mut s| {
                s.query_map([], from_row)?
                    .map(|r| r.map(|(w, _)| w))
                    .collect()
            })
            .map_err(|e| self.err(e))
    }

    fn edit_watcher(
        &self,
        id: WatcherId,
        edit: WatcherEdit,
        at: UnixMillis,
    ) -> Result<Option<Watcher>, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let changed = match edit {
            // A new spec starts over: no memory, no failures, and a check in
            // flight (its ticket) no longer counts.
            WatcherEdit::Spec {
                kind,
                spec,
                next_check_at,
            } => {
                let spec = to_text(&spec).map_err(|e| self.err(e))?;
                tx.prepare_cached(
                    "UPDATE watchers SET kind = ?2, spec = ?3, memory = NULL,
                        consecutive_failures = 0, failing_reported = 0, last_error = NULL,
                        next_check_at = ?4, claims = claims + 1, lease_until = NULL,
                        lease_owner = NULL, updated_at = ?5
                     WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![id.0, kind, spec, next_check_at.map(|t| t.0), at.0])
                })
            }
            WatcherEdit::Pause => tx
                .prepare_cached(
                    "UPDATE watchers SET state = 'paused', updated_at = ?2 WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![id.0, at.0])),
            WatcherEdit::Resume { next_check_at } => tx
                .prepare_cached(
                    "UPDATE watchers SET state = 'active', next_check_at = ?2, updated_at = ?3
                     WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![id.0, next_check_at.map(|t| t.0), at.0])),
        }
        .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Ok(None);
        }
        let row = load(&tx, id.0).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(row.map(|(w, _)| w))
    }

    fn delete_watcher(&self, id: WatcherId) -> Result<bool, StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        let n = conn
            .prepare_cached("DELETE FROM watchers WHERE id = ?1")
            .and_then(|mut s| s.execute([id.0]))
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    fn claim_watchers(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: HubId,
    ) -> Result<Vec<WatcherClaim>, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let until = now.plus(lease);
        let claims = (|| {
            let ids: Vec<i64> = tx
                .prepare_cached(
                    "SELECT id FROM watchers
                     WHERE state = 'active' AND next_check_at <= ?1
                       AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_check_at, id LIMIT ?2",
                )?
                .query_map(params![now.0, limit as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(take_lease(&tx, id, until, owner)?);
            }
            Ok(out)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(claims)
    }

    fn claim_watcher(
        &self,
        id: WatcherId,
        now: UnixMillis,
        lease_for: Duration,
        owner: HubId,
    ) -> Result<Option<WatcherClaim>, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let free: Option<bool> = tx
            .query_row(
                "SELECT lease_until IS NULL OR lease_until <= ?2 FROM watchers WHERE id = ?1",
                params![id.0, now.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if free != Some(true) {
            return Ok(None);
        }
        let claim = take_lease(&tx, id.0, now.plus(lease_for), owner).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(claim)
    }

    fn finish_check(
        &self,
        id: WatcherId,
        ticket: u64,
        done: CheckDone,
    ) -> Result<bool, StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        let memory = match &done.memory {
            Some(m) => Some(to_text(m).map_err(|e| self.err(e))?),
            None => None,
        };
        let s = &done.status;
        let n = conn
            .prepare_cached(
                "UPDATE watchers SET
                    memory = CASE WHEN ?3 THEN ?4 ELSE memory END,
                    checks = checks + 1, last_check_at = ?5, last_result = ?6,
                    last_fired_at = ?7, last_error = ?8, consecutive_failures = ?9,
                    failing_reported = ?10, next_check_at = ?11,
                    lease_until = NULL, lease_owner = NULL, updated_at = ?12
                 WHERE id = ?1 AND claims = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id.0,
                    ticket as i64,
                    memory.is_some(),
                    memory.flatten(),
                    s.last_check_at.map(|t| t.0),
                    s.last_result,
                    s.last_fired_at.map(|t| t.0),
                    s.last_error,
                    s.consecutive_failures,
                    s.failing_reported,
                    s.next_check_at.map(|t| t.0),
                    done.at.0,
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    fn next_watcher_due(&self) -> Result<Option<UnixMillis>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT min(max(next_check_at, coalesce(lease_until, 0))) FROM watchers
             WHERE state = 'active' AND next_check_at IS NOT NULL",
        )
        .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))
        .map(|t| t.map(UnixMillis))
        .map_err(|e| self.err(e))
    }
}
