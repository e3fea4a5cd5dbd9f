//! The outbox on PostgreSQL: the delivery rows an append writes (one
//! function per rule), claims and leases, outcomes, and the delivery reads.

use super::rows::{
    DELIVERY_COLUMNS, channel, delivery_from_row, delivery_state, parse_notification,
};
use super::{Db, Fail, PgStore, Tx};
use crate::model::DeliveryError;
use crate::notification::{ChannelId, EventKind, RunId};
use crate::store::retry::Decision;
use crate::store::{
    Attempt, ChannelCounts, Claim, ClaimRequest, ClaimScope, Delivery, DeliveryId, DeliveryPlan,
    DeliveryState, EventId, HubId, NewEvent, Outbox, StoreError, Target, UnixMillis, enqueue,
};
use postgres::GenericClient;

fn owner(h: HubId) -> i64 {
    i64::from(h.raw())
}

/// A new event's delivery row to one channel, by the outbox's rules
/// ([`enqueue::enqueue`]); its id.
pub(super) fn enqueue(
    tx: &mut Tx<'_, '_>,
    event_id: i64,
    ev: &NewEvent,
    plan: &DeliveryPlan,
) -> Result<DeliveryId, Fail> {
    enqueue::enqueue(&mut Rows(tx), event_id, ev, plan)
}

/// The rules' queries, in the append's transaction.
struct Rows<'t, 'a, 'b>(&'t mut Tx<'a, 'b>);

impl enqueue::EnqueueDb for Rows<'_, '_, '_> {
    type Error = Fail;

    fn coalesce_waiting_updates(
        &mut self,
        run_id: &str,
        channel: &str,
        now: UnixMillis,
        reason: &str,
    ) -> Result<(), Fail> {
        self.0.execute(
            "UPDATE deliveries SET state = 'coalesced', last_error = $4, next_attempt_at = NULL,
                updated_at = $3
             WHERE run_id = $1 AND channel = $2 AND kind = 'update' AND state = 'pending'
               AND (lease_until IS NULL OR lease_until <= $3)",
            &[&run_id, &channel, &now.0, &reason],
        )?;
        Ok(())
    }

    fn last_update_went(
        &mut self,
        run_id: &str,
        channel: &str,
        now: UnixMillis,
    ) -> Result<Option<i64>, Fail> {
        Ok(self
            .0
            .query_one(
                "SELECT MAX(COALESCE(sent_at, updated_at)) FROM deliveries
                 WHERE run_id = $1 AND channel = $2 AND kind = 'update'
                   AND (state = 'sent'
                        OR (state = 'pending' AND lease_until > $3))",
                &[&run_id, &channel, &now.0],
            )?
            .try_get(0)?)
    }

    fn insert_delivery(
        &mut self,
        event_id: i64,
        run: Option<(&str, EventKind)>,
        plan: &DeliveryPlan,
        due: UnixMillis,
        held: Option<&str>,
        now: UnixMillis,
    ) -> Result<DeliveryId, Fail> {
        let (state, next, reason) = match &plan.skip {
            Some(reason) => (DeliveryState::Skipped, None, Some(reason.as_str())),
            None => (DeliveryState::Pending, Some(due.0), held),
        };
        let row = self.0.query_one(
            "INSERT INTO deliveries (event_id, channel, run_id, kind, state, next_attempt_at,
                                     last_error, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id",
            &[
                &event_id,
                &plan.channel.as_str(),
                &run.map(|(run_id, _)| run_id),
                &run.map(|(_, kind)| kind.as_str()),
                &state.as_str(),
                &next,
                &reason,
                &now.0,
            ],
        )?;
        Ok(DeliveryId(row.try_get(0)?))
    }
}

