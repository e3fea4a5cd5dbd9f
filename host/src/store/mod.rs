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
pub use group::{Claimed, GroupCommit};
pub use retry::{Decision, RetryPolicy};
pub use run::{RunState, apply as apply_run_event};
pub use sqlite::{SqliteOptions, SqliteStore, default_db_path, resolve_db_path};
#[cfg(test)]
use std::path::PathBuf;

use crate::notification::{ChannelId, EventKind, Notification, RunId};
pub use crate::model::{DeliveryError, DeliveryId, EventId, UnixMillis};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Text enums stored as their lowercase names, so the database reads well by hand.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
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
    pub deliveries: Vec<DeliveryPlan>,
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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    pub updated_at: UnixMillis,
}

impl Delivery {
    /// Sent, failed for good, skipped or coalesced: nothing more will happen to it.
    pub fn is_final(&self) -> bool {
        self.state != DeliveryState::Pending
    }
}

/// One channel's deliveries by state, among those last updated in a window
/// (the dashboard's chart).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChannelCounts {
    pub channel: ChannelId,
    pub sent: u64,
    /// Pending after at least one attempt: waiting to be tried again.
    pub retrying: u64,
    /// Pending and not tried yet (queued, or held by quiet hours).
    pub pending: u64,
    pub failed: u64,
    pub skipped: u64,
    pub coalesced: u64,
}

impl ChannelCounts {
    fn zero(channel: ChannelId) -> Self {
        ChannelCounts {
            channel,
            sent: 0,
            retrying: 0,
            pending: 0,
            failed: 0,
            skipped: 0,
            coalesced: 0,
        }
    }

    /// Count `n` deliveries in `state`; `tried` tells a retry from a first wait.
    pub fn add(&mut self, state: DeliveryState, tried: bool, n: u64) {
        let slot = match state {
            DeliveryState::Sent => &mut self.sent,
            DeliveryState::Pending if tried => &mut self.retrying,
            DeliveryState::Pending => &mut self.pending,
            DeliveryState::Failed => &mut self.failed,
            DeliveryState::Skipped => &mut self.skipped,
            DeliveryState::Coalesced => &mut self.coalesced,
        };
        *slot += n;
    }
}

/// Fold `(channel, state, tried, count)` rows into one [`ChannelCounts`] per
/// channel, in channel order.
pub fn fold_counts(
    rows: impl IntoIterator<Item = (ChannelId, DeliveryState, bool, u64)>,
) -> Vec<ChannelCounts> {
    let mut out: Vec<ChannelCounts> = Vec::new();
    for (channel, state, tried, n) in rows {
        let i = match out.iter().position(|c| c.channel == channel) {
            Some(i) => i,
            None => {
                out.push(ChannelCounts::zero(channel));
                out.len() - 1
            }
        };
        out[i].add(state, tried, n);
    }
    out.sort_by(|a, b| a.channel.as_str().cmp(b.channel.as_str()));
    out
}

/// Which events to list, oldest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only events with a larger id (a reconnecting reader passes the last id it saw).
    pub since: Option<EventId>,
    pub run_id: Option<RunId>,
    pub kind: Option<EventKind>,
    pub limit: usize,
}

/// One delivery's attempt, as a worker reports it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery: DeliveryId,
    /// The remote message id on success.
    pub result: Result<Option<String>, DeliveryError>,
    /// Parts of a split message delivered so far (kept for the next attempt
    /// when this one failed).
    pub parts_sent: u32,
    /// When the attempt ended (retries are scheduled from here).
    pub at: UnixMillis,
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
    /// The same on every attempt of this delivery, and unlike any other
    /// delivery's, even in another database: a service's idempotency key.
    pub key: String,
    /// Parts of a split message that earlier attempts delivered.
    pub parts_sent: u32,
}

/// Which due deliveries a worker may take.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimScope {
    /// Every due delivery (a long-running hub).
    All,
    /// Only this event's (a one-shot `send` or `event` command).
    Event(EventId),
    /// Only these (the outbox a one-shot command or `flush` delivers).
    Deliveries(Arc<[DeliveryId]>),
}

/// How many rows of each channel one claim may take: what the worker's
/// fair share of the send slots leaves each channel. Rows past it would only
/// be leased and given back to wait a second (a channel with 64 callers
/// waiting on it delivered 1,000 notifications a second, each past its
/// share waiting out that second).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Room {
    /// For a channel not named in `channels`; `None` for no bound.
    pub per_channel: Option<usize>,
    pub channels: Vec<(ChannelId, usize)>,
}

impl Room {
    /// The rows `channel` may have in one claim (`None`: no bound).
    pub fn of(&self, channel: &ChannelId) -> Option<usize> {
        match self.channels.iter().find(|(c, _)| c == channel) {
            Some((_, n)) => Some(*n),
            None => self.per_channel,
        }
    }
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

    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError>;

    /// Lease up to `limit` pending deliveries that are due, oldest first, for
    /// `owner` (a process id). A run's deliveries to one channel go out in
    /// order: a row waits while an earlier one of the same run and channel is pending.
    fn claim_due(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: u32,
        scope: ClaimScope,
    ) -> Result<Vec<Claim>, StoreError> {
        self.claim_due_within(now, limit, lease, owner, scope, &Room::default())
    }

