//! What a sender says happened, before any channel sees it.

mod input;

pub use input::{
    ErrorCode, EventData, EventInput, InputError, MAX_CONTENT, MAX_DEPTH, MAX_IDEMPOTENCY_KEY,
    MAX_RUN_ID, MAX_TITLE, SendInput, check_idempotency_key, nesting,
};

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
    /// Set on a question asked of the user (`ask_user`): each channel's copy
    /// gets its own reply link when it is sent. Never taken from a sender's
    /// input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<QuestionRef>,
}

/// The question a notification asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionRef {
    pub ask_id: crate::model::AskId,
    /// The answers offered; empty for a free-text answer.
    #[serde(default)]
    pub choices: Vec<String>,
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

    /// What an event with no message says: "train-7 started".
    pub fn in_words(self) -> &'static str {
        match self {
            EventKind::Start => "started",
            EventKind::Update => "is still running",
            EventKind::End => "finished",
            EventKind::Error => "failed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `1h 02m 03s`, `2m 05s`, `4.2s`: short and readable on a phone.
pub fn human_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

impl Notification {
    /// A run's `end` or `error` goes out as a new message that stands on its
    /// own: it says how long the run took and links its artifact.
    pub fn add_run_summary(&mut self, duration_ms: Option<i64>, artifact_url: Option<&str>) {
        let mut lines = Vec::new();
        if let Some(ms) = duration_ms {
            lines.push(format!("Duration: {}", human_duration(ms)));
        }
        if let Some(url) = artifact_url
            && !self.body.contains(url)
        {
            lines.push(format!("Artifact: {url}"));
        }
        if self.link.is_none() {
            self.link = artifact_url.map(String::from);
        }
        if !lines.is_empty() {
            if !self.body.is_empty() {
                self.body.push('\n');
            }
            self.body.push_str(&lines.join("\n"));
        }
    }
}

/// The first `max` characters, with `…` when cut.
pub fn preview(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(4_200), "4.2s");
        assert_eq!(human_duration(125_000), "2m 05s");
        assert_eq!(human_duration(3_723_000), "1h 02m 03s");
    }

    #[test]
    fn summary_adds_duration_and_artifact_once() {
        let mut n = Notification::new("[END] r", "done\nArtifact: https://a/1");
        n.add_run_summary(Some(61_000), Some("https://a/1"));
        assert_eq!(n.body, "done\nArtifact: https://a/1\nDuration: 1m 01s");
        assert_eq!(n.link.as_deref(), Some("https://a/1"));
    }
}