/// Due rows, locked as they are read and skipped when another hub holds
/// them, then leased. A run's rows to one channel go in order: a row waits
/// while an earlier one (retrying, held, or in flight) is pending; but a
/// start, end or error never waits behind an update that coalescing holds
/// back: only an update in flight keeps it. Each channel takes no more than
/// its room of the first `limit` due.
const CLAIM: &str = "
WITH due AS (
    SELECT d.id, d.channel, d.next_attempt_at
    FROM deliveries d
    WHERE d.state = 'pending' AND d.next_attempt_at <= $1
      AND (d.lease_until IS NULL OR d.lease_until <= $1)
      AND ($3::bigint IS NULL OR d.event_id = $3)
      AND ($4::bigint[] IS NULL OR d.id = ANY($4))
      AND (d.run_id IS NULL OR NOT EXISTS (
           SELECT 1 FROM deliveries p
           WHERE p.run_id = d.run_id AND p.channel = d.channel
             AND p.state = 'pending' AND p.id < d.id
             AND NOT (d.kind IS DISTINCT FROM 'update' AND p.kind = 'update'
                      AND (p.lease_until IS NULL OR p.lease_until <= $1))))
      AND NOT (d.channel = ANY($5::text[]))
      AND ($11::text[] IS NULL OR d.channel = ANY($11))
    ORDER BY d.next_attempt_at, d.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
),
picked AS (
    SELECT ranked.id FROM (
        SELECT due.id, due.channel,
               ROW_NUMBER() OVER (PARTITION BY due.channel
                                  ORDER BY due.next_attempt_at, due.id) AS nth
        FROM due) ranked
    WHERE ranked.nth <= COALESCE(
        (SELECT r.n FROM unnest($6::text[], $7::bigint[]) AS r(c, n) WHERE r.c = ranked.channel),
        $8::bigint, $2)
),
leased AS (
    UPDATE deliveries d SET lease_until = $9, lease_owner = $10, updated_at = $1
    FROM picked WHERE d.id = picked.id
    RETURNING d.id, d.event_id, d.channel, d.attempts, d.parts_sent, d.next_attempt_at
)
SELECT l.id, l.event_id, l.channel, l.attempts, e.notification, e.created_at, l.parts_sent
FROM leased l JOIN events e ON e.id = l.event_id
ORDER BY l.next_attempt_at, l.id";

impl Outbox for PgStore {
    fn claim(&self, request: &ClaimRequest) -> Result<Vec<Claim>, StoreError> {
        self.tx(|tx| claim_in(tx, request))
    }

    /// Hubs share this store from several machines, where a process id
    /// tells nothing about the hub that took a lease: only leases whose time
    /// ran out are freed (a claim takes those anyway; freeing them here
    /// shows them as queued again at once).
    fn recover_abandoned(&self, now: UnixMillis) -> Result<u64, StoreError> {
        let freed = self.with(|c| {
            Ok(c.execute(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
                 WHERE state = 'pending' AND lease_until <= $1",
                &[&now.0],
            )?)
        })?;
        if freed > 0 {
            tracing::info!("resuming {freed} deliveries whose leases ran out");
        }
        Ok(freed)
    }

    fn release_leases(&self, hub: Option<HubId>) -> Result<u64, StoreError> {
        let hub = hub.map(owner);
        self.with(|c| {
            Ok(c.execute(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
                 WHERE state = 'pending' AND lease_until IS NOT NULL
                   AND ($1::bigint IS NULL OR lease_owner = $1)",
                &[&hub],
            )?)
        })
    }

    fn renew_leases(
        &self,
        ids: &[DeliveryId],
        hub: HubId,
        until: UnixMillis,
    ) -> Result<u64, StoreError> {
        // `updated_at` stays: nothing about the delivery changed. A row
        // without a lease was given back, and is not taken again here.
        let ids: Vec<i64> = ids.iter().map(|d| d.0).collect();
        self.with(|c| {
            Ok(c.execute(
                "UPDATE deliveries SET lease_until = GREATEST(lease_until, $3)
                 WHERE id = ANY($1) AND state = 'pending' AND lease_owner = $2
                   AND lease_until IS NOT NULL",
                &[&ids, &owner(hub), &until.0],
            )?)
        })
    }

    fn next_due(&self) -> Result<Option<UnixMillis>, StoreError> {
        // GREATEST skips NULLs: an unleased row is due at its next attempt.
        self.with(|c| {
            let at: Option<i64> = c
                .query_one(
                    "SELECT MIN(GREATEST(next_attempt_at, lease_until))
                     FROM deliveries WHERE state = 'pending'",
                    &[],
                )?
                .try_get(0)?;
            Ok(at.map(UnixMillis))
        })
    }

