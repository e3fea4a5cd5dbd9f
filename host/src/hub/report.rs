//! What a caller hears back: each channel's outcome and one word for the whole.

use crate::notification::ChannelId;
use crate::store::{Delivery, DeliveryId, DeliveryState, EventId, UnixMillis};
use serde::Serialize;
use std::time::Duration;

/// How one channel fared (so far).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub channel: ChannelId,
    pub plugin: String,
    pub delivery_id: DeliveryId,
    pub state: DeliveryState,
    /// Sent.
    pub ok: bool,
    /// Why it failed, is retrying, or was skipped or coalesced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    pub attempts: u32,
    /// When a pending delivery is tried (again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<UnixMillis>,
    /// From submission to this delivery's outcome (while it is pending, to
    /// this report).
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Outcome {
    pub fn from_row(d: Delivery, plugin: String, elapsed: Duration) -> Self {
        Outcome {
            ok: d.state == DeliveryState::Sent,
            channel: d.channel,
            plugin,
            delivery_id: d.id,
            state: d.state,
            error: d.last_error.filter(|_| d.state != DeliveryState::Sent),
            remote_id: d.remote_id,
            attempts: d.attempts,
            next_attempt_at: (d.state == DeliveryState::Pending)
                .then_some(d.next_attempt_at)
                .flatten(),
            elapsed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status_kind", rename_all = "snake_case")]
pub enum Report {
    /// Not written, on purpose (a skipped title).
    Skipped { reason: String },
    /// Written to the log; each channel's delivery as it stands.
    Delivered {
        event_id: EventId,
        /// The idempotency key was seen before: this is the first event's result.
        duplicate: bool,
        outcomes: Vec<Outcome>,
    },
    /// The log could not be read back after writing.
    StoreFailed(String),
}

/// One word for how a send went, across its channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    /// Every channel that should get it got it.
    Success,
    /// Some delivered; others failed or still wait in the outbox.
    Partial,
    /// Nothing delivered, and a delivery failed for good.
    Failed,
    /// Not sent, on purpose (skipped title, or every channel's rules said no).
    Skipped,
    /// Nothing delivered yet, but some deliveries still wait in the outbox
    /// (retrying, or held by quiet hours).
    Queued,
}

impl Overall {
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Success => "success",
            Overall::Partial => "partial",
            Overall::Failed => "failed",
            Overall::Skipped => "skipped",
            Overall::Queued => "queued",
        }
    }
}

impl Report {
    pub fn overall(&self) -> Overall {
        let outcomes = match self {
            Report::Skipped { .. } => return Overall::Skipped,
            Report::StoreFailed(_) => return Overall::Failed,
            Report::Delivered { outcomes, .. } => outcomes,
        };
        let count = |s: DeliveryState| outcomes.iter().filter(|o| o.state == s).count();
        let (sent, failed, pending) = (
            count(DeliveryState::Sent),
            count(DeliveryState::Failed),
            count(DeliveryState::Pending),
        );
        match (sent, failed, pending) {
            (0, 0, 0) if outcomes.iter().any(|o| o.state == DeliveryState::Coalesced) => {
                Overall::Success
            }
            (0, 0, 0) => Overall::Skipped,
            (_, 0, 0) => Overall::Success,
            (0, 0, _) => Overall::Queued,
            (0, _, _) => Overall::Failed,
            _ => Overall::Partial,
        }
    }

    pub fn outcomes(&self) -> &[Outcome] {
        match self {
            Report::Delivered { outcomes, .. } => outcomes,
            _ => &[],
        }
    }
}
