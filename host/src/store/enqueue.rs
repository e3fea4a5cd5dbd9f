//! The outbox's rules for a new delivery row, shared by every backend so
//! that their rows and notes read the same: the order they apply in
//! ([`enqueue`]), when a new delivery falls due, why a waiting update is
//! closed, what a held one says, and the key a service sees. The queries
//! that apply them are each backend's ([`EnqueueDb`]).

use super::{DeliveryId, DeliveryPlan, NewEvent, UnixMillis};
use crate::notification::EventKind;
use std::time::Duration;

/// The queries [`enqueue`] asks of a backend, inside the append's transaction.
pub(crate) trait EnqueueDb {
    type Error;

    /// Close the run's updates to the channel that are still waiting (not
    /// in flight) as `coalesced`, with the reason.
    fn coalesce_waiting_updates(
        &mut self,
        run_id: &str,
        channel: &str,
        now: UnixMillis,
        reason: &str,
    ) -> Result<(), Self::Error>;

    /// When the run's last update to the channel went: sent, or in flight
    /// (its lease running at `now`).
    fn last_update_went(
        &mut self,
        run_id: &str,
        channel: &str,
        now: UnixMillis,
    ) -> Result<Option<i64>, Self::Error>;

    /// Write the row: closed (`skipped`, with the reason) when routing said
    /// no, so it is never sent; else `pending`, due at `due`, with the note
    /// of what holds it back, if anything does.
    fn insert_delivery(
        &mut self,
        event_id: i64,
        run: Option<(&str, EventKind)>,
        plan: &DeliveryPlan,
        due: UnixMillis,
        held: Option<&str>,
        now: UnixMillis,
    ) -> Result<DeliveryId, Self::Error>;
}

/// A new event's delivery row to one channel, by the rules; its id.
pub(crate) fn enqueue<D: EnqueueDb>(
    db: &mut D,
    event_id: i64,
    ev: &NewEvent,
    plan: &DeliveryPlan,
) -> Result<DeliveryId, D::Error> {
    let now = ev.received_at;
    let run = ev
        .notification
        .event
        .as_ref()
        .map(|e| (e.run_id.0.as_str(), e.kind));
    let channel = plan.channel.as_str();
    let mut due = first_due(plan, now);
    let mut held: Option<String> = None;
    match run {
        // Latest wins: a newer update replaces the ones still waiting, and
        // goes out no sooner than one interval after the last one that went.
        Some((run_id, EventKind::Update)) => {
            if let Some(interval) = update_interval(plan) {
                let reason = replaced_by_update(event_id);
                db.coalesce_waiting_updates(run_id, channel, now, &reason)?;
                let last = db.last_update_went(run_id, channel, now)?;
                if let Some((at, note)) = interval_hold(last, interval, due) {
                    due = at;
                    held = Some(note);
                }
            }
        }
        // The final word makes waiting progress reports moot.
        Some((run_id, EventKind::End | EventKind::Error)) => {
            db.coalesce_waiting_updates(run_id, channel, now, &ended_first(event_id))?;
        }
        _ => {}
    }
    db.insert_delivery(event_id, run, plan, due, held.as_deref(), now)
}

/// When a new delivery may first go: at once, or when quiet hours end,
/// never before it was received.
fn first_due(plan: &DeliveryPlan, now: UnixMillis) -> UnixMillis {
    plan.not_before.unwrap_or(now).max(now)
}

/// The interval between a run's updates on this channel, when coalescing applies.
fn update_interval(plan: &DeliveryPlan) -> Option<Duration> {
    plan.update_interval.filter(|i| !i.is_zero())
}

/// Why a waiting update was closed as `coalesced` by a newer one.
fn replaced_by_update(event_id: i64) -> String {
    format!("replaced by a newer update (event {event_id})")
}

/// Why a waiting update was closed as `coalesced` by its run's end or error.
fn ended_first(event_id: i64) -> String {
    format!("the run ended first (event {event_id})")
}

/// When an update held by the interval goes, after the last one that went
/// at `last`, and the note said with it (so a sender sees why it waits
/// rather than a bare `queued`); `None` when it is not held past `due`.
fn interval_hold(
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