    fn due_deliveries(&self, by: UnixMillis, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let limit = limit as i64;
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries d
                     WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                       AND (d.lease_until IS NULL OR d.lease_until <= $1)
                     ORDER BY d.next_attempt_at, d.id LIMIT $2"
                ),
                &[&by.0, &limit],
            )?
            .iter()
            .map(delivery_from_row)
            .collect()
        })
    }

    fn put_back(
        &self,
        ids: &[DeliveryId],
        now: UnixMillis,
        due: UnixMillis,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = ids.iter().map(|d| d.0).collect();
        self.with(|c| {
            c.execute(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL,
                    next_attempt_at = $2, last_error = COALESCE($3, last_error), updated_at = $4
                 WHERE id = ANY($1) AND state = 'pending'",
                &[&ids, &due.0, &note, &now.0],
            )?;
            Ok(())
        })
    }

    fn record_sent(
        &self,
        id: DeliveryId,
        remote_id: Option<&str>,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.with(|c| record_sent_on(c, id, remote_id, now))
    }

    fn record_failure(
        &self,
        id: DeliveryId,
        error: &DeliveryError,
        now: UnixMillis,
    ) -> Result<DeliveryState, StoreError> {
        self.tx(|tx| record_failure_on(self, tx, id, error, now))
    }

    /// One transaction for the batch. An attempt the rules refuse (a late
    /// outcome of a finished row) gets its own error and the rest go on;
    /// a failed statement aborts the transaction on PostgreSQL, so then
    /// every attempt gets that error and none is recorded.
    fn record(&self, attempts: &[Attempt]) -> Vec<Result<Delivery, StoreError>> {
        let done = self.tx(|tx| record_in(self, tx, attempts));
        match done {
            Ok(out) => out,
            Err(e) => attempts
                .iter()
                .map(|_| Err(e.database_wide_copy()))
                .collect(),
        }
    }

    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        self.with(|c| load_delivery(c, id))
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
        self.with(|c| {
            let n = c.execute(
                "UPDATE deliveries SET state = $2, last_error = $3, next_attempt_at = NULL,
                    lease_until = NULL, updated_at = $4
                 WHERE id = $1 AND state = 'pending'",
                &[&id.0, &state.as_str(), &reason, &now.0],
            )?;
            if n > 0 {
                return Ok(());
            }
            let current = c
                .query_opt("SELECT state FROM deliveries WHERE id = $1", &[&id.0])?
                .ok_or(StoreError::NoSuchDelivery(id))?;
            Err(Fail::Store(StoreError::NotPending {
                id,
                state: delivery_state(current.try_get(0)?)?,
                wanted: state,
            }))
        })
    }

    fn retry(&self, id: DeliveryId, now: UnixMillis) -> Result<(), StoreError> {
        self.tx(|tx| {
            let row = tx
                .query_opt(
                    "SELECT state, lease_until FROM deliveries WHERE id = $1 FOR UPDATE",
                    &[&id.0],
                )?
                .ok_or(StoreError::NoSuchDelivery(id))?;
            let state = delivery_state(row.try_get(0)?)?;
            let in_flight = row.try_get::<_, Option<i64>>(1)?.is_some_and(|t| t > now.0);
            let sql = match state {
                // A manual retry is a new decision by a person: a fresh
                // budget, history kept in `attempts`.
                DeliveryState::Failed => {
                    "UPDATE deliveries SET state = 'pending', failures = 0, rate_limited = 0,
                        next_attempt_at = $2, lease_until = NULL, updated_at = $2
                     WHERE id = $1"
                }
                DeliveryState::Pending if in_flight => {
                    return Err(StoreError::InFlight(id).into());
                }
                // Due now; its failures so far still count toward the limit.
                DeliveryState::Pending => {
                    "UPDATE deliveries SET next_attempt_at = $2, lease_until = NULL,
                        lease_owner = NULL, updated_at = $2
                     WHERE id = $1"
                }
                _ => return Err(StoreError::NotRetryable { id, state }.into()),
            };
            tx.execute(sql, &[&id.0, &now.0])?;
            Ok(())
        })
    }

    fn deliveries_for(&self, target: &Target) -> Result<Vec<Delivery>, StoreError> {
        self.with(|c| {
            let rows = match target {
                Target::Event(id) => c.query(
                    &format!(
                        "SELECT {DELIVERY_COLUMNS} FROM deliveries d
                         WHERE d.event_id = $1 ORDER BY d.id"
                    ),
                    &[&id.0],
                )?,
                Target::Run(run) => c.query(
                    &format!(
                        "SELECT {DELIVERY_COLUMNS} FROM deliveries d
                         JOIN events e ON e.id = d.event_id
                         WHERE e.run_id = $1 ORDER BY d.id"
                    ),
                    &[&run.0],
                )?,
            };
            rows.iter().map(delivery_from_row).collect()
        })
    }

    fn list_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state = state.map(|s| s.as_str());
        let limit = limit as i64;
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries d
                     WHERE $1::text IS NULL OR d.state = $1
                     ORDER BY d.id DESC LIMIT $2"
                ),
                &[&state, &limit],
            )?
            .iter()
            .map(delivery_from_row)
            .collect()
        })
    }

    fn delivery_counts(&self, since: UnixMillis) -> Result<Vec<ChannelCounts>, StoreError> {
        let rows = self.with(|c| {
            c.query(
                "SELECT channel, state, attempts > 0, COUNT(*) FROM deliveries
                 WHERE updated_at >= $1 GROUP BY 1, 2, 3",
                &[&since.0],
            )?
            .iter()
            .map(|r| {
                Ok((
                    channel(r.try_get(0)?)?,
                    delivery_state(r.try_get(1)?)?,
                    r.try_get::<_, bool>(2)?,
                    r.try_get::<_, i64>(3)?.max(0) as u64,
                ))
            })
            .collect::<Result<Vec<_>, Fail>>()
        })?;
        Ok(crate::store::fold_counts(rows))
    }

    fn last_remote_id(
        &self,
        run_id: &RunId,
        channel: &ChannelId,
    ) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT d.remote_id FROM deliveries d JOIN events e ON e.id = d.event_id
                 WHERE e.run_id = $1 AND d.channel = $2 AND d.state = 'sent'
                   AND d.remote_id IS NOT NULL
                 ORDER BY d.event_id DESC LIMIT 1",
                &[&run_id.0, &channel.as_str()],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
        })
    }
}

