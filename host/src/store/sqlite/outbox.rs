//! The outbox on SQLite: the delivery rows an append writes (one function
//! per rule), claims and leases, outcomes, and the delivery reads.

use super::SqliteStore;
use super::rows::{DELIVERY_COLUMNS, bad, delivery_from_row, parse_notification};
use crate::model::DeliveryError;
use crate::notification::{ChannelId, EventKind, Notification, RunId};
use crate::store::enqueue;
use crate::store::retry::Decision;
use crate::store::{
    Appended, Attempt, ChannelCounts, Claim, ClaimRequest, ClaimScope, Delivery, DeliveryId,
    DeliveryPlan, DeliveryState, EventId, HubId, NewEvent, Outbox, StoreError, Target, UnixMillis,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// A new event's delivery row to one channel, by the outbox's rules
/// ([`enqueue::enqueue`]); its id.
pub(super) fn enqueue(
    tx: &rusqlite::Transaction<'_>,
    event_id: i64,
    ev: &NewEvent,
    plan: &DeliveryPlan,
) -> rusqlite::Result<DeliveryId> {
    enqueue::enqueue(&mut Rows(tx), event_id, ev, plan)
}

/// The rules' queries, in the append's transaction.
struct Rows<'t, 'c>(&'t rusqlite::Transaction<'c>);

impl enqueue::EnqueueDb for Rows<'_, '_> {
    type Error = rusqlite::Error;

    fn coalesce_waiting_updates(
        &mut self,
        run_id: &str,
        channel: &str,
        now: UnixMillis,
        reason: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "UPDATE deliveries SET state = 'coalesced', last_error = ?4,
                    next_attempt_at = NULL, updated_at = ?3
                 WHERE run_id = ?1 AND channel = ?2 AND kind = 'update' AND state = 'pending'
                   AND (lease_until IS NULL OR lease_until <= ?3)",
            )?
            .execute(params![run_id, channel, now.0, reason])?;
        Ok(())
    }

    fn last_update_went(
        &mut self,
        run_id: &str,
        channel: &str,
        now: UnixMillis,
    ) -> rusqlite::Result<Option<i64>> {
        self.0
            .prepare_cached(
                "SELECT MAX(COALESCE(sent_at, updated_at)) FROM deliveries
                 WHERE run_id = ?1 AND channel = ?2 AND kind = 'update'
                   AND (state = 'sent'
                        OR (state = 'pending' AND lease_until > ?3))",
            )?
            .query_row(params![run_id, channel, now.0], |r| r.get(0))
    }

    fn insert_delivery(
        &mut self,
        event_id: i64,
        run: Option<(&str, EventKind)>,
        plan: &DeliveryPlan,
        due: UnixMillis,
        held: Option<&str>,
        now: UnixMillis,
    ) -> rusqlite::Result<DeliveryId> {
        let (state, next, reason) = match &plan.skip {
            Some(reason) => (DeliveryState::Skipped, None, Some(reason.as_str())),
            None => (DeliveryState::Pending, Some(due.0), held),
        };
        self.0
            .prepare_cached(
                "INSERT INTO deliveries (event_id, channel, run_id, kind, state, next_attempt_at,
                                         last_error, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                event_id,
                plan.channel.as_str(),
                run.map(|(run_id, _)| run_id),
                run.map(|(_, kind)| kind.as_str()),
                state.as_str(),
                next,
                reason,
                now.0
            ])?;
        Ok(DeliveryId(self.0.last_insert_rowid()))
    }
}

