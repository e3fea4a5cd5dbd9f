//! The parts of the outbox's rules that need no database, shared by every
//! backend so that their rows and notes read the same: when a new delivery
//! falls due, why a waiting update is closed, what a held one says, and the
//! key a service sees. The queries that apply them are each backend's.

use super::{DeliveryPlan, UnixMillis};
use std::time::Duration;

/// When a new delivery may first go: at once, or when quiet hours end,
/// never before it was received.
pub(crate) fn first_due(plan: &DeliveryPlan, now: UnixMillis) -> UnixMillis {
    plan.not_before.unwrap_or(now).max(now)
}

/// The interval between a run's updates on this channel, when coalescing applies.
pub(crate) fn update_interval(plan: &DeliveryPlan) -> Option<Duration> {
    plan.update_interval.filter(|i| !i.is_zero())
}

/// Why a waiting update was closed as `coalesced` by a newer one.
pub(crate) fn replaced_by_update(event_id: i64) -> String {
    format!("replaced by a newer update (event {event_id})")
}

/// Why a waiting update was closed as `coalesced` by its run's end or error.
pub(crate) fn ended_first(event_id: i64) -> String {
    format!("the run ended first (event {event_id})")
}

/// When an update held by the interval goes, after the last one that went
/// at `last`, and the note said with it (so a sender sees why it waits
/// rather than a bare `queued`); `None` when it is not held past `due`.
pub(crate) fn interval_hold(
    last: Option<i64>,
    interval: Duration,
    due: UnixMillis,
) -> Option<(UnixMillis, String)> {
    let next = UnixMillis(last?).plus(interval);
    (next > due).then(|| {
        let note = format!(
            "coalesced: at most one update of a run every {} s on this \
             channel (update_interval_secs); a newer update replaces it",
            interval.as_secs()
        );
        (next, note)
    })
}

/// A delivery's key for the service ([`Claim::key`](super::Claim::key)): the
/// same on every attempt; the event's time makes it unlike the same id in
/// another (or a recreated) database.
pub(crate) fn claim_key(event_created_at: i64, delivery: i64) -> String {
    format!("{event_created_at:x}-{delivery:x}")
}