/// [`Outbox::record`] inside an open transaction: one answer per attempt;
/// one the store refuses leaves the others standing, and a database error
/// fails them all.
pub(super) fn record_in(
    store: &PgStore,
    tx: &mut Tx<'_, '_>,
    attempts: &[Attempt],
) -> Result<Vec<Result<Delivery, StoreError>>, Fail> {
    let mut out = Vec::with_capacity(attempts.len());
    for a in attempts {
        out.push(match record_one(store, tx, a) {
            Ok(d) => Ok(d),
            Err(Fail::Store(e)) => Err(e),
            Err(db) => return Err(db),
        });
    }
    Ok(out)
}

/// One attempt of a batch, and the row as it then stands.
fn record_one(store: &PgStore, tx: &mut Tx<'_, '_>, a: &Attempt) -> Result<Delivery, Fail> {
    match &a.result {
        Ok(remote) => record_sent_on(tx, a.delivery, remote.as_deref(), a.at)?,
        Err(e) => {
            record_failure_on(store, tx, a.delivery, e, a.at)?;
            if a.parts_sent > 0 {
                tx.execute(
                    "UPDATE deliveries SET parts_sent = $2 WHERE id = $1",
                    &[&a.delivery.0, &i64::from(a.parts_sent)],
                )?;
            }
        }
    }
    load_delivery(tx, a.delivery)?.ok_or_else(|| StoreError::NoSuchDelivery(a.delivery).into())
}

