//! Upkeep: forgetting what is done (retention), and how big the store is.

use super::{StoreError, UnixMillis};

/// Keeping the store's size in bounds. Not on the path of a notification:
/// `prune`, `/metrics` and the retention task call it.
pub trait Upkeep {
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

    /// How busy the hub is: events written at or after `since`, and
    /// deliveries still pending (the outbox's depth), for `hub_status`.
    fn activity(&self, since: UnixMillis) -> Result<Activity, StoreError>;

    /// Give the free space inside the store back to the file system, and
    /// keep doing so after each prune from now on (a store made before
    /// retention existed reuses its free space but never returns it). Takes
    /// the store whole for a while: an operator's command, not a routine.
    fn compact(&self) -> Result<(), StoreError>;

    /// Hand back what the backend caches in memory, as the hub goes idle
    /// (never waiting for a connection another thread holds). Nothing by
    /// default: a backend whose caches live elsewhere keeps none here.
    fn release_memory(&self) {}
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

/// What [`Upkeep::activity`] counts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Activity {
    pub events_since: u64,
    /// Deliveries not yet sent, failed for good, skipped or coalesced:
    /// queued, held by quiet hours, or waiting for a retry.
    pub pending: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StoreSize {
    /// The database file and its write-ahead log (SQLite), or the store's
    /// tables with their indexes (PostgreSQL).
    pub bytes: u64,
    pub events: u64,
    pub oldest_event_at: Option<UnixMillis>,
}