impl Outbox for SqliteStore {
    fn claim(&self, request: &ClaimRequest) -> Result<Vec<Claim>, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let claims = self.claim_in(&tx, request)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(claims)
    }

    /// The embedded backend keeps the process-id probe: every hub sharing
    /// the file runs on this machine, so a lease whose process is gone is
    /// freed now rather than when it runs out. This process is alive, so its
    /// own leases stay.
    fn recover_abandoned(&self, _now: UnixMillis) -> Result<u64, StoreError> {
        let mut freed = 0;
        for owner in self
            .lease_owners()?
            .into_iter()
            .filter(|o| !process_alive(o.raw()))
        {
            let pid = owner.raw();
            match self.release_leases(Some(owner)) {
                Ok(n) if n > 0 => {
                    tracing::info!("resuming {n} deliveries left by process {pid}, which is gone");
                    freed += n;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot release process {pid}'s leases: {e}"),
            }
        }
        Ok(freed)
    }

    fn release_leases(&self, owner: Option<HubId>) -> Result<u64, StoreError> {
        let conn = self.fast();
        let n = conn
            .prepare_cached(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
                 WHERE state = 'pending' AND lease_until IS NOT NULL
                   AND (?1 IS NULL OR lease_owner = ?1)",
            )
            .and_then(|mut s| s.execute([owner.map(HubId::raw)]))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn renew_leases(
        &self,
        ids: &[DeliveryId],
        owner: HubId,
        until: UnixMillis,
    ) -> Result<u64, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let mut n = 0;
        {
            // `updated_at` stays: nothing about the delivery changed. A row
            // without a lease was given back, and is not taken again here.
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE deliveries SET lease_until = MAX(lease_until, ?3)
                     WHERE id = ?1 AND state = 'pending' AND lease_owner = ?2
                       AND lease_until IS NOT NULL",
                )
                .map_err(|e| self.err(e))?;
            for id in ids {
                n += stmt
                    .execute(params![id.0, owner.raw(), until.0])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn put_back(
        &self,
        ids: &[DeliveryId],
        now: UnixMillis,
        due: UnixMillis,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL,
                        next_attempt_at = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4
                     WHERE id = ?1 AND state = 'pending'",
                )
                .map_err(|e| self.err(e))?;
            for id in ids {
                stmt.execute(params![id.0, due.0, note, now.0])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn next_due(&self) -> Result<Option<UnixMillis>, StoreError> {
        let conn = self.reader();
        next_due_on(&conn).map_err(|e| self.err(e))
    }

    fn due_deliveries(&self, by: UnixMillis, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d
             WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
               AND (d.lease_until IS NULL OR d.lease_until <= ?1)
             ORDER BY d.next_attempt_at, d.id LIMIT ?2"
        ))
        .and_then(|mut s| {
            s.query_map(params![by.0, limit as i64], delivery_from_row)?
                .collect()
        })
        .map_err(|e| self.err(e))
    }

    fn record_sent(
        &self,
        id: DeliveryId,
        remote_id: Option<&str>,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        record_sent_tx(self, &conn, id, remote_id, now)
    }

    fn record_failure(
        &self,
        id: DeliveryId,
        error: &DeliveryError,
        now: UnixMillis,
    ) -> Result<DeliveryState, StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let state = record_failure_tx(self, &tx, id, error, now)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(state)
    }

    fn record(&self, attempts: &[Attempt]) -> Vec<Result<Delivery, StoreError>> {
        if let Err(e) = self.still_ours() {
            return attempts
                .iter()
                .map(|_| Err(e.database_wide_copy()))
                .collect();
        }
        let mut conn = self.fast();
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let e = self.err(e);
                return attempts
                    .iter()
                    .map(|_| Err(e.database_wide_copy()))
                    .collect();
            }
        };
        let out = self.record_in(&tx, attempts);
        match tx.commit() {
            Ok(()) => out,
            Err(e) => {
                let e = self.err(e);
                attempts
                    .iter()
                    .map(|_| Err(e.database_wide_copy()))
                    .collect()
            }
        }
    }

    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        let conn = self.reader();
        load_delivery(&conn, id).map_err(|e| self.err(e))
    }

    fn record_not_sent(
        &self,
        id: DeliveryId,
        state: DeliveryState,
        reason: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        if !matches!(state, DeliveryState::Skipped | DeliveryState::Coalesced) {
            return Err(StoreError::NotACloseState(state));
        }
        self.still_ours()?;
        let conn = self.fast();
        let n = conn
            .prepare_cached(
                "UPDATE deliveries SET state = ?2, last_error = ?3, next_attempt_at = NULL,
                    lease_until = NULL, updated_at = ?4
                 WHERE id = ?1 AND state = 'pending'",
            )
            .and_then(|mut s| s.execute(params![id.0, state.as_str(), reason, now.0]))
            .map_err(|e| self.err(e))?;
        if n == 0 {
            let current: Option<String> = conn
                .prepare_cached("SELECT state FROM deliveries WHERE id = ?1")
                .and_then(|mut s| s.query_row([id.0], |r| r.get(0)).optional())
                .map_err(|e| self.err(e))?;
            let current = current.ok_or(StoreError::NoSuchDelivery(id))?;
            return Err(StoreError::NotPending {
                id,
                state: DeliveryState::parse(&current)
                    .ok_or_else(|| StoreError::BadData(format!("delivery state {current:?}")))?,
                wanted: state,
            });
        }
        Ok(())
    }

    fn retry(&self, id: DeliveryId, now: UnixMillis) -> Result<(), StoreError> {
        self.still_ours()?;
        let mut conn = self.fast();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let row: Option<(String, Option<i64>)> = tx
            .prepare_cached("SELECT state, lease_until FROM deliveries WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        let (state, lease_until) = row.ok_or(StoreError::NoSuchDelivery(id))?;
        let state = DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::BadData(format!("delivery state {state:?}")))?;
        let in_flight = lease_until.is_some_and(|t| t > now.0);
        match state {
            DeliveryState::Failed => {}
            DeliveryState::Pending if in_flight => {
                return Err(StoreError::InFlight(id));
            }
            DeliveryState::Pending => {
                // Due now; its failures so far still count toward the limit.
                tx.prepare_cached(
                    "UPDATE deliveries SET next_attempt_at = ?2, lease_until = NULL,
                        lease_owner = NULL, updated_at = ?2
                     WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![id.0, now.0]))
                .map_err(|e| self.err(e))?;
                tx.commit().map_err(|e| self.err(e))?;
                return Ok(());
            }
            _ => return Err(StoreError::NotRetryable { id, state }),
        }
        // A manual retry is a new decision by a person: a fresh budget, history kept in `attempts`.
        tx.prepare_cached(
            "UPDATE deliveries SET state = 'pending', failures = 0, rate_limited = 0,
                next_attempt_at = ?2, lease_until = NULL, updated_at = ?2
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.0, now.0]))
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    fn deliveries_for(&self, target: &Target) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.warm_reader();
        let (sql, arg): (String, rusqlite::types::Value) = match target {
            Target::Event(id) => (
                format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.event_id = ?1 ORDER BY d.id"
                ),
                id.0.into(),
            ),
            Target::Run(run) => (
                format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
                     WHERE e.run_id = ?1 ORDER BY d.id"
                ),
                run.0.clone().into(),
            ),
        };
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map([arg], delivery_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn list_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&list_deliveries_sql(state))
            .map_err(|e| self.err(e))?;
        stmt.query_map([limit as i64], delivery_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn delivery_counts(&self, since: UnixMillis) -> Result<Vec<ChannelCounts>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT channel, state, attempts > 0, COUNT(*) FROM deliveries
                 WHERE updated_at >= ?1 GROUP BY 1, 2, 3",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(ChannelId, DeliveryState, bool, u64)> = stmt
            .query_map([since.0], |r| {
                let channel: String = r.get(0)?;
                let state: String = r.get(1)?;
                Ok((
                    ChannelId::new(&channel).map_err(|_| bad("channel", &channel))?,
                    DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
                    r.get(2)?,
                    r.get::<_, i64>(3)?.max(0) as u64,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        Ok(crate::store::fold_counts(rows))
    }

    fn last_remote_id(
        &self,
        run_id: &RunId,
        channel: &ChannelId,
    ) -> Result<Option<String>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT d.remote_id FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE e.run_id = ?1 AND d.channel = ?2 AND d.state = 'sent'
               AND d.remote_id IS NOT NULL
             ORDER BY d.event_id DESC LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(params![run_id.0, channel.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(|e| self.err(e))
    }
}

impl SqliteStore {
    /// The hubs holding leases on pending rows (to find the ones whose process died).
    pub(crate) fn lease_owners(&self) -> Result<Vec<HubId>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT DISTINCT lease_owner FROM deliveries
                 WHERE state = 'pending' AND lease_owner IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| r.get(0).map(HubId::from_raw))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

/// Whether a process id is alive; where that cannot be told, assume it is
/// (its leases then simply run out).
pub(super) fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Whether row `d` may be leased at time `?1`: pending, due, not leased,
/// and first in its run. A run's rows to one channel go in order: a row
/// waits while an earlier one (retrying, held, or in flight) is pending; but
/// a start, end or error never waits behind an update that coalescing holds
/// back (one waited 53 s): only an update in flight keeps it.
const CLAIMABLE: &str = "d.state = 'pending' AND d.next_attempt_at <= ?1
    AND (d.lease_until IS NULL OR d.lease_until <= ?1)
    AND (d.run_id IS NULL OR NOT EXISTS (
         SELECT 1 FROM deliveries p
         WHERE p.run_id = d.run_id AND p.channel = d.channel
           AND p.state = 'pending' AND p.id < d.id
           AND NOT (d.kind IS NOT 'update' AND p.kind = 'update'
                    AND (p.lease_until IS NULL OR p.lease_until <= ?1))))";

/// An event the open transaction wrote, with what a claim of its rows
/// carries (the notification as logged, the time its key is made of).
pub(super) struct Written<'a> {
    pub appended: &'a Appended,
    pub created_at: UnixMillis,
    pub notification: &'a Notification,
}

impl SqliteStore {
    /// [`Outbox::claim`] of rows the open transaction just wrote, asked by
    /// id (what a waiting caller leases of its own event): each row is
    /// leased by its id where [`CLAIMABLE`] holds, and its claim is made of
    /// what the transaction already holds. The claim query would find the
    /// same rows, but joins, ranks and parses the notification back; for a
    /// lone notification that was a seventh of its CPU. Any other request
    /// goes to [`SqliteStore::claim_in`].
    pub(super) fn lease_written_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        request: &ClaimRequest,
        written: &[Written<'_>],
    ) -> Result<Vec<Claim>, StoreError> {
        let ClaimScope::Deliveries(ids) = &request.scope else {
            return self.claim_in(tx, request);
        };
        let rows: Option<Vec<_>> = ids
            .iter()
            .map(|id| {
                written.iter().find_map(|w| {
                    let (channel, _) = w.appended.deliveries.iter().find(|(_, d)| d == id)?;
                    Some((w, channel, *id))
                })
            })
            .collect();
        // The query's LIMIT counts rows before the room applies; with a
        // limit that covers every row asked it never binds, and the two agree.
        let (Some(rows), true) = (rows, request.limit >= ids.len()) else {
            return self.claim_in(tx, request);
        };
        let lease_until = request.now.plus(request.lease);
        (|| {
            let mut lease = tx.prepare_cached(&format!(
                "UPDATE deliveries AS d SET lease_until = ?3, lease_owner = ?4, updated_at = ?1
                 WHERE d.id = ?2 AND {CLAIMABLE}"
            ))?;
            let mut claims: Vec<Claim> = Vec::new();
            for (w, channel, id) in rows {
                let taken = claims.iter().filter(|c| &c.channel == channel).count();
                let room = request.room.of(channel).is_none_or(|n| taken < n);
                let only = request.only.as_ref().is_none_or(|o| o.contains(channel));
                if !(room && only) {
                    continue;
                }
                let params = params![request.now.0, id.0, lease_until.0, request.owner.raw()];
                if lease.execute(params)? == 1 {
                    claims.push(Claim {
                        delivery: id,
                        event_id: w.appended.event_id,
                        channel: channel.clone(),
                        attempts: 0,
                        lease_until,
                        notification: w.notification.clone(),
                        key: enqueue::claim_key(w.created_at.0, id.0),
                        parts_sent: 0,
                    });
                }
            }
            Ok(claims)
        })()
        .map_err(|e| self.err(e))
    }

    /// [`Outbox::claim`] inside an open write transaction.
    pub(super) fn claim_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        request: &ClaimRequest,
    ) -> Result<Vec<Claim>, StoreError> {
        let ClaimRequest {
            now,
            limit,
            lease,
            owner,
            ref scope,
            ref room,
            ref only,
        } = *request;
        let lease_until = now.plus(lease);
        // One text per scope, each planned for its own filter: the
        // connections keep the query planner stable (QPSG), so a plan may
        // not rest on a parameter being NULL.
        let (scope_sql, only_event, only_ids) = match scope {
            ClaimScope::All => ("", None, None),
            ClaimScope::Event(id) => ("AND d.event_id = ?3", Some(id.0), None),
            ClaimScope::Deliveries(ids) => (
                "AND d.id IN (SELECT value FROM json_each(?4))",
                None,
                Some(
                    serde_json::to_string(&ids.iter().map(|d| d.0).collect::<Vec<_>>())
                        .unwrap_or_default(),
                ),
            ),
        };
        let room_json = serde_json::to_string(
            &room
                .channels
                .iter()
                .map(|(c, n)| (c.as_str(), *n))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap_or_else(|_| "{}".into());
        let per_channel = room.per_channel.map(|n| n as i64);
        let only = only.as_ref().map(|channels| {
            serde_json::to_string(&channels.iter().map(ChannelId::as_str).collect::<Vec<_>>())
                .unwrap_or_default()
        });
        (|| {
            let mut claims = Vec::new();
            {
                // The window counts each channel's rows among the first
                // `limit` due, so it never sorts more than those.
                let mut stmt = tx.prepare_cached(&format!(
                    "WITH due AS (
                        SELECT d.id, d.event_id, d.channel, d.attempts, e.notification,
                               e.created_at, d.parts_sent, d.next_attempt_at
                        FROM deliveries d JOIN events e ON e.id = d.event_id
                        WHERE {CLAIMABLE}
                          {scope_sql}
                          AND d.channel NOT IN (SELECT key FROM json_each(?5) WHERE value = 0)
                          AND (?7 IS NULL OR d.channel IN (SELECT value FROM json_each(?7)))
                        ORDER BY d.next_attempt_at, d.id LIMIT ?2
                     )
                     SELECT id, event_id, channel, attempts, notification, created_at, parts_sent
                     FROM (SELECT *, ROW_NUMBER() OVER (
                                PARTITION BY channel ORDER BY next_attempt_at, id) AS nth
                           FROM due)
                     WHERE nth <= COALESCE((SELECT value FROM json_each(?5) WHERE key = channel),
                                           ?6, ?2)
                     ORDER BY next_attempt_at, id"
                ))?;
                let rows = stmt.query_map(
                    params![
                        now.0,
                        limit as i64,
                        only_event,
                        only_ids,
                        room_json,
                        per_channel,
                        only
                    ],
                    |r| {
                        let c: String = r.get(2)?;
                        let (id, created): (i64, i64) = (r.get(0)?, r.get(5)?);
                        Ok(Claim {
                            key: enqueue::claim_key(created, id),
                            parts_sent: r.get(6)?,
                            delivery: DeliveryId(id),
                            event_id: EventId(r.get(1)?),
                            channel: ChannelId::new(&c).map_err(|_| bad("channel", &c))?,
                            attempts: r.get(3)?,
                            lease_until,
                            notification: parse_notification(&r.get::<_, String>(4)?)?,
                        })
                    },
                )?;
                for c in rows {
                    claims.push(c?);
                }
            }
            let mut lease_stmt = tx.prepare_cached(
                "UPDATE deliveries SET lease_until = ?2, lease_owner = ?3, updated_at = ?4
                 WHERE id = ?1",
            )?;
            for c in &claims {
                lease_stmt.execute(params![c.delivery.0, lease_until.0, owner.raw(), now.0])?;
            }
            Ok(claims)
        })()
        .map_err(|e| self.err(e))
    }

    /// [`Outbox::record`] inside an open write transaction: one answer per
    /// attempt; a failed one leaves the others standing.
    pub(super) fn record_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        attempts: &[Attempt],
    ) -> Vec<Result<Delivery, StoreError>> {
        attempts
            .iter()
            .map(|a| {
                match &a.result {
                    Ok(remote) => record_sent_tx(self, tx, a.delivery, remote.as_deref(), a.at)?,
                    Err(e) => {
                        record_failure_tx(self, tx, a.delivery, e, a.at)?;
                        if a.parts_sent > 0 {
                            tx.prepare_cached(
                                "UPDATE deliveries SET parts_sent = ?2 WHERE id = ?1",
                            )
                            .and_then(|mut s| s.execute(params![a.delivery.0, a.parts_sent]))
                            .map_err(|e| self.err(e))?;
                        }
                    }
                }
                load_delivery(tx, a.delivery)
                    .map_err(|e| self.err(e))?
                    .ok_or(StoreError::NoSuchDelivery(a.delivery))
            })
            .collect()
    }
}

fn record_sent_tx(
    store: &SqliteStore,
    conn: &Connection,
    id: DeliveryId,
    remote_id: Option<&str>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'sent', attempts = attempts + 1,
                remote_id = ?2, lease_until = NULL, lease_owner = NULL, next_attempt_at = NULL,
                sent_at = ?3, updated_at = ?3
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.0, remote_id, now.0]))
        .map_err(|e| store.err(e))?;
    if n == 0 {
        return Err(StoreError::NoSuchDelivery(id));
    }
    Ok(())
}

