//! Decoding rows into the store's types, for every role.

use crate::notification::{ChannelId, Notification, RunId};
use crate::store::event_log::event_kind;
use crate::store::{
    Delivery, DeliveryId, DeliveryState, EventId, RunState, RunStatus, Source, StoredEvent,
    UnixMillis, WatcherId,
};

pub(super) fn bad(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} {value:?}").into(),
    )
}

pub(super) fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunState> {
    let status: String = r.get(1)?;
    Ok(RunState {
        run_id: RunId(r.get(0)?),
        status: RunStatus::parse(&status).ok_or_else(|| bad("run status", &status))?,
        progress: r.get::<_, Option<f64>>(2)?.map(|p| p as f32),
        step: r.get(3)?,
        started_at: UnixMillis(r.get(4)?),
        ended_at: r.get::<_, Option<i64>>(5)?.map(UnixMillis),
        duration_ms: r.get(6)?,
        last_message: r.get(7)?,
        artifact_url: r.get(8)?,
        error_code: r.get(9)?,
        updated_at: UnixMillis(r.get(10)?),
    })
}

pub(super) const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.channel, d.state, d.attempts, d.next_attempt_at, d.last_error, d.remote_id, d.updated_at";

pub(super) fn delivery_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let channel: String = r.get(2)?;
    let state: String = r.get(3)?;
    Ok(Delivery {
        id: DeliveryId(r.get(0)?),
        event_id: EventId(r.get(1)?),
        channel: ChannelId::new(&channel).map_err(|_| bad("channel", &channel))?,
        state: DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
        attempts: r.get(4)?,
        next_attempt_at: r.get::<_, Option<i64>>(5)?.map(UnixMillis),
        last_error: r.get(6)?,
        remote_id: r.get(7)?,
        updated_at: UnixMillis(r.get(8)?),
    })
}

pub(super) fn parse_notification(json: &str) -> rusqlite::Result<Notification> {
    serde_json::from_str(json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

pub(super) fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let source: String = r.get(1)?;
    let kind: Option<String> = r.get(3)?;
    Ok(StoredEvent {
        id: EventId(r.get(0)?),
        source: Source::parse(&source).ok_or_else(|| bad("source", &source))?,
        watcher: r.get::<_, Option<i64>>(7)?.map(WatcherId),
        run_id: r.get::<_, Option<String>>(2)?.map(RunId),
        kind: match kind {
            Some(k) => Some(event_kind(&k).ok_or_else(|| bad("event kind", &k))?),
            None => None,
        },
        created_at: UnixMillis(r.get(4)?),
        idempotency_key: r.get(5)?,
        notification: parse_notification(&r.get::<_, String>(6)?)?,
    })
}

pub(super) const EVENT_COLUMNS: &str =
    "id, source, run_id, kind, created_at, idempotency_key, notification, watcher_id";
