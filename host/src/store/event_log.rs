//! The event log: every notification that came in, with where it came from,
//! in the order it was written, before anything is sent.

use super::{
    Attempt, Claim, ClaimRequest, Delivery, DeliveryId, EventId, StoreError, UnixMillis, WatcherId,
};
use crate::notification::{ChannelId, EventKind, Notification, RunId};
use std::fmt;
use std::time::Duration;

text_enum!(
    /// Where an event came in.
    Source { Cli = "cli", Mcp = "mcp", Http = "http", Watcher = "watcher", Reply = "reply" }
);

/// An event kind as the store writes it (`start`, `update`, `end`, `error`).
pub(crate) fn event_kind(s: &str) -> Option<EventKind> {
    [
        EventKind::Start,
        EventKind::Update,
        EventKind::End,
        EventKind::Error,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

/// What routing decided for one channel of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPlan {
    pub channel: ChannelId,
    /// Held until then (quiet hours); `None` sends as soon as a worker is free.
    pub not_before: Option<UnixMillis>,
    /// Recorded as `skipped` with this reason and never sent (routing said no).
    pub skip: Option<String>,
    /// For a run's `update`: at most one per run per this interval on this
    /// channel, latest wins. `None` or zero sends every update.
    pub update_interval: Option<Duration>,
}

impl DeliveryPlan {
    /// Send now, no rules.
    pub fn now(channel: ChannelId) -> Self {
        DeliveryPlan {
            channel,
            not_before: None,
            skip: None,
            update_interval: None,
        }
    }
}

/// One event to write, with what each channel must get.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub notification: Notification,
    pub source: Source,
    /// The watcher that raised it (source `watcher`).
    pub watcher: Option<WatcherId>,
    pub deliveries: Vec<DeliveryPlan>,
    /// A repeat with the same key returns the first event instead of sending again.
    pub idempotency_key: Option<String>,
    pub received_at: UnixMillis,
}

/// What [`EventLog::append`] committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub event_id: EventId,
    pub deliveries: Vec<(ChannelId, DeliveryId)>,
    /// Set when the idempotency key was seen before: `event_id` is then that first event.
    pub duplicate_of: Option<EventId>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredEvent {
    pub id: EventId,
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watcher: Option<WatcherId>,
    pub run_id: Option<RunId>,
    pub kind: Option<EventKind>,
    pub created_at: UnixMillis,
    pub idempotency_key: Option<String>,
    pub notification: Notification,
}

/// Which events to list, oldest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only events with a larger id (a reconnecting reader passes the last id it saw).
    pub since: Option<EventId>,
    pub run_id: Option<RunId>,
    pub kind: Option<EventKind>,
    /// Only the events this watcher raised.
    pub watcher: Option<WatcherId>,
    pub limit: usize,
}

/// The event log. It owns the append, and an append writes more than the
/// event: the event's delivery rows (the outbox's) and its run's new state
/// (the runs') go in the same transaction. That is the write-ahead rule: no
/// send starts before the event that asked for it is durable, and no event is
/// durable without the rows that deliver it, so the append cannot be split
/// between roles. [`Outbox`](super::Outbox) and [`Runs`](super::Runs) read
/// and update what it wrote; neither creates rows of its own.
pub trait EventLog {
    /// Write the event, its delivery rows and its run update in one transaction,
    /// before any send starts (write-ahead).
    fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let mut out = self.append_batch(vec![event])?;
        Ok(out.remove(0))
    }

    /// Like [`EventLog::append`] for many events in one transaction (group commit).
    /// All are written or none.
    fn append_batch(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError>;

    fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError>;

    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError>;

    /// The newest event's id: where a reader that wants only what comes
    /// next starts (every smaller id is readable by then: appends commit in
    /// id order).
    fn last_event_id(&self) -> Result<Option<EventId>, StoreError>;

    /// A writer turn's appends, the leases asked of their rows and the
    /// outcomes of earlier sends, in one transaction: one commit where the
    /// calls apart make three (the append's fsync covers the other two).
    /// The events and the leases are all written or none is (on `Err` the
    /// caller makes the calls apart, which gives each event its own
    /// answer); each attempt is answered on its own. `None` from a backend
    /// that does not combine them.
    fn write_turn(&self, _turn: TurnWrites<'_>) -> Option<Result<TurnWritten, StoreError>> {
        None
    }
}

/// What one turn of the store's writer writes (see [`EventLog::write_turn`]).
pub struct TurnWrites<'a> {
    pub events: &'a [NewEvent],
    /// Which of the new events' rows to lease, asked once they are written.
    pub lease: &'a (dyn Fn(&[Appended]) -> Option<ClaimRequest> + Sync),
    pub attempts: &'a [Attempt],
}

/// What a turn wrote: every event, what was leased, one answer per attempt.
#[derive(Debug)]
pub struct TurnWritten {
    pub appended: Vec<Appended>,
    pub leased: Vec<Claim>,
    pub recorded: Vec<Result<Delivery, StoreError>>,
}