fn record_failure_tx(
    store: &SqliteStore,
    conn: &Connection,
    id: DeliveryId,
    error: &DeliveryError,
    now: UnixMillis,
) -> Result<DeliveryState, StoreError> {
    let row: Option<(String, u32, u32)> = conn
        .prepare_cached("SELECT state, failures, rate_limited FROM deliveries WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(|e| store.err(e))?;
    let (current, mut failures, mut rate_limited) = row.ok_or(StoreError::NoSuchDelivery(id))?;
    // A late answer from a worker whose lease ran out must not reopen a
    // delivery another worker already finished.
    if current != DeliveryState::Pending.as_str() {
        return Err(StoreError::NotPending {
            id,
            state: DeliveryState::parse(&current)
                .ok_or_else(|| StoreError::BadData(format!("delivery state {current:?}")))?,
            wanted: DeliveryState::Pending,
        });
    }
    if matches!(error, DeliveryError::RateLimited(_)) {
        rate_limited += 1;
    } else {
        failures += 1;
    }
    let decision =
        store
            .options
            .retry
            .decide(error, failures, rate_limited, now, rand::random::<f64>());
    let (state, next) = match decision {
        Decision::RetryAt(at) => (DeliveryState::Pending, Some(at.0)),
        Decision::Fail => (DeliveryState::Failed, None),
    };
    conn.prepare_cached(
        "UPDATE deliveries SET state = ?2, attempts = attempts + 1, failures = ?3,
            rate_limited = ?4, next_attempt_at = ?5, lease_until = NULL, lease_owner = NULL,
            last_error = ?6, updated_at = ?7
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            id.0,
            state.as_str(),
            failures,
            rate_limited,
            next,
            error.to_string(),
            now.0
        ])
    })
    .map_err(|e| store.err(e))?;
    Ok(state)
}

