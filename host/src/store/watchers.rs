//! The watchers: what each one watches (its spec, as the `watch` module
//! wrote it), whether it runs, where its checks stand, and what it
//! remembers between checks. A due check is leased like a delivery, so that
//! hubs sharing one store run each check once.
//!
//! The spec and the memory are JSON the store does not read: `watch` owns
//! their shape, and the store stays below it (it never imports `watch`).

use super::{HubId, StoreError, UnixMillis, WatcherId};
use std::fmt;
use std::time::Duration;

text_enum!(
    /// Whether a watcher's checks run.
    WatcherState { Active = "active", Paused = "paused" }
);

text_enum!(
    /// Who made a watcher: an agent or person through the tools (`api`), or
    /// a `[watchers.NAME]` table of the config file (`file`), which the
    /// tools show but do not delete.
    WatcherOrigin { Api = "api", File = "file" }
);

/// A watcher to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWatcher {
    pub name: String,
    pub kind: String,
    pub spec: serde_json::Value,
    pub origin: WatcherOrigin,
    pub state: WatcherState,
    /// The first check; `None` leaves it unscheduled.
    pub next_check_at: Option<UnixMillis>,
    pub at: UnixMillis,
}

/// Where a watcher's checks stand, as its last check left it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CheckStatus {
    pub last_check_at: Option<UnixMillis>,
    /// One line: "baseline recorded", "no change", "sent 2 notifications".
    pub last_result: Option<String>,
    pub last_fired_at: Option<UnixMillis>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// The "watcher failing" notification went out and "recovered" has not yet.
    pub failing_reported: bool,
    pub next_check_at: Option<UnixMillis>,
}

/// A stored watcher.
#[derive(Debug, Clone, PartialEq)]
pub struct Watcher {
    pub id: WatcherId,
    pub name: String,
    pub kind: String,
    pub spec: serde_json::Value,
    pub origin: WatcherOrigin,
    pub state: WatcherState,
    pub status: CheckStatus,
    /// What the checks remember (page text, feed ids seen, last value,
    /// digest buffer); `Null` before the first check.
    pub memory: serde_json::Value,
    /// Checks finished so far. A check that fires names its notifications
    /// by it, so a check run again after a crash (before it was recorded)
    /// repeats their idempotency keys instead of sending twice.
    pub checks: u64,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

/// A due check a hub now holds until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct WatcherClaim {
    pub watcher: Watcher,
    /// Changes with every claim (and every edit of the watcher): the check's
    /// outcome is recorded only while the ticket is still the watcher's.
    pub ticket: u64,
    pub lease_until: UnixMillis,
}

/// What a finished check leaves on its watcher.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDone {
    pub status: CheckStatus,
    /// The new memory; `None` keeps the old one (a failed check).
    pub memory: Option<serde_json::Value>,
    pub at: UnixMillis,
}

/// What an edit changes. A new spec forgets the memory (a baseline of
/// another page means nothing) and takes any check in flight off the record.
#[derive(Debug, Clone, PartialEq)]
pub enum WatcherEdit {
    Spec {
        kind: String,
        spec: serde_json::Value,
        next_check_at: Option<UnixMillis>,
    },
    Pause,
    Resume {
        next_check_at: Option<UnixMillis>,
    },
}

/// The watchers.
pub trait Watchers {
    /// Add a watcher, unless its name is taken or `max` watchers exist.
    fn create_watcher(&self, new: NewWatcher, max: usize) -> Result<Watcher, StoreError>;

    fn watcher(&self, id: WatcherId) -> Result<Option<Watcher>, StoreError>;

    fn watcher_named(&self, name: &str) -> Result<Option<Watcher>, StoreError>;

    /// Every watcher, by id.
    fn list_watchers(&self) -> Result<Vec<Watcher>, StoreError>;

    /// Apply `edit`; `None` when there is no such watcher.
    fn edit_watcher(
        &self,
        id: WatcherId,
        edit: WatcherEdit,
        at: UnixMillis,
    ) -> Result<Option<Watcher>, StoreError>;

    /// Forget the watcher (its events stay in the log). False when there was none.
    fn delete_watcher(&self, id: WatcherId) -> Result<bool, StoreError>;

    /// Lease up to `limit` active watchers due at `now` whose lease (if any)
    /// ran out, earliest due first.
    fn claim_watchers(
        &self,
        now: UnixMillis,
        limit: usize,
        lease: Duration,
        owner: HubId,
    ) -> Result<Vec<WatcherClaim>, StoreError>;

    /// Lease this watcher's check now, due or not, active or paused (a
    /// check asked for by hand). `None` when there is no such watcher or
    /// another check of it is in flight.
    fn claim_watcher(
        &self,
        id: WatcherId,
        now: UnixMillis,
        lease: Duration,
        owner: HubId,
    ) -> Result<Option<WatcherClaim>, StoreError>;

    /// Record a claimed check's outcome and drop its lease, if `ticket` is
    /// still the watcher's (false: the lease ran out and another hub took the
    /// check, or the watcher was edited or deleted meanwhile).
    fn finish_check(&self, id: WatcherId, ticket: u64, done: CheckDone)
    -> Result<bool, StoreError>;

    /// When the next check falls due (an active watcher's next check, or
    /// the end of its lease if later), to sleep until then.
    fn next_watcher_due(&self) -> Result<Option<UnixMillis>, StoreError>;
}
