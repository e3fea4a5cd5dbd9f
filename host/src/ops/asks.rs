//! Ask the user: send a question to their channels, wait for the first
//! answer or the deadline, and take answers (from the reply link, the API or
//! the CLI). The question and every answer are events in the log (the
//! answers with source `reply`); the store's conditional write decides which
//! answer counts, so two hubs cannot both decide one question.

use super::OpError;
use crate::hub::{Hub, Live, Submission, Submitted};
use crate::model::AskId;
use crate::notification::{ChannelId, MAX_RUN_ID, Notification, Priority, QuestionRef, RunId};
use crate::store::{Answer, Answering, Ask, AskState, EventId, NewAsk, Question, Source};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub const MAX_QUESTION: usize = 2_000;
pub const MAX_CHOICES: usize = 10;
pub const MAX_CHOICE: usize = 100;
pub const MAX_ANSWER: usize = 2_000;
/// How long a question waits by default, and at most.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a waiting caller looks at the store (an answer may come in
/// through another process).
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// `ask_user`'s arguments (and `POST /v1/asks`' body).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskInput {
    /// The question, as the person will read it (up to 2,000 characters).
    pub question: String,
    /// The answers to offer (up to 10, each up to 100 characters); none for
    /// a free-text answer.
    #[serde(default)]
    pub choices: Vec<String>,
    /// What the question answers if nobody does before the timeout; one of
    /// `choices` when there are choices.
    pub default: Option<String>,
    /// How long to wait for an answer, in whole seconds (default 600, at
    /// most 604800). A number, so that `60.0` is 60 as JSON has it.
    pub timeout_secs: Option<f64>,
    /// Ask on these channels only (default: all).
    #[serde(default)]
    pub channels: Vec<String>,
    /// The run the question belongs to, if any.
    pub run_id: Option<String>,
    /// `false`: return at once with the ask_id, and look with ask_status.
    pub wait: Option<bool>,
}

/// A checked question, ready to ask.
#[derive(Debug, Clone)]
pub struct Asking {
    pub question: Question,
    pub timeout: Duration,
    pub wait: bool,
}

pub fn check(input: AskInput, hub: &Hub) -> Result<Asking, OpError> {
    let question = input.question.trim().to_string();
    if question.is_empty() {
        return Err(OpError::invalid("question", "must not be empty"));
    }
    if question.chars().count() > MAX_QUESTION {
        return Err(OpError::invalid(
            "question",
            format!("is longer than {MAX_QUESTION} characters"),
        ));
    }
    let mut choices: Vec<String> = Vec::new();
    for (i, c) in input.choices.iter().enumerate() {
        if c.trim().is_empty() || c.chars().count() > MAX_CHOICE {
            return Err(OpError::invalid(
                format!("choices[{i}]"),
                format!("must be 1 to {MAX_CHOICE} characters, not all spaces"),
            ));
        }
        if choices.contains(c) {
            return Err(OpError::invalid(
                format!("choices[{i}]"),
                format!("{c:?} is offered twice"),
            ));
        }
        choices.push(c.to_string());
    }
    if choices.len() > MAX_CHOICES {
        return Err(OpError::invalid(
            "choices",
            format!("at most {MAX_CHOICES} choices"),
        ));
    }
    let default = match input.default.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) if choices.is_empty() => Some(d.to_string()),
        Some(d) => Some(choice_of(&choices, d).ok_or_else(|| {
            OpError::invalid(
                "default",
                format!("{d:?} is not one of the choices ({})", choices.join(", ")),
            )
        })?),
    };
    let timeout = match input.timeout_secs {
        None => DEFAULT_TIMEOUT,
        Some(s) if s.fract() != 0.0 || !(1.0..=MAX_TIMEOUT.as_secs_f64()).contains(&s) => {
            return Err(OpError::invalid(
                "timeout_secs",
                format!(
                    "must be a whole number of seconds from 1 to {}",
                    MAX_TIMEOUT.as_secs()
                ),
            ));
        }
        Some(s) => Duration::from_secs(s as u64),
    };
    let channels = hub.channels();
    if channels.is_empty() {
        return Err(OpError::NoChannels);
    }
    let mut asked = Vec::new();
    for (i, name) in input.channels.iter().enumerate() {
        match channels.iter().find(|c| c.id.as_str() == name) {
            Some(c) if !asked.contains(&c.id) => asked.push(c.id.clone()),
            Some(_) => {
                return Err(OpError::invalid(
                    format!("channels[{i}]"),
                    format!("{name:?} is named twice"),
                ));
            }
            None => {
                return Err(OpError::UnknownChannel {
                    name: name.clone(),
                    known: channels.iter().map(|c| c.id.to_string()).collect(),
                });
            }
        }
    }
    if asked.is_empty() {
        asked = channels.iter().map(|c| c.id.clone()).collect();
    }
    let run_id = match input.run_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) if r.chars().count() > MAX_RUN_ID => {
            return Err(OpError::invalid(
                "run_id",
                format!("is longer than {MAX_RUN_ID} characters"),
            ));
        }
        Some(r) => Some(RunId(r.to_string())),
    };
    Ok(Asking {
        question: Question {
            question,
            choices,
            default,
            channels: asked,
            run_id,
        },
        timeout,
        wait: input.wait.unwrap_or(true),
    })
}