    /// [`Store::claim_due`], taking no more of each channel's rows than
    /// `room` leaves it.
    fn claim_due_within(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: u32,
        scope: ClaimScope,
        room: &Room,
    ) -> Result<Vec<Claim>, StoreError>;

    /// The owners of current leases (to find the ones whose process died).
    fn lease_owners(&self) -> Result<Vec<u32>, StoreError>;

    /// Drop the leases of `owner` (or every lease), so its rows can be
    /// claimed at once. Only for owners known to be gone.
    fn release_leases(&self, owner: Option<u32>) -> Result<u64, StoreError>;

    /// Extend `owner`'s leases on these pending deliveries to `until`: their
    /// sends are still in flight. A row another owner has claimed since is
    /// left alone. Returns how many were extended.
    fn renew_leases(
        &self,
        ids: &[DeliveryId],
        owner: u32,
        until: UnixMillis,
    ) -> Result<u64, StoreError>;

    /// The earliest time a pending, unleased delivery falls due (to sleep until then).
    fn next_due(&self) -> Result<Option<UnixMillis>, StoreError>;

    /// Up to `limit` pending deliveries due by `by` and not leased past it,
    /// the earliest due first: the outbox a process without a worker drains.
    fn due_deliveries(&self, by: UnixMillis, limit: usize) -> Result<Vec<Delivery>, StoreError>;

    /// Give claimed deliveries back without an attempt: lease dropped, due
    /// again at `due`, attempts unchanged, and `note` (why they wait) as the
    /// last error when given. For sends not made (the channel is busy or
    /// paused) or cut short by shutdown.
    fn put_back(
        &self,
        ids: &[DeliveryId],
        now: UnixMillis,
        due: UnixMillis,
        note: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Record many attempts in one transaction; one answer per attempt, in order.
    fn record(&self, attempts: &[Attempt]) -> Vec<Result<Delivery, StoreError>> {
        attempts
            .iter()
            .map(|a| {
                match &a.result {
                    Ok(remote) => self.record_sent(a.delivery, remote.as_deref(), a.at),
                    Err(e) => self.record_failure(a.delivery, e, a.at).map(|_| ()),
                }?;
                self.delivery(a.delivery)?
                    .ok_or(StoreError::NoSuchDelivery(a.delivery))
            })
            .collect()
    }

    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>, StoreError>;

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

    /// Put a failed delivery back in the queue with a fresh attempt budget,
    /// or make a pending one due now (history kept in `attempts`). A
    /// delivery being sent right now (leased) is refused.
    fn retry(&self, id: DeliveryId, now: UnixMillis) -> Result<(), StoreError>;

    fn deliveries_for(&self, target: &Target) -> Result<Vec<Delivery>, StoreError>;

    fn failed_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.list_deliveries(Some(DeliveryState::Failed), limit)
    }

    /// Newest first; `state` narrows to one state.
    fn list_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Per channel, how many deliveries last updated at or after `since`
    /// are in each state.
    fn delivery_counts(&self, since: UnixMillis) -> Result<Vec<ChannelCounts>, StoreError>;

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

    /// Forget up to `limit` events that are done and out of `keep` (older
    /// than its days, or past its newest events), with their deliveries, and
    /// the finished runs left without events. Never an event with a pending
    /// delivery, nor one of a run still running. With `dry_run`, only count
    /// (all of them, not only `limit`).
    fn prune(
        &self,
        keep: &Retention,
        now: UnixMillis,
        limit: usize,
        dry_run: bool,
    ) -> Result<Pruned, StoreError>;

    /// How big the store is, for `/metrics` and `prune`.
    fn size(&self) -> Result<StoreSize, StoreError>;

    /// Give the free space inside the store back to the file system, and
    /// keep doing so after each prune from now on (a store made before
    /// retention existed reuses its free space but never returns it). Takes
    /// the store whole for a while: an operator's command, not a routine.
    fn compact(&self) -> Result<(), StoreError>;
}

/// How long the store keeps what is done: `[store]` in the config file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// Events older than this many days are forgotten once done.
    pub keep_days: Option<u32>,
    /// Only this many of the newest events are kept (once done).
    pub keep_events: Option<u64>,
}

impl Default for Retention {
    /// 30 days: at 200 notifications a second the store grew 4 GB a day.
    fn default() -> Self {
        Retention {
            keep_days: Some(30),
            keep_events: None,
        }
    }
}

impl Retention {
    /// Events created before this are out of the window.
    pub fn cutoff(&self, now: UnixMillis) -> Option<UnixMillis> {
        self.keep_days
            .map(|d| UnixMillis(now.0 - i64::from(d) * 86_400_000))
    }
}

/// What a prune forgot (or, dry, would forget).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Pruned {
    pub events: u64,
    pub deliveries: u64,
    pub runs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StoreSize {
    /// The database file and its write-ahead log.
    pub bytes: u64,
    pub events: u64,
    pub oldest_event_at: Option<UnixMillis>,
}

#[cfg(test)]
mod tests;
