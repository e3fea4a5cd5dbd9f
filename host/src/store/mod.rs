//! What the hub remembers: every event, one delivery row per event and channel,
//! and the state of each run.
//!
//! A backend implements one trait per role: [`EventLog`] (the events, and
//! the write-ahead append), [`Outbox`] (deliveries, leases, outcomes),
//! [`Runs`] and [`Upkeep`] (retention, size); [`Store`] is their sum. Later
//! features add their own role (watcher state, questions) instead of growing
//! one trait. What each role promises is stated once, in the conformance
//! suite every backend runs (`conformance.rs`); SQLite-only promises (its
//! file, its locks) are tested beside SQLite.
//!
//! The traits are synchronous on purpose: rusqlite is synchronous, and plain
//! functions are the easiest to implement twice (SQLite now, PostgreSQL
//! later) and to test. Async callers run them in
//! `tokio::task::spawn_blocking`; throughput-sensitive callers go through
//! [`GroupCommit`], whose writer thread batches appends into one transaction.

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

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " `{}`"),
                        text
                    ))
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod asks;
#[cfg(test)]
mod conformance;
mod enqueue;
mod error;
mod event_log;
mod group;
mod location;
mod outbox;
mod postgres;
mod reply_wait;
mod retry;
mod run;
mod runs;
mod schema;
mod sqlite;
mod transfer;
mod upkeep;
mod watchers;

pub use crate::model::{AskId, DeliveryError, DeliveryId, EventId, UnixMillis, WatcherId};
pub use asks::{Answer, Answering, Ask, AskState, Asks, NewAsk, Question};
pub use error::StoreError;
pub use event_log::{
    Appended, DeliveryPlan, EventLog, EventQuery, NewEvent, Source, StoredEvent, TurnWrites,
    TurnWritten,
};
pub use group::{Claimed, GroupCommit, Leased, WriterHooks};
pub use location::Location;
pub use outbox::{
    Attempt, ChannelCounts, Claim, ClaimRequest, ClaimScope, Delivery, DeliveryState, HubId,
    Outbox, Room, Target, fold_counts,
};
pub use postgres::{
    PgOptions, PgStore, is_postgres_url, shown_url, test_server as postgres_test_server,
};
pub use retry::{Decision, RetryPolicy};
pub use run::{RunState, apply as apply_run_event};
pub use runs::{Run, RunStatus, Runs};
pub use sqlite::{
    BRIEF_CHECKPOINT_PAGES, CHECKPOINT_PAGES, SqliteOptions, SqliteStore, configure_process,
    default_db_path, resolve_db_path,
};
pub use transfer::{Copied, TransferError, sqlite_to_postgres};
pub use upkeep::{Activity, Pruned, Retention, StoreSize, Upkeep};
pub use watchers::{
    CheckDone, CheckStatus, NewWatcher, Watcher, WatcherClaim, WatcherEdit, WatcherOrigin,
    WatcherState, Watchers,
};

/// A whole backend: every role. Code that holds a store holds an
/// `Arc<dyn Store>`; the methods of every role can be called on it as they
/// are. On a concrete backend (`SqliteStore`) or a generic one, bring the
/// roles into scope with `use crate::store::prelude::*`.
pub trait Store: EventLog + Outbox + Runs + Upkeep + Watchers + Asks + Send + Sync {}

impl<T: EventLog + Outbox + Runs + Upkeep + Watchers + Asks + Send + Sync> Store for T {}

/// The role traits, for calling a store's methods on a concrete or generic backend.
pub mod prelude {
    pub use super::{Asks, EventLog, Outbox, Runs, Store, Upkeep, Watchers};
}