/// The earliest time a pending, unleased delivery falls due.
fn next_due_on(conn: &Connection) -> rusqlite::Result<Option<UnixMillis>> {
    conn.prepare_cached(
        "SELECT MIN(COALESCE(MAX(next_attempt_at, lease_until), next_attempt_at))
         FROM deliveries WHERE state = 'pending'",
    )?
    .query_row([], |r| r.get::<_, Option<i64>>(0))
    .map(|t| t.map(UnixMillis))
}

fn load_delivery(conn: &Connection, id: DeliveryId) -> rusqlite::Result<Option<Delivery>> {
    conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id = ?1"
    ))?
    .query_row([id.0], delivery_from_row)
    .optional()
}

/// The newest deliveries, of one state when asked. The state is written into
/// the SQL (one of a few fixed words): `?1 IS NULL OR d.state = ?1` fits no
/// index, and the failed ones (`deliveries --state failed`) were looked for
/// among every delivery, where `deliveries_failed` holds just them.
pub(super) fn list_deliveries_sql(state: Option<DeliveryState>) -> String {
    let only = state.map_or(String::new(), |s| {
        format!("WHERE d.state = '{}'", s.as_str())
    });
    format!("SELECT {DELIVERY_COLUMNS} FROM deliveries d {only} ORDER BY d.id DESC LIMIT ?1")
}
