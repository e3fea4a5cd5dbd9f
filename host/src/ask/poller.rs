//! The reply poller: one task per process that runs a delivery worker for
//! questions (`serve`, `mcp`, `mcp-push ask`).
//!
//! Cursors are kept in memory, per channel and settings: a process that
//! starts again begins with what the service still holds (Telegram keeps
//! unconfirmed updates for 24 hours), and answers to questions already
//! decided are recorded as late, as any late answer is.

use crate::config::Channel;
use crate::hub::Hub;
use crate::notification::ChannelId;
use crate::ops::asks::{self, Reply};
use crate::plugin::{ChatReply, DeliveryError};
use crate::store::{Answering, Ask};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often the channels of open questions are asked for answers: a person
/// who pressed a button sees the question decided within about this long,
/// and a bot's API is called 30 times a minute while a question is open.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Questions looked at per round: more open at once than this is not a
/// person answering.
const OPEN_AT_MOST: usize = 100;

/// A running poller; dropped or finished, it stops.
pub struct Poller {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Poller {
    /// Stop polling, and let an answer being taken finish.
    pub async fn finish(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Start polling the hub's channels that can be answered in the chat,
/// while questions are open. `deliver_decided`: this process has no worker
/// for every delivery (`mcp-push ask`), so it sends the news that a
/// question was decided itself.
pub fn spawn_poller(hub: Arc<Hub>, deliver_decided: bool) -> Poller {
    let stop = CancellationToken::new();
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut state = State {
                deliver_decided,
                ..State::default()
            };
            loop {
                state.round(&hub).await;
                tokio::select! {
                    _ = tokio::time::sleep(POLL_EVERY) => {}
                    _ = stop.cancelled() => break,
                }
            }
        })
    };
    Poller {
        stop,
        task: Some(task),
    }
}

#[derive(Default)]
struct State {
    /// Where each channel's next poll starts, by channel and settings: a
    /// channel reloaded with another bot must not start at the old bot's
    /// place (Telegram would forget the new bot's updates below it).
    cursors: HashMap<(ChannelId, u64), String>,
    /// Hashes settings (secrets among them) for `cursors`' keys only; seeded
    /// per process, and the hashes never leave this map.
    seed: std::collections::hash_map::RandomState,
    /// The last failure of each channel's poll, logged once until it changes.
    failing: HashMap<ChannelId, String>,
    /// Channels the service told to wait (rate limited), until when.
    resting: HashMap<ChannelId, Instant>,
    deliver_decided: bool,
}

impl State {
    async fn round(&mut self, hub: &Arc<Hub>) {
        // Only channels with a question open, and only while one is: a
        // bot's updates are someone else's business otherwise.
        if !hub.channels().iter().any(|c| c.plugin.can_reply()) {
            return;
        }
        let store = hub.store().clone();
        let open = match crate::hub::blocking(move || store.open_asks(OPEN_AT_MOST)).await {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!("cannot read the open questions: {e}");
                return;
            }
        };
        // A question past its deadline stays open in the store until someone
        // looks at it (`ops::asks::status` closes it): it takes no answer.
        let now = hub.clock().now();
        let open: Vec<Ask> = open.into_iter().filter(|a| now < a.deadline).collect();
        let asked: Vec<Channel> = hub
            .channels()
            .iter()
            .filter(|c| c.plugin.can_reply())
            .filter(|c| open.iter().any(|a| a.question.channels.contains(&c.id)))
            .cloned()
            .collect();
        for channel in asked {
            self.poll(hub, &channel).await;
        }
    }

    async fn poll(&mut self, hub: &Arc<Hub>, channel: &Channel) {
        if self
            .resting
            .get(&channel.id)
            .is_some_and(|until| Instant::now() < *until)
        {
            return;
        }
        let place = (channel.id.clone(), self.fingerprint(channel));
        let cursor = self.cursors.get(&place).cloned();
        let polled = channel
            .plugin
            .poll_replies(channel.id.as_str(), &channel.settings, cursor.as_deref())
            .await;
        let polled = match polled {
            Ok(p) => {
                if self.failing.remove(&channel.id).is_some() {
                    tracing::info!(channel = %channel.id, "polling for answers works again");
                }
                p
            }
            Err(e) => {
                if let DeliveryError::RateLimited(after) = &e {
                    // Telegram's flood control says how long; without a
                    // number, a minute (30 polls a minute is what it refused).
                    let wait = Duration::from_secs(after.map_or(60, u64::from));
                    self.resting
                        .insert(channel.id.clone(), Instant::now() + wait);
                }
                let why = e.to_string();
                if self.failing.get(&channel.id) != Some(&why) {
                    tracing::warn!(channel = %channel.id, "cannot poll for answers given in the chat (the reply link still works): {why}");
                    self.failing.insert(channel.id.clone(), why);
                }
                return;
            }
        };
        if let Some(next) = polled.cursor {
            self.cursors.insert(place, next);
        }
        for why in &polled.ignored {
            tracing::warn!(channel = %channel.id, "not an answer: {why}");
        }
        for reply in polled.replies {
            self.take_reply(hub, channel, reply).await;
        }
    }

    fn fingerprint(&self, channel: &Channel) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = self.seed.build_hasher();
        for s in &channel.settings {
            (&s.key, &s.value).hash(&mut h);
        }
        h.finish()
    }

    async fn take_reply(&self, hub: &Arc<Hub>, channel: &Channel, reply: ChatReply) {
        let Ok(id) = asks::parse_id(&reply.ask_id) else {
            tracing::warn!(channel = %channel.id, "not an answer: {:?} is not a question's id", reply.ask_id);
            return;
        };
        let store = hub.store().clone();
        let ask = match crate::hub::blocking(move || store.ask(id)).await {
            Ok(Some(ask)) => ask,
            Ok(None) => {
                tracing::warn!(channel = %channel.id, "not an answer: there is no question {id}");
                return;
            }
            Err(e) => {
                tracing::warn!("cannot read question {id}: {e}");
                return;
            }
        };
        let text = match take(&reply, &ask, &channel.id) {
            Take::Answer(text) => text,
            Take::Ignore(why) => {
                tracing::warn!(channel = %channel.id, "not an answer: {why}");
                return;
            }
        };
        let given = Reply {
            text,
            by: reply.from.clone(),
            channel: Some(channel.id.clone()),
        };
        match asks::answer(hub, id, given).await {
            Ok((Answering::Accepted(_), event)) => {
                tracing::info!(channel = %channel.id, "question {id} answered in the chat by {}", reply.from);
                if let (true, Some(event)) = (self.deliver_decided, event) {
                    deliver(hub, event).await;
                }
            }
            Ok((Answering::Late(a), _)) => {
                tracing::info!(channel = %channel.id, "a late answer to question {id} (already {}) is recorded", a.state);
            }
            Err(e) => tracing::warn!(channel = %channel.id, "answer to question {id} refused: {e}"),
        }
    }
}

