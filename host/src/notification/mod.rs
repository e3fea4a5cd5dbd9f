//! What a sender says happened, before any channel sees it.

mod input;

pub use input::{EventData, EventInput, InputError, SendInput};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How the body is written; a channel that cannot render it sends plain text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Text,
    Markdown,
    Html,
}

/// How urgent: `high` and `urgent` are for when someone must act soon.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

/// The step in a run's life that an event reports.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Start,
    Update,
    End,
    Error,
}

/// The id a sender gives a long run, so its events can be told apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunId(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    pub run_id: RunId,
    pub kind: EventKind,
    pub progress: Option<f32>,
    pub step: Option<String>,
    pub artifact_url: Option<String>,
    /// A JSON object with anything else the sender attached.
    pub data: Option<serde_json::Value>,
    /// When it happened, as the sender said (RFC 3339).
    pub timestamp: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Notification {
    pub title: String,
    pub body: String,
    pub format: Format,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub link: Option<String>,
    pub event: Option<RunEvent>,
}

impl Notification {
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Notification {
            title: title.into(),
            body: body.into(),
            ..Default::default()
        }
    }
}

/// The name of a configured channel instance (`webhook`, `ops`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(String);

impl ChannelId {
    /// Letters, digits, `-` and `_`, 1 to 64 of them.
    pub fn new(name: &str) -> Result<Self, String> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(ChannelId(name.to_string()))
        } else {
            Err(format!(
                "invalid channel name {name:?}: use 1 to 64 letters, digits, `-` or `_`"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Start => "start",
            EventKind::Update => "update",
            EventKind::End => "end",
            EventKind::Error => "error",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
