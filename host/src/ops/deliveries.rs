//! The outbox: the deliveries of a run or an event, the newest ones, counts
//! per channel, and a retry.

use super::OpError;
use crate::hub::blocking;
use crate::store::{
    ChannelCounts, Delivery, DeliveryId, DeliveryState, Store, StoreError, Target, UnixMillis,
};
use serde::Serialize;
use std::sync::Arc;

/// The deliveries of a run's events or of one event.
pub async fn of(store: &Arc<dyn Store>, target: Target) -> Result<Vec<Delivery>, OpError> {
    let store = store.clone();
    Ok(blocking(move || store.deliveries_for(&target)).await?)
}

/// How many of `rows` are in `state`.
pub fn count(rows: &[Delivery], state: DeliveryState) -> usize {
    rows.iter().filter(|d| d.state == state).count()
}

/// Newest first, only those in `state` when given.
pub async fn recent(
    store: &Arc<dyn Store>,
    state: Option<DeliveryState>,
    limit: usize,
) -> Result<Vec<Delivery>, OpError> {
    let store = store.clone();
    Ok(blocking(move || store.list_deliveries(state, limit)).await?)
}

/// A delivery with its event's title and run, so that a failure can say
/// what failed without a second request.
#[derive(Debug, Clone, Serialize)]
pub struct WithEvent {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub title: Option<String>,
    pub run_id: Option<crate::notification::RunId>,
}

/// [`recent`], each with its event's title and run.
pub async fn recent_with_events(
    store: &Arc<dyn Store>,
    state: Option<DeliveryState>,
    limit: usize,
) -> Result<Vec<WithEvent>, OpError> {
    let store = store.clone();
    Ok(blocking(move || {
        let list = store.list_deliveries(state, limit)?;
        list.into_iter()
            .map(|d| with_event(store.as_ref(), d))
            .collect()
    })
    .await?)
}

pub fn with_event(store: &dyn Store, delivery: Delivery) -> Result<WithEvent, StoreError> {
    let event = store.event(delivery.event_id)?;
    Ok(WithEvent {
        title: event.as_ref().map(|e| e.notification.title.clone()),
        run_id: event.and_then(|e| e.run_id),
        delivery,
    })
}

/// Per channel, deliveries by state among those updated since `since`.
pub async fn stats(
    store: &Arc<dyn Store>,
    since: UnixMillis,
) -> Result<Vec<ChannelCounts>, OpError> {
    let store = store.clone();
    Ok(blocking(move || store.delivery_counts(since)).await?)
}

/// Give delivery `id` a fresh attempt budget (a pending one is made due at
/// `now`), and return it as it then stands, with its event's title and run.
/// Sending it is the caller's worker's job.
pub async fn retry(
    store: &Arc<dyn Store>,
    id: DeliveryId,
    now: UnixMillis,
) -> Result<WithEvent, OpError> {
    let store = store.clone();
    blocking(move || {
        store.retry(id, now)?;
        let d = store.delivery(id)?.ok_or(StoreError::NoSuchDelivery(id))?;
        with_event(store.as_ref(), d)
    })
    .await
    .map_err(OpError::from_store)
}
