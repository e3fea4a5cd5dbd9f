//! What the hub tells anyone listening (waiting callers, the live stream):
//! each appended event and each delivery outcome, as it happens.

use crate::notification::{ChannelId, EventKind, RunId};
use crate::store::{DeliveryId, DeliveryState, EventId, Source, UnixMillis};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Live {
    /// An event was written to the log.
    Event {
        event_id: EventId,
        source: Source,
        run_id: Option<RunId>,
        kind: Option<EventKind>,
        title: String,
        at: UnixMillis,
    },
    /// A delivery attempt ended (sent, failed, or scheduled to retry).
    Delivery {
        delivery_id: DeliveryId,
        event_id: EventId,
        channel: ChannelId,
        state: DeliveryState,
        attempts: u32,
        error: Option<String>,
        remote_id: Option<String>,
        next_attempt_at: Option<UnixMillis>,
        elapsed_ms: u64,
        at: UnixMillis,
    },
}

impl Live {
    pub fn event_id(&self) -> EventId {
        match self {
            Live::Event { event_id, .. } | Live::Delivery { event_id, .. } => *event_id,
        }
    }
}
