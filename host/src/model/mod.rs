//! The words every layer shares: ids, time, and how one delivery can fail.
//!
//! They sit below `store`, `plugin` and `hub`, so none of those has to import
//! another to name an event, a moment or a failed attempt.

mod delivery_error;
mod ids;
mod time;

pub use delivery_error::DeliveryError;
pub use ids::{AskId, DeliveryId, EventId, WatcherId};
pub use time::UnixMillis;