/// The choice `text` stands for: itself, or one that differs only in case
/// and surrounding spaces, or its number counted from 1.
fn choice_of(choices: &[String], text: &str) -> Option<String> {
    if let Some(c) = choices.iter().find(|c| *c == text) {
        return Some(c.clone());
    }
    let text = text.trim();
    let same = |c: &&String| c.trim().eq_ignore_ascii_case(text);
    if let Some(c) = choices.iter().find(same) {
        return Some(c.clone());
    }
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=choices.len()).contains(n))
        .map(|n| choices[n - 1].clone())
}

/// How a question stands, as every front end shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AskView {
    pub ask_id: AskId,
    /// `open`, `answered`, `timed_out` or `cancelled`.
    pub status: AskState,
    pub question: String,
    pub choices: Vec<String>,
    pub channels: Vec<ChannelId>,
    /// The answer: the one given, or the default of a question that timed out.
    pub answer: Option<String>,
    /// Who answered and on which channel (answered only).
    pub answered_by: Option<String>,
    pub channel: Option<ChannelId>,
    /// The answer is the default, as nobody answered in time.
    pub defaulted: bool,
    pub deadline: String,
    pub summary: String,
}

impl AskView {
    pub fn of(ask: &Ask) -> Self {
        let q = &ask.question;
        let (answer, by, channel, defaulted) = match (&ask.answer, ask.state) {
            (Some(a), _) => (
                Some(a.text.clone()),
                Some(a.by.clone()),
                a.channel.clone(),
                false,
            ),
            (None, AskState::TimedOut) => (q.default.clone(), None, None, q.default.is_some()),
            _ => (None, None, None, false),
        };
        let summary = match ask.state {
            AskState::Open => format!(
                "Question {} is waiting for an answer until {}.",
                ask.id,
                ask.deadline.to_rfc3339()
            ),
            AskState::Answered => format!(
                "Answered {:?} by {}{}.",
                answer.as_deref().unwrap_or_default(),
                by.as_deref().unwrap_or("someone"),
                channel
                    .as_ref()
                    .map(|c| format!(" on {c}"))
                    .unwrap_or_default()
            ),
            AskState::TimedOut => match &q.default {
                Some(d) => format!("Nobody answered in time; the default {d:?} stands."),
                None => "Nobody answered in time, and there is no default.".to_string(),
            },
            AskState::Cancelled => format!("Question {} was cancelled.", ask.id),
        };
        AskView {
            ask_id: ask.id,
            status: ask.state,
            question: q.question.clone(),
            choices: q.choices.clone(),
            channels: q.channels.clone(),
            answer,
            answered_by: by,
            channel,
            defaulted,
            deadline: ask.deadline.to_rfc3339(),
            summary,
        }
    }
}

/// Store the question and send it to its channels. Returns it as stored,
/// and the event that asks it: its deliveries are the hub's worker's (or,
/// in a process without one, the caller's) to send.
pub async fn ask(
    hub: &Arc<Hub>,
    asking: &Asking,
    source: Source,
) -> Result<(Ask, Option<EventId>), OpError> {
    let now = hub.clock().now();
    let new = NewAsk {
        question: asking.question.clone(),
        deadline: now.plus(asking.timeout),
        at: now,
    };
    let store = hub.store().clone();
    let ask = crate::hub::blocking(move || store.create_ask(new)).await?;
    let q = &ask.question;
    let mut n = Notification::new(
        match &q.run_id {
            Some(r) => format!("Question ({})", r.0),
            None => "Question".to_string(),
        },
        q.question.clone(),
    );
    n.priority = Priority::High;
    n.tags = vec!["question".into()];
    n.question = Some(QuestionRef {
        ask_id: ask.id,
        choices: q.choices.clone(),
    });
    let mut sub = Submission::new(n, source);
    sub.only = q.channels.iter().map(|c| c.to_string()).collect();
    sub.idempotency_key = Some(format!("ask-{}", ask.id));
    let event = match hub.submit(sub).await? {
        Submitted::Logged { appended, .. } => Some(appended.event_id),
        Submitted::Skipped { .. } => None,
    };
    hub.publish(live(&ask));
    Ok((ask, event))
}

fn live(ask: &Ask) -> Live {
    Live::Ask {
        ask_id: ask.id,
        state: ask.state,
        question: ask.question.question.clone(),
        choices: ask.question.choices.clone(),
        answer: ask.answer.as_ref().map(|a| a.text.clone()),
        at: ask.closed_at.unwrap_or(ask.created_at),
    }
}

