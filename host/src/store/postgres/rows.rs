//! Decoding rows into the store's types, for every role. Integers are
//! `BIGINT` in the schema, so each is read as `i64` and narrowed here.

use super::Fail;
use crate::notification::{ChannelId, Notification, RunId};
use crate::store::event_log::event_kind;
use crate::store::{
    Delivery, DeliveryId, DeliveryState, EventId, RunState, RunStatus, Source, StoreError,
    StoredEvent, UnixMillis, WatcherId,
};
use postgres::Row;

pub(super) fn bad(what: &str, value: &str) -> Fail {
    Fail::Store(StoreError::BadData(format!("unknown {what} {value:?}")))
}

pub(super) fn channel(value: &str) -> Result<ChannelId, Fail> {
    ChannelId::new(value).map_err(|_| bad("channel", value))
}

pub(super) fn delivery_state(value: &str) -> Result<DeliveryState, Fail> {
    DeliveryState::parse(value).ok_or_else(|| bad("delivery state", value))
}

/// A count kept as `BIGINT`, as the `u32` the store's types hold.
pub(super) fn count(value: i64) -> u32 {
    value.clamp(0, i64::from(u32::MAX)) as u32
}

pub(super) fn millis(value: Option<i64>) -> Option<UnixMillis> {
    value.map(UnixMillis)
}

pub(super) const RUN_COLUMNS: &str = "run_id, status, progress, step, started_at, ended_at, \
     duration_ms, last_message, artifact_url, error_code, updated_at";

pub(super) fn run_from_row(r: &Row) -> Result<RunState, Fail> {
    let status: String = r.try_get(1)?;
    Ok(RunState {
        run_id: RunId(r.try_get(0)?),
        status: RunStatus::parse(&status).ok_or_else(|| bad("run status", &status))?,
        progress: r.try_get::<_, Option<f64>>(2)?.map(|p| p as f32),
        step: r.try_get(3)?,
        started_at: UnixMillis(r.try_get(4)?),
        ended_at: millis(r.try_get(5)?),
        duration_ms: r.try_get(6)?,
        last_message: r.try_get(7)?,
        artifact_url: r.try_get(8)?,
        error_code: r.try_get(9)?,
        updated_at: UnixMillis(r.try_get(10)?),
    })
}

pub(super) const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.channel, d.state, d.attempts, \
     d.next_attempt_at, d.last_error, d.remote_id, d.updated_at";

pub(super) fn delivery_from_row(r: &Row) -> Result<Delivery, Fail> {
    Ok(Delivery {
        id: DeliveryId(r.try_get(0)?),
        event_id: EventId(r.try_get(1)?),
        channel: channel(r.try_get(2)?)?,
        state: delivery_state(r.try_get(3)?)?,
        attempts: count(r.try_get(4)?),
        next_attempt_at: millis(r.try_get(5)?),
        last_error: r.try_get(6)?,
        remote_id: r.try_get(7)?,
        updated_at: UnixMillis(r.try_get(8)?),
    })
}

pub(super) fn parse_notification(json: &str) -> Result<Notification, Fail> {
    serde_json::from_str(json)
        .map_err(|e| Fail::Store(StoreError::BadData(format!("a stored notification: {e}"))))
}

pub(super) const EVENT_COLUMNS: &str =
    "id, source, run_id, kind, created_at, idempotency_key, notification, watcher_id";

pub(super) fn event_from_row(r: &Row) -> Result<StoredEvent, Fail> {
    let source: String = r.try_get(1)?;
    let kind: Option<String> = r.try_get(3)?;
    Ok(StoredEvent {
        id: EventId(r.try_get(0)?),
        source: Source::parse(&source).ok_or_else(|| bad("source", &source))?,
        watcher: r.try_get::<_, Option<i64>>(7)?.map(WatcherId),
        run_id: r.try_get::<_, Option<String>>(2)?.map(RunId),
        kind: match kind {
            Some(k) => Some(event_kind(&k).ok_or_else(|| bad("event kind", &k))?),
            None => None,
        },
        created_at: UnixMillis(r.try_get(4)?),
        idempotency_key: r.try_get(5)?,
        notification: parse_notification(r.try_get(6)?)?,
    })
}
