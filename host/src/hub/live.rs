//! What the hub tells anyone listening (waiting callers, the live stream):
//! each appended event and each delivery outcome, as it happens.

use crate::notification::{ChannelId, EventKind, RunId};
use crate::store::{DeliveryId, DeliveryState, EventId, Source, UnixMillis, WatcherId};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use tokio::sync::broadcast;

/// How much of an event's message live listeners get.
pub const MESSAGE_PREVIEW: usize = 4_096;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Live {
    /// An event was written to the log.
    Event {
        event_id: EventId,
        source: Source,
        /// The watcher that raised it (source `watcher`).
        #[serde(skip_serializing_if = "Option::is_none")]
        watcher: Option<WatcherId>,
        run_id: Option<RunId>,
        kind: Option<EventKind>,
        title: String,
        /// The message, cut at [`MESSAGE_PREVIEW`] characters.
        message: String,
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
        /// The plugin trapped (a bug, or out of memory) in this attempt.
        trapped: bool,
        at: UnixMillis,
    },
    /// An MCP tool call started or ended (arguments with secrets masked).
    ToolExecution {
        tool: String,
        /// `started`, `success` or `error`.
        phase: ToolPhase,
        arguments: serde_json::Value,
        duration_ms: Option<u64>,
        error: Option<String>,
        at: UnixMillis,
    },
    /// A question was asked of the user, or closed (answered, timed out,
    /// cancelled).
    Ask {
        ask_id: crate::model::AskId,
        state: crate::store::AskState,
        question: String,
        choices: Vec<String>,
        /// The answer that decided it, if it was answered.
        #[serde(skip_serializing_if = "Option::is_none")]
        answer: Option<String>,
        at: UnixMillis,
    },
    /// An answer came in: `accepted` when it decided the question, not
    /// when it came late (it is recorded, and changes nothing).
    Reply {
        ask_id: crate::model::AskId,
        answer: String,
        by: String,
        channel: Option<ChannelId>,
        accepted: bool,
        at: UnixMillis,
    },
    /// The plugins directory changed: a plugin was loaded, replaced, removed,
    /// or failed to load.
    Plugin {
        action: PluginAction,
        plugin: String,
        version: Option<String>,
        detail: Option<String>,
        at: UnixMillis,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolPhase {
    Started,
    Success,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginAction {
    Loaded,
    Replaced,
    Removed,
    Failed,
}

impl Live {
    /// The log id the message is about (events and deliveries only).
    pub fn event_id(&self) -> Option<EventId> {
        match self {
            Live::Event { event_id, .. } | Live::Delivery { event_id, .. } => Some(*event_id),
            Live::ToolExecution { .. }
            | Live::Plugin { .. }
            | Live::Ask { .. }
            | Live::Reply { .. } => None,
        }
    }

    /// The `type` tag it is serialized with.
    pub fn kind(&self) -> &'static str {
        match self {
            Live::Event { .. } => "event",
            Live::Delivery { .. } => "delivery",
            Live::ToolExecution { .. } => "tool_execution",
            Live::Plugin { .. } => "plugin",
            Live::Ask { .. } => "ask",
            Live::Reply { .. } => "reply",
        }
    }
}

/// Where live messages go, and where listeners get them. In-process today: a
/// tokio broadcast channel. With a networked store, a hub also hears what
/// hubs on other machines publish (PostgreSQL's LISTEN/NOTIFY relayed into
/// the same channel); that is another [`LiveBus`], and listeners keep reading
/// the receiver they got.
pub trait LiveBus: Send + Sync {
    /// Tell everyone listening now; nobody listening is not an error.
    fn publish(&self, msg: Live);

    fn subscribe(&self) -> broadcast::Receiver<Live>;
}

/// How many live messages a slow listener may fall behind before it misses some.
const LIVE_BACKLOG: usize = 4_096;

/// The in-process bus. Its channel is made for the first listener: the
/// backlog's slots are 600 KiB written at once, which a one-shot command
/// (nobody listening) would carry for nothing, and a message with nobody
/// listening is dropped either way.
#[derive(Default)]
pub struct LocalLive(OnceLock<broadcast::Sender<Live>>);

impl LiveBus for LocalLive {
    fn publish(&self, msg: Live) {
        if let Some(tx) = self.0.get() {
            let _ = tx.send(msg);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.0
            .get_or_init(|| broadcast::channel(LIVE_BACKLOG).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_news(id: &str) -> Live {
        Live::Plugin {
            action: PluginAction::Loaded,
            plugin: id.into(),
            version: None,
            detail: None,
            at: UnixMillis(0),
        }
    }

    #[test]
    fn a_listener_hears_what_is_published_after_it_came_and_nothing_before() {
        let bus = LocalLive::default();
        bus.publish(plugin_news("before"));
        let mut first = bus.subscribe();
        bus.publish(plugin_news("after"));
        let mut second = bus.subscribe();
        bus.publish(plugin_news("last"));
        let id = |m: Live| match m {
            Live::Plugin { plugin, .. } => plugin,
            other => panic!("{other:?}"),
        };
        assert_eq!(id(first.try_recv().unwrap()), "after");
        assert_eq!(id(first.try_recv().unwrap()), "last");
        assert!(first.try_recv().is_err());
        assert_eq!(id(second.try_recv().unwrap()), "last");
        assert!(second.try_recv().is_err());
    }
}
