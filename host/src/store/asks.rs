//! Questions asked of the user (`ask_user`, `mcp-push ask`): what was asked
//! and of which channels, until when, and the answer that decided it. The
//! first answer wins, once: an answer is accepted only while the question is
//! open and before its deadline, in one conditional write, so two hubs (or
//! a reply link tapped twice) cannot both decide it.
//!
//! The reply key, from which every question's reply links are derived, is
//! kept here too: made once per store, so that every hub on one store
//! accepts the links any of them sent.

use super::{StoreError, UnixMillis};
use crate::model::AskId;
use crate::notification::{ChannelId, RunId};
use std::fmt;

text_enum!(
    /// Where a question stands.
    AskState {
        Open = "open",
        Answered = "answered",
        TimedOut = "timed_out",
        Cancelled = "cancelled",
    }
);

/// What was asked: kept as one JSON value, which the store does not read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Question {
    pub question: String,
    /// The answers offered; empty for a free-text answer.
    #[serde(default)]
    pub choices: Vec<String>,
    /// What a question that times out answers.
    #[serde(default)]
    pub default: Option<String>,
    /// The channels it was sent to: only their recipients can answer.
    pub channels: Vec<ChannelId>,
    #[serde(default)]
    pub run_id: Option<RunId>,
}

/// The answer that decided a question.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub text: String,
    /// Who answered, as far as the way it came in can tell ("reply link",
    /// "api", a chat user's name).
    pub by: String,
    /// The channel whose recipient answered; `None` for the API and CLI.
    pub channel: Option<ChannelId>,
    pub at: UnixMillis,
}

/// A question to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAsk {
    pub question: Question,
    pub deadline: UnixMillis,
    pub at: UnixMillis,
}

/// A stored question.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub id: AskId,
    pub question: Question,
    pub state: AskState,
    pub answer: Option<Answer>,
    pub deadline: UnixMillis,
    pub created_at: UnixMillis,
    /// When it was answered, timed out or was cancelled.
    pub closed_at: Option<UnixMillis>,
}

/// What became of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answering {
    /// It decided the question.
    Accepted(Ask),
    /// The question was already decided, timed out or cancelled (or its
    /// deadline had passed): the answer changes nothing.
    Late(Ask),
}

/// The questions.
pub trait Asks {
    fn create_ask(&self, new: NewAsk) -> Result<Ask, StoreError>;

    fn ask(&self, id: AskId) -> Result<Option<Ask>, StoreError>;

    /// Record `answer` if the question is still open and `answer.at` is
    /// before its deadline; `None` when there is no such question.
    fn answer_ask(&self, id: AskId, answer: Answer) -> Result<Option<Answering>, StoreError>;

    /// Close an open question as `state` (`TimedOut` or `Cancelled`) and
    /// return it as it now is, closed by this call or decided before it;
    /// `None` when there is no such question.
    fn close_ask(
        &self,
        id: AskId,
        state: AskState,
        at: UnixMillis,
    ) -> Result<Option<Ask>, StoreError>;

    /// The open questions, oldest first, at most `limit`.
    fn open_asks(&self, limit: usize) -> Result<Vec<Ask>, StoreError>;

    /// The store's reply key (32 random bytes), made by the first hub that
    /// asks for it and the same for every hub after.
    fn reply_key(&self) -> Result<Vec<u8>, StoreError>;
}

/// A new reply key.
pub(crate) fn new_reply_key() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

/// The reply key as the store keeps it.
pub(crate) fn decode_reply_key(text: &str) -> Result<Vec<u8>, StoreError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| StoreError::BadData("the stored reply key is not 32 bytes".into()))
}

pub(crate) fn question_json(q: &Question) -> String {
    // A `Question` always serializes.
    serde_json::to_string(q).unwrap_or_default()
}

pub(crate) fn parse_question(text: &str) -> Result<Question, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::BadData(format!("a question's JSON: {e}")))
}

pub(crate) fn answer_json(a: &Answer) -> String {
    serde_json::to_string(a).unwrap_or_default()
}

pub(crate) fn parse_answer(text: Option<String>) -> Result<Option<Answer>, StoreError> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::BadData(format!("an answer's JSON: {e}")))
    })
    .transpose()
}
