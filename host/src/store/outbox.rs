//! The delivery outbox: one row per event and channel, leased by the hub
//! that sends it, closed by the outcome.

use super::{DeliveryError, DeliveryId, EventId, StoreError, UnixMillis};
use crate::notification::{ChannelId, Notification, RunId};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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

/// Whose deliveries to list.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Event(EventId),
    Run(RunId),
}

/// Which running hub holds a lease. Opaque to the outbox's callers: a backend
/// stores it with the lease, compares it, and tells when its hub is gone (see
/// [`Outbox::recover_abandoned`]). The embedded backend tells that by asking
/// whether a process is alive, so a hub is known by its process id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HubId(u32);

impl HubId {
    /// The hub of this process.
    pub fn this_process() -> Self {
        HubId(std::process::id())
    }

    /// As a backend stores it.
    pub(crate) const fn from_raw(raw: u32) -> Self {
        HubId(raw)
    }

    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

/// What a worker asks the outbox for: up to `limit` pending deliveries due
/// at `now` among `scope`, leased to `owner` for `lease`, taking no more of
/// each channel's rows than `room` leaves it, and only rows of the channels
/// in `only` when it names some.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub now: UnixMillis,
    pub limit: usize,
    pub lease: Duration,
    pub owner: HubId,
    pub scope: ClaimScope,
    pub room: Room,
    /// The channels the claiming hub has configured: hubs configured
    /// differently share one outbox, and a row of a channel this hub lacks
    /// stays for one that has it (taking it would only give it back).
    /// `None`: any channel.
    pub only: Option<Arc<[ChannelId]>>,
}

/// The outbox.
pub trait Outbox {
    /// Lease what `request` asks for, oldest due first. A run's deliveries
    /// to one channel go out in order: a row waits while an earlier one of
    /// the same run and channel is pending.
    fn claim(&self, request: &ClaimRequest) -> Result<Vec<Claim>, StoreError>;

    /// [`Outbox::claim`] with no bound per channel.
    fn claim_due(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: HubId,
        scope: ClaimScope,
    ) -> Result<Vec<Claim>, StoreError> {
        self.claim(&ClaimRequest {
            now,
            limit,
            lease,
            owner,
            scope,
            room: Room::default(),
            only: None,
        })
    }

    /// Free the leases of hubs that are gone (killed mid-send), so their rows
    /// can be claimed at once instead of when the leases run out; a hub calls
    /// it as its worker starts. Returns how many rows came free. How a gone hub
    /// is told is the backend's: the embedded one, on one machine, asks whether
    /// the process that took the lease is alive; a networked one, whose hubs on
    /// other machines cannot be probed, leaves their rows to lease expiry
    /// (a claim takes a row whose lease ran out by `now` anyway) and may free none.
    fn recover_abandoned(&self, now: UnixMillis) -> Result<u64, StoreError>;

    /// Drop the leases of `owner` (or every lease), so its rows can be
    /// claimed at once. Only for owners known to be gone.
    fn release_leases(&self, owner: Option<HubId>) -> Result<u64, StoreError>;

    /// Extend `owner`'s leases on these pending deliveries to `until`: their
    /// sends are still in flight. A row another owner has claimed since is
    /// left alone. Returns how many were extended.
    fn renew_leases(
        &self,
        ids: &[DeliveryId],
        owner: HubId,
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

    /// The message id the channel gave for the run's latest sent event (to edit it in place).
    fn last_remote_id(
        &self,
        run_id: &RunId,
        channel: &ChannelId,
    ) -> Result<Option<String>, StoreError>;
}
