//! The event log on PostgreSQL: the append (one function per rule, all in
//! one transaction per batch) and the event reads.

use super::rows::{EVENT_COLUMNS, channel, event_from_row};
use super::{Fail, PgStore, Tx, outbox, runs};

/// The advisory lock every append holds until it commits ("apnd").
const APPEND_LOCK: i64 = 0x6170_6e64;
use crate::store::{
    Appended, DeliveryId, EventId, EventLog, EventQuery, NewEvent, StoreError, StoredEvent,
    TurnWrites, TurnWritten,
};

impl EventLog for PgStore {
    fn append_batch(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        self.tx(|tx| {
            lock_appends(tx)?;
            events.iter().map(|ev| append_one(tx, ev)).collect()
        })
    }

    /// One transaction for the turn: each transaction here is a network
    /// round trip and a commit (an fsync on the server), so the appends, the
    /// lease and the outcomes together cost one where they cost three.
    fn write_turn(&self, turn: TurnWrites<'_>) -> Option<Result<TurnWritten, StoreError>> {
        Some(self.tx(|tx| {
            lock_appends(tx)?;
            let appended = turn
                .events
                .iter()
                .map(|ev| append_one(tx, ev))
                .collect::<Result<Vec<_>, _>>()?;
            let leased = match (turn.lease)(&appended) {
                Some(request) => outbox::claim_in(tx, &request)?,
                None => Vec::new(),
            };
            let recorded = outbox::record_in(self, tx, turn.attempts)?;
            Ok(TurnWritten {
                appended,
                leased,
                recorded,
            })
        }))
    }

    fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"),
                &[&id.0],
            )?
            .map(|r| event_from_row(&r))
            .transpose()
        })
    }

    fn last_event_id(&self) -> Result<Option<EventId>, StoreError> {
        self.with(|c| {
            let id: Option<i64> = c.query_one("SELECT MAX(id) FROM events", &[])?.try_get(0)?;
            Ok(id.map(EventId))
        })
    }

    fn events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let since = q.since.map(|e| e.0).unwrap_or(0);
        let run_id = q.run_id.as_ref().map(|r| r.0.as_str());
        let kind = q.kind.map(|k| k.as_str());
        let watcher = q.watcher.map(|w| w.0);
        let limit = q.limit as i64;
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events
                     WHERE id > $1 AND ($2::text IS NULL OR run_id = $2)
                       AND ($3::text IS NULL OR kind = $3)
                       AND ($5::bigint IS NULL OR watcher_id = $5)
                     ORDER BY id LIMIT $4"
                ),
                &[&since, &run_id, &kind, &limit, &watcher],
            )?
            .iter()
            .map(event_from_row)
            .collect()
        })
    }
}

/// Rule: appends commit one at a time, in the order of their ids.
///
/// - A reader following the log (`since=` the last id it saw: a stream
///   client reconnecting to any hub) must never see an id while a smaller
///   one is still to come. Ids are drawn from a sequence when a row is
///   inserted, not when it commits, so two hubs appending at once could
///   commit 8 before 7, and the reader would pass 7 for good.
/// - A run's state is read and written by one append at a time; two hubs
///   taking events of one run at once would otherwise both read the old
///   state, and the second write would undo the first.
///
/// The lock is released only once the commit is visible, so the next append
/// draws larger ids. The cost is one append transaction at a time across
/// all hubs; each is a whole group-commit batch, so it bounds batches per
/// second (about one commit's time each), not events per second.
fn lock_appends(tx: &mut Tx<'_, '_>) -> Result<(), Fail> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])?;
    Ok(())
}

/// Write one event inside an open transaction: the event and what follows
/// from it (its run's state, its delivery rows), all or nothing.
fn append_one(tx: &mut Tx<'_, '_>, ev: &NewEvent) -> Result<Appended, Fail> {
    if let Some(key) = &ev.idempotency_key
        && let Some(first) = first_with_key(tx, key)?
    {
        return Ok(first);
    }
    let (notification, run) = runs::advance(tx, ev)?;
    let json = serde_json::to_string(&notification)
        .map_err(|e| Fail::Store(StoreError::BadData(format!("a notification: {e}"))))?;
    let Some(event_id) = insert_event(tx, ev, &json)? else {
        // Another hub wrote the key first, after our look: its event answers.
        let key = ev.idempotency_key.as_deref().unwrap_or_default();
        return first_with_key(tx, key)?.ok_or_else(|| {
            Fail::Store(StoreError::BadData(format!(
                "idempotency key {key:?} is taken but names no event"
            )))
        });
    };
    if let Some(next) = run {
        runs::save(tx, &next)?;
    }
    let mut deliveries = Vec::with_capacity(ev.deliveries.len());
    for plan in &ev.deliveries {
        let id = outbox::enqueue(tx, event_id, ev, plan)?;
        deliveries.push((plan.channel.clone(), id));
    }
    Ok(Appended {
        event_id: EventId(event_id),
        deliveries,
        duplicate_of: None,
    })
}

/// Rule: a repeated idempotency key is not a new event. The first event
/// with the key answers, with its deliveries, and nothing is written.
fn first_with_key(tx: &mut Tx<'_, '_>, key: &str) -> Result<Option<Appended>, Fail> {
    let Some(first) = tx.query_opt("SELECT id FROM events WHERE idempotency_key = $1", &[&key])?
    else {
        return Ok(None);
    };
    let first: i64 = first.try_get(0)?;
    let deliveries = tx
        .query(
            "SELECT channel, id FROM deliveries WHERE event_id = $1 ORDER BY id",
            &[&first],
        )?
        .iter()
        .map(|r| Ok((channel(r.try_get(0)?)?, DeliveryId(r.try_get(1)?))))
        .collect::<Result<Vec<_>, Fail>>()?;
    Ok(Some(Appended {
        event_id: EventId(first),
        deliveries,
        duplicate_of: Some(EventId(first)),
    }))
}

/// Rule: the event is logged as it is delivered (with what its run added to
/// the message), at the time it was received, under its run and kind.
/// Returns its id, or `None` when its idempotency key was written by
/// another transaction meanwhile (the unique index waits for that one to
/// end, so the key is never written twice nor refused with an error).
fn insert_event(
    tx: &mut Tx<'_, '_>,
    ev: &NewEvent,
    notification: &str,
) -> Result<Option<i64>, Fail> {
    let run_event = ev.notification.event.as_ref();
    let run_id = run_event.map(|e| e.run_id.0.as_str());
    let kind = run_event.map(|e| e.kind.as_str());
    let row = tx.query_opt(
        "INSERT INTO events (created_at, source, run_id, kind, idempotency_key, notification,
                             watcher_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id",
        &[
            &ev.received_at.0,
            &ev.source.as_str(),
            &run_id,
            &kind,
            &ev.idempotency_key,
            &notification,
            &ev.watcher.map(|w| w.0),
        ],
    )?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}
