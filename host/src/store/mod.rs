//! What the hub remembers: every event, one delivery row per event and channel,
//! and the state of each run.
//!
//! The [`Store`] trait is synchronous on purpose: rusqlite is synchronous, and a
//! trait of plain functions is the easiest to implement twice (SQLite now,
//! PostgreSQL later) and to test. Async callers run it in
//! `tokio::task::spawn_blocking`; throughput-sensitive callers go through
//! [`GroupCommit`], whose writer thread batches appends into one transaction.

mod error;
mod group;
mod retry;
mod run;
mod schema;
mod sqlite;

pub use error::StoreError;
pub use group::GroupCommit;
pub use retry::{Decision, RetryPolicy};
pub use run::{RunState, apply as apply_run_event};
pub use sqlite::{SqliteOptions, SqliteStore, default_db_path, resolve_db_path};
#[cfg(test)]
use std::path::PathBuf;

use crate::notification::{ChannelId, EventKind, Notification, RunId};
use crate::plugin::DeliveryError;
use std::fmt;
use std::time::Duration;

/// Milliseconds since the Unix epoch, UTC: what every time column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    pub fn now() -> Self {
        UnixMillis(chrono::Utc::now().timestamp_millis())
    }

    pub fn plus(self, d: Duration) -> Self {
        UnixMillis(
            self.0
                .saturating_add(d.as_millis().min(i64::MAX as u128) as i64),
        )
    }
}

/// The row id of a stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub i64);

/// The row id of one delivery (one event to one channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(pub i64);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Text enums stored as their lowercase names, so the database reads well by hand.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Where an event came in.
    Source { Cli = "cli", Mcp = "mcp", Http = "http", Watcher = "watcher" }
);

text_enum!(
    /// Where one delivery stands. A claimed row stays `pending` with a lease.
    DeliveryState {
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
        Skipped = "skipped",
        Coalesced = "coalesced",
    }
);

text_enum!(
    /// Where a run stands. `succeeded` and `failed` are final.
    RunStatus { Running = "running", Succeeded = "succeeded", Failed = "failed" }
);

/// One event to write, with the channels it must reach.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub notification: Notification,
    pub source: Source,
    pub channels: Vec<ChannelId>,
    /// A repeat with the same key returns the first event instead of sending again.
    pub idempotency_key: Option<String>,
    pub received_at: UnixMillis,
}

/// What [`Store::append`] committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub event_id: EventId,
    pub deliveries: Vec<(ChannelId, DeliveryId)>,
    /// Set when the idempotency key was seen before: `event_id` is then that first event.
    pub duplicate_of: Option<EventId>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: EventId,
    pub source: Source,
    pub run_id: Option<RunId>,
    pub kind: Option<EventKind>,
    pub created_at: UnixMillis,
    pub idempotency_key: Option<String>,
    pub notification: Notification,
}

/// A delivery row.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub channel: ChannelId,
    pub state: DeliveryState,
    /// Sends tried, rate-limited ones included.
    pub attempts: u32,
    pub next_attempt_at: Option<UnixMillis>,
    pub last_error: Option<String>,
    pub remote_id: Option<String>,
}

/// A delivery a worker now holds until `lease_until`; after that anyone may claim it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub delivery: DeliveryId,
    pub event_id: EventId,
    pub channel: ChannelId,
    pub attempts: u32,
    pub lease_until: UnixMillis,
    pub notification: Notification,
}

/// A run as stored.
pub type Run = RunState;

/// Whose deliveries to list.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Event(EventId),
    Run(RunId),
}

/// The storage interface every backend implements.
pub trait Store: Send + Sync {
    /// Write the event, its delivery rows and its run update in one transaction,
    /// before any send starts (write-ahead).
    fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let mut out = self.append_batch(vec![event])?;
        Ok(out.remove(0))
    }

    /// Like [`Store::append`] for many events in one transaction (group commit).
    /// All are written or none.
    fn append_batch(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError>;

    fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError>;

    /// Lease up to `limit` pending deliveries that are due, oldest first.
    fn claim_due(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, StoreError>;

    /// Drop every lease, so rows a previous process held can be claimed at once.
    /// Only safe when this is the only hub using the database.
    fn resume(&self) -> Result<u64, StoreError>;

    fn record_sent(
        &self,
        id: DeliveryId,
        remote_id: Option<&str>,
        now: UnixMillis,
    ) -> Result<(), StoreError>;

    /// Apply the retry policy to a failed attempt; returns the row's new state.
    fn record_failure(
        &self,
        id: DeliveryId,
        error: &DeliveryError,
        now: UnixMillis,
    ) -> Result<DeliveryState, StoreError>;

    /// Close a pending delivery without sending it: `Skipped` (routing or quiet
    /// hours said no) or `Coalesced` (a newer event for the same run replaced it).
    fn record_not_sent(
        &self,
        id: DeliveryId,
        state: DeliveryState,
        reason: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError>;

    /// Put a failed delivery back in the queue with a fresh attempt budget.
    fn retry(&self, id: DeliveryId, now: UnixMillis) -> Result<(), StoreError>;

    fn deliveries_for(&self, target: &Target) -> Result<Vec<Delivery>, StoreError>;

    fn failed_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError>;

    fn run(&self, run_id: &RunId) -> Result<Option<Run>, StoreError>;

    /// Newest first.
    fn list_runs(
        &self,
        status: Option<RunStatus>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Run>, StoreError>;

    /// The message id the channel gave for the run's latest sent event (to edit it in place).
    fn last_remote_id(
        &self,
        run_id: &RunId,
        channel: &ChannelId,
    ) -> Result<Option<String>, StoreError>;
}

#[cfg(test)]
mod tests;