/// [`Outbox::claim`] inside an open transaction.
pub(super) fn claim_in(tx: &mut Tx<'_, '_>, request: &ClaimRequest) -> Result<Vec<Claim>, Fail> {
    let ClaimRequest {
        now,
        limit,
        lease,
        owner: hub,
        ref scope,
        ref room,
        ref only,
    } = *request;
    let lease_until = now.plus(lease);
    let only: Option<Vec<&str>> = only
        .as_ref()
        .map(|channels| channels.iter().map(ChannelId::as_str).collect());
    let (only_event, only_ids) = match scope {
        ClaimScope::All => (None, None),
        ClaimScope::Event(id) => (Some(id.0), None),
        ClaimScope::Deliveries(ids) => (None, Some(ids.iter().map(|d| d.0).collect::<Vec<_>>())),
    };
    let closed: Vec<&str> = room
        .channels
        .iter()
        .filter(|(_, n)| *n == 0)
        .map(|(c, _)| c.as_str())
        .collect();
    let (names, sizes): (Vec<&str>, Vec<i64>) = room
        .channels
        .iter()
        .map(|(c, n)| (c.as_str(), *n as i64))
        .unzip();
    let per_channel = room.per_channel.map(|n| n as i64);
    let limit = limit as i64;
    tx.query(
        CLAIM,
        &[
            &now.0,
            &limit,
            &only_event,
            &only_ids,
            &closed,
            &names,
            &sizes,
            &per_channel,
            &lease_until.0,
            &owner(hub),
            &only,
        ],
    )?
    .iter()
    .map(|r| {
        let (id, created): (i64, i64) = (r.try_get(0)?, r.try_get(5)?);
        Ok(Claim {
            key: enqueue::claim_key(created, id),
            parts_sent: super::rows::count(r.try_get(6)?),
            delivery: DeliveryId(id),
            event_id: EventId(r.try_get(1)?),
            channel: channel(r.try_get(2)?)?,
            attempts: super::rows::count(r.try_get(3)?),
            lease_until,
            notification: parse_notification(r.try_get(4)?)?,
        })
    })
    .collect()
}

fn record_sent_on(
    c: &mut Db<'_, impl GenericClient>,
    id: DeliveryId,
    remote_id: Option<&str>,
    now: UnixMillis,
) -> Result<(), Fail> {
    let n = c.execute(
        "UPDATE deliveries SET state = 'sent', attempts = attempts + 1,
            remote_id = $2, lease_until = NULL, lease_owner = NULL, next_attempt_at = NULL,
            sent_at = $3, updated_at = $3
         WHERE id = $1",
        &[&id.0, &remote_id, &now.0],
    )?;
    if n == 0 {
        return Err(StoreError::NoSuchDelivery(id).into());
    }
    Ok(())
}

/// Apply the retry policy to a failed attempt, on the row locked until the
/// transaction ends (two hubs' outcomes for one row apply one at a time).
fn record_failure_on(
    store: &PgStore,
    tx: &mut Tx<'_, '_>,
    id: DeliveryId,
    error: &DeliveryError,
    now: UnixMillis,
) -> Result<DeliveryState, Fail> {
    let row = tx
        .query_opt(
            "SELECT state, failures, rate_limited FROM deliveries WHERE id = $1 FOR UPDATE",
            &[&id.0],
        )?
        .ok_or(StoreError::NoSuchDelivery(id))?;
    let current = delivery_state(row.try_get(0)?)?;
    let (mut failures, mut rate_limited) = (
        super::rows::count(row.try_get(1)?),
        super::rows::count(row.try_get(2)?),
    );
    // A late answer from a worker whose lease ran out must not reopen a
    // delivery another worker already finished.
    if current != DeliveryState::Pending {
        return Err(StoreError::NotPending {
            id,
            state: current,
            wanted: DeliveryState::Pending,
        }
        .into());
    }
    if matches!(error, DeliveryError::RateLimited(_)) {
        rate_limited += 1;
    } else {
        failures += 1;
    }
    let decision =
        store
            .retry_policy()
            .decide(error, failures, rate_limited, now, rand::random::<f64>());
    let (state, next) = match decision {
        Decision::RetryAt(at) => (DeliveryState::Pending, Some(at.0)),
        Decision::Fail => (DeliveryState::Failed, None),
    };
    tx.execute(
        "UPDATE deliveries SET state = $2, attempts = attempts + 1, failures = $3,
            rate_limited = $4, next_attempt_at = $5, lease_until = NULL, lease_owner = NULL,
            last_error = $6, updated_at = $7
         WHERE id = $1",
        &[
            &id.0,
            &state.as_str(),
            &i64::from(failures),
            &i64::from(rate_limited),
            &next,
            &error.to_string(),
            &now.0,
        ],
    )?;
    Ok(state)
}

fn load_delivery(
    c: &mut Db<'_, impl GenericClient>,
    id: DeliveryId,
) -> Result<Option<Delivery>, Fail> {
    c.query_opt(
        &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id = $1"),
        &[&id.0],
    )?
    .map(|r| delivery_from_row(&r))
    .transpose()
}
