//! The event log on SQLite: the append (one function per rule it applies,
//! all inside one transaction) and the event reads.

use super::rows::{EVENT_COLUMNS, bad, event_from_row};
use super::{SqliteStore, outbox, runs};
use crate::notification::{ChannelId, Notification};
use crate::store::{
    Appended, DeliveryId, EventId, EventLog, EventQuery, NewEvent, StoreError, StoredEvent,
    TurnWrites, TurnWritten,
};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl EventLog for SqliteStore {
    fn append_batch(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        let turn = TurnWrites {
            events: &events,
            lease: &|_| None,
            attempts: &[],
        };
        Ok(self.turn(turn)?.appended)
    }

    fn write_turn(&self, turn: TurnWrites<'_>) -> Option<Result<TurnWritten, StoreError>> {
        Some(self.turn(turn))
    }

    fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.0], event_from_row).optional())
            .map_err(|e| self.err(e))
    }

    fn last_event_id(&self) -> Result<Option<EventId>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached("SELECT MAX(id) FROM events")
            .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))
            .map(|id| id.map(EventId))
            .map_err(|e| self.err(e))
    }

    fn events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let since = q.since.map_or(0, |e| e.0);
        let limit = q.limit as i64;
        let filters = filters(q);
        let mut args: Vec<(&str, &dyn rusqlite::ToSql)> =
            vec![(":since", &since), (":limit", &limit)];
        args.extend(
            filters
                .iter()
                .map(|(_, name, v)| (*name, v as &dyn rusqlite::ToSql)),
        );
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&events_sql(&filters))
            .map_err(|e| self.err(e))?;
        stmt.query_map(args.as_slice(), event_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

/// A filter on events: column, parameter, value.
pub(super) type Filter = (&'static str, &'static str, Value);

/// The filters the query asks for.
pub(super) fn filters(q: &EventQuery) -> Vec<Filter> {
    let mut f = Vec::new();
    if let Some(run) = &q.run_id {
        f.push(("run_id", ":run", Value::Text(run.0.clone())));
    }
    if let Some(kind) = q.kind {
        f.push(("kind", ":kind", Value::Text(kind.as_str().into())));
    }
    if let Some(watcher) = q.watcher {
        f.push(("watcher_id", ":watcher", Value::Integer(watcher.0)));
    }
    f
}

/// The events after `:since` that match the query's filters, each filter in
/// the SQL only when asked for: `(?2 IS NULL OR run_id = ?2)` fits no index,
/// and a run's events (`runs show`, a run's detail over REST and MCP) were found by
/// reading every event after `since`, where `events_run` finds them.
pub(super) fn events_sql(filters: &[Filter]) -> String {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id > :since");
    for (column, name, _) in filters {
        sql.push_str(&format!(" AND {column} = {name}"));
    }
    sql.push_str(" ORDER BY id LIMIT :limit");
    sql
}

impl SqliteStore {
    /// The events, the lease asked of their rows and the outcomes, in one
    /// transaction synchronous as configured (an append's).
    fn turn(&self, turn: TurnWrites<'_>) -> Result<TurnWritten, StoreError> {
        self.still_ours()?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let mut appended = Vec::with_capacity(turn.events.len());
        let mut logged = Vec::with_capacity(turn.events.len());
        for ev in turn.events {
            let (done, notification) = append_one(&tx, ev).map_err(|e| self.err(e))?;
            appended.push(done);
            logged.push(notification);
        }
        let leased = match (turn.lease)(&appended) {
            Some(request) => {
                let written: Vec<_> = (appended.iter().zip(&logged).zip(turn.events))
                    .filter_map(|((appended, notification), ev)| {
                        Some(outbox::Written {
                            appended,
                            created_at: ev.received_at,
                            notification: notification.as_ref()?,
                        })
                    })
                    .collect();
                self.lease_written_in(&tx, &request, &written)?
            }
            None => Vec::new(),
        };
        let recorded = self.record_in(&tx, turn.attempts);
        tx.commit().map_err(|e| self.err(e))?;
        Ok(TurnWritten {
            appended,
            leased,
            recorded,
        })
    }
}

/// Write one event inside an open transaction: the event and what follows
/// from it (its run's state, its delivery rows), all or nothing. With the
/// notification as logged (`None` for a repeat: nothing was written).
fn append_one(
    tx: &rusqlite::Transaction<'_>,
    ev: &NewEvent,
) -> rusqlite::Result<(Appended, Option<Notification>)> {
    if let Some(key) = &ev.idempotency_key
        && let Some(first) = first_with_key(tx, key)?
    {
        return Ok((first, None));
    }
    let notification = runs::advance(tx, ev)?;
    let event_id = insert_event(tx, ev, &notification)?;
    let mut deliveries = Vec::with_capacity(ev.deliveries.len());
    for plan in &ev.deliveries {
        let id = outbox::enqueue(tx, event_id, ev, plan)?;
        deliveries.push((plan.channel.clone(), id));
    }
    let appended = Appended {
        event_id: EventId(event_id),
        deliveries,
        duplicate_of: None,
    };
    Ok((appended, Some(notification)))
}

/// Rule: a repeated idempotency key is not a new event. The first event
/// with the key answers, with its deliveries, and nothing is written.
fn first_with_key(tx: &rusqlite::Transaction<'_>, key: &str) -> rusqlite::Result<Option<Appended>> {
    let first: Option<i64> = tx
        .prepare_cached("SELECT id FROM events WHERE idempotency_key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    let Some(first) = first else {
        return Ok(None);
    };
    let mut stmt =
        tx.prepare_cached("SELECT channel, id FROM deliveries WHERE event_id = ?1 ORDER BY id")?;
    let deliveries = stmt
        .query_map([first], |r| {
            let c: String = r.get(0)?;
            Ok((
                ChannelId::new(&c).map_err(|_| bad("channel", &c))?,
                DeliveryId(r.get(1)?),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Appended {
        event_id: EventId(first),
        deliveries,
        duplicate_of: Some(EventId(first)),
    }))
}

/// Rule: the event is logged as it is delivered (with what its run added to
/// the message), at the time it was received, under its run and kind.
/// Returns its id.
fn insert_event(
    tx: &rusqlite::Transaction<'_>,
    ev: &NewEvent,
    notification: &Notification,
) -> rusqlite::Result<i64> {
    let json = serde_json::to_string(notification)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let run_event = ev.notification.event.as_ref();
    let run_id = run_event.map(|e| e.run_id.0.as_str());
    let kind = run_event.map(|e| e.kind);
    tx.prepare_cached(
        "INSERT INTO events (created_at, source, run_id, kind, idempotency_key, notification,
                             watcher_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        ev.received_at.0,
        ev.source.as_str(),
        run_id,
        kind.map(|k| k.as_str()),
        ev.idempotency_key,
        json,
        ev.watcher.map(|w| w.0),
    ])?;
    Ok(tx.last_insert_rowid())
}