/// The question as it stands; one past its deadline is closed as timed out.
pub async fn status(hub: &Hub, id: AskId) -> Result<Ask, OpError> {
    let store = hub.store().clone();
    let ask = crate::hub::blocking(move || store.ask(id))
        .await?
        .ok_or(OpError::NoSuchAsk(id))?;
    if ask.state == AskState::Open && hub.clock().now() >= ask.deadline {
        return close(hub, id, AskState::TimedOut).await;
    }
    Ok(ask)
}

/// Close an open question (cancelled, or timed out); a decided one is
/// returned as it is.
pub async fn close(hub: &Hub, id: AskId, state: AskState) -> Result<Ask, OpError> {
    let store = hub.store().clone();
    let at = hub.clock().now();
    let ask = crate::hub::blocking(move || store.close_ask(id, state, at))
        .await?
        .ok_or(OpError::NoSuchAsk(id))?;
    if ask.state == state {
        hub.publish(live(&ask));
    }
    Ok(ask)
}

/// Wait until the question is decided or its deadline passes (then it is
/// closed as timed out). `tick` is called at each look, for progress.
pub async fn wait(hub: &Hub, id: AskId, mut tick: impl FnMut(&Ask)) -> Result<Ask, OpError> {
    loop {
        let ask = status(hub, id).await?;
        if ask.state != AskState::Open {
            return Ok(ask);
        }
        tick(&ask);
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// An answer as it came in.
#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    pub by: String,
    pub channel: Option<ChannelId>,
}

/// Take an answer: the first one in time decides the question and is told
/// to its channels; a later one is recorded (an event held from delivery)
/// and changes nothing. A choice question takes only its choices. Returns
/// the event that records it too (its deliveries tell the channels asked
/// that the question is decided).
pub async fn answer(
    hub: &Arc<Hub>,
    id: AskId,
    reply: Reply,
) -> Result<(Answering, Option<EventId>), OpError> {
    let current = status(hub, id).await?;
    let q = &current.question;
    let text = reply.text.trim();
    if text.is_empty() || text.chars().count() > MAX_ANSWER {
        return Err(OpError::invalid(
            "answer",
            format!("must be 1 to {MAX_ANSWER} characters"),
        ));
    }
    let text = if q.choices.is_empty() {
        text.to_string()
    } else {
        choice_of(&q.choices, text).ok_or_else(|| {
            OpError::invalid(
                "answer",
                format!(
                    "{text:?} is not one of the choices ({})",
                    q.choices.join(", ")
                ),
            )
        })?
    };
    let answer = Answer {
        text,
        by: reply.by.clone(),
        channel: reply.channel.clone(),
        at: hub.clock().now(),
    };
    let store = hub.store().clone();
    let given = answer.clone();
    let answering = crate::hub::blocking(move || store.answer_ask(id, given))
        .await?
        .ok_or(OpError::NoSuchAsk(id))?;
    let (ask, accepted) = match &answering {
        Answering::Accepted(a) => (a, true),
        Answering::Late(a) => (a, false),
    };
    hub.publish(Live::Reply {
        ask_id: id,
        answer: answer.text.clone(),
        by: answer.by.clone(),
        channel: answer.channel.clone(),
        accepted,
        at: answer.at,
    });
    if accepted {
        hub.publish(live(ask));
    }
    let on = answer
        .channel
        .as_ref()
        .map(|c| format!(" on {c}"))
        .unwrap_or_default();
    let mut n = Notification::new(
        format!(
            "Answered: {}",
            crate::notification::preview(&q.question, 80)
        ),
        format!("{:?} — by {}{on}.", answer.text, answer.by),
    );
    n.tags = vec!["reply".into()];
    let mut sub = Submission::new(n, Source::Reply);
    sub.only = q.channels.iter().map(|c| c.to_string()).collect();
    if accepted {
        // Everyone asked hears it was decided, so nobody answers twice.
        sub.idempotency_key = Some(format!("ask-{id}-decided"));
    } else {
        sub.hold = Some(format!(
            "a late answer to question {id}, which was already {}",
            ask.state
        ));
    }
    let event = match hub.submit(sub).await {
        Ok(Submitted::Logged { appended, .. }) => Some(appended.event_id),
        Ok(Submitted::Skipped { .. }) => None,
        Err(e) => {
            tracing::warn!("the answer to question {id} is recorded, but not its event: {e}");
            None
        }
    };
    Ok((answering, event))
}

/// `ask-N`'s id from a path or argument.
pub fn parse_id(text: &str) -> Result<AskId, OpError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(AskId)
        .ok_or_else(|| OpError::invalid("ask_id", format!("{text:?} is not a question's id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_picks_a_choice_by_name_or_number() {
        let c = vec!["yes".to_string(), "no".to_string()];
        assert_eq!(choice_of(&c, " YES ").as_deref(), Some("yes"));
        assert_eq!(choice_of(&c, "2").as_deref(), Some("no"));
        assert_eq!(choice_of(&c, "3"), None);
        assert_eq!(choice_of(&c, "maybe"), None);
        let numbers = vec!["2".to_string(), "1".to_string()];
        assert_eq!(choice_of(&numbers, "1").as_deref(), Some("1"));
    }
}