async fn deliver(hub: &Arc<Hub>, event: crate::store::EventId) {
    let now = std::time::Instant::now();
    crate::ops::send::deliver_alone(hub, event, now, crate::ops::send::WAIT).await;
}

/// What a reply from `channel` is to `ask`.
#[derive(Debug, PartialEq, Eq)]
enum Take {
    Answer(String),
    /// Not an answer, for this reason (for the log).
    Ignore(String),
}

/// Only the recipients of a channel a question went to answer it, and a
/// pressed button answers the choice it was made for.
fn take(reply: &ChatReply, ask: &Ask, channel: &ChannelId) -> Take {
    let q = &ask.question;
    if !q.channels.contains(channel) {
        return Take::Ignore(format!(
            "question {} was not asked on channel {channel} (from {})",
            ask.id, reply.from
        ));
    }
    match reply.choice {
        Some(i) if !q.choices.is_empty() => match q.choices.get(i as usize) {
            Some(c) => Take::Answer(c.clone()),
            None => Take::Ignore(format!(
                "question {} offers {} choices, not a choice {} (from {})",
                ask.id,
                q.choices.len(),
                i + 1,
                reply.from
            )),
        },
        _ => Take::Answer(reply.answer.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AskId;

    fn ask_with(id: i64, choices: &[&str], channels: &[&str]) -> Ask {
        use crate::store::{AskState, Question, UnixMillis};
        Ask {
            id: AskId(id),
            question: Question {
                question: "Deploy?".into(),
                choices: choices.iter().map(|c| c.to_string()).collect(),
                default: None,
                channels: channels
                    .iter()
                    .map(|c| ChannelId::new(c).unwrap())
                    .collect(),
                run_id: None,
            },
            state: AskState::Open,
            answer: None,
            deadline: UnixMillis(0),
            created_at: UnixMillis(0),
            closed_at: None,
        }
    }

    fn reply(answer: &str, choice: Option<u32>) -> ChatReply {
        ChatReply {
            ask_id: "1".into(),
            answer: answer.into(),
            choice,
            from: "Ada (@ada)".into(),
        }
    }

    #[test]
    fn a_button_answers_its_choice_on_a_channel_asked_only() {
        let tg = ChannelId::new("tg").unwrap();
        let yes_no = ask_with(1, &["yes", "no"], &["tg"]);
        let free = ask_with(1, &[], &["tg"]);
        let elsewhere = ask_with(1, &["yes", "no"], &["ntfy"]);
        let cases = [
            (&yes_no, reply("no", Some(1)), Take::Answer("no".into())),
            // The choice as the host has it, whatever the button showed.
            (&yes_no, reply("No!", Some(1)), Take::Answer("no".into())),
            (&yes_no, reply("yes", None), Take::Answer("yes".into())),
            (
                &free,
                reply("in an hour", None),
                Take::Answer("in an hour".into()),
            ),
            (&free, reply("1", Some(0)), Take::Answer("1".into())),
        ];
        for (ask, r, want) in cases {
            assert_eq!(take(&r, ask, &tg), want, "{r:?}");
        }
        assert!(
            matches!(take(&reply("x", Some(2)), &yes_no, &tg), Take::Ignore(w) if w.contains("2 choices"))
        );
        assert!(
            matches!(take(&reply("yes", Some(0)), &elsewhere, &tg), Take::Ignore(w) if w.contains("not asked on channel tg"))
        );
    }
}
