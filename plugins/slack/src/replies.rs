//! Questions answered by a reply in the question's thread (a bot token).
//!
//! `ask` posts the question with `chat.postMessage`: its text lists the
//! choices by number and says to answer in the thread, and, when there is a
//! reply link, a Block Kit `actions` block holds a link `button` (`url` = the
//! reply link) that opens the reply page. Buttons that post their value back
//! to the app are not used: Slack delivers such a press to the app's public
//! Request URL, signed with its signing secret, and nothing polls it. The
//! reply's `ts` (the message's id) and `channel` (the id, also for a channel
//! configured by `#name`) are kept in the channel's cache with the question's
//! id, because a thread can be read only by naming the message that starts
//! it: `conversations.replies?channel=…&ts=<question ts>`.
//!
//! `poll-replies` reads the threads of the questions it keeps, at most
//! [`THREADS_PER_POLL`] per poll (a call has 8 requests, and `auth.test` may
//! take one): the newest question's every time, the others' taking turns
//! (with 40 kept, each is read every tenth poll), each from `oldest` = the newest
//! reply it read in that thread (the question's own `ts` at first; `oldest`
//! is exclusive by default). Each thread's place is kept in the cache with
//! the question, so a thread not read in one poll loses nothing; the cursor
//! handed back is the newest `ts` read. A message counts when it is not the
//! bot's own (`auth.test`'s `user_id`, kept a day), not any app's (`bot_id`)
//! and no event (a `subtype`, but for `thread_broadcast`: a reply also sent
//! to the channel). Its text, Slack's three escapes undone, is the answer as
//! the person wrote it; the host takes a choice by its text or number, as it
//! does for Matrix and a typed Telegram reply. Who answered is the user's id,
//! with the name when the message carries `user_profile`.
//!
//! Only threads of questions this process asked on this channel are read:
//! a reply in another thread, a message in the channel that replies to
//! nothing, or an earlier run's answers in the history are never seen, so
//! a first poll takes no old answer to an old "question 1".
//!
//! With a webhook nothing can be read: `ask` posts the question as a send
//! would (the reply link in its text) and `poll-replies` makes no request.
//!
//! Limits: `conversations.replies` is a Tier 3 method (about 50 calls a
//! minute). Since 29 May 2025, for apps distributed commercially outside the
//! Slack Marketplace (new installations; existing ones from 3 March 2026)
//! it is limited to 1 request a minute and 15 messages per call; internal,
//! customer-built apps are not affected. This channel asks for 15 messages
//! a call either way, and a 429 (`ratelimited`, `Retry-After`) makes the
//! host wait as long before it polls again.
//!
//! Sources (docs.slack.dev/reference/methods): `chat.postMessage`,
//! `conversations.replies` (`channel`, `ts`, `oldest`, `inclusive`, `limit`;
//! the thread's parent comes first; `channels:history`, `groups:history`
//! scopes), `auth.test` (`user_id`, `bot_id`), Block Kit's button element
//! (`url`, `action_id`, `text` plain text of 75 characters at most) and
//! section block (`text` 3000 characters at most), the rate-limit pages
//! (docs.slack.dev/apis/web-api/rate-limits, and the changelog of
//! 2025-05-29 on `conversations.history` and `conversations.replies`).

use super::{Bot, Mode, Slack, mrkdwn, post_to_hook};
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::replies::{Asked, Polled, Question, Replies, Reply, how_to_answer};
use mcp_push_sdk::serde_json::Value;

/// Threads read in one poll.
pub const THREADS_PER_POLL: usize = 5;
/// Questions kept (the newest); each a line of the cache's one value.
const QUESTIONS_KEPT: usize = 40;
/// Messages read from one thread per call (the 2025 limit's 15).
const PER_THREAD: u32 = 15;
/// A section block's text holds 3000 characters.
const SECTION: Limit = Limit::Chars(3000);
/// How long what the cache keeps lives (the cache's longest).
const DAY: u32 = 24 * 3600;

impl Replies for Slack {
    fn ask(settings: &Settings, q: &Question) -> Result<Asked, SendError> {
        let bot = match Mode::of(settings)? {
            Mode::Webhook(hook) => {
                let title = Bold::Mrkdwn.title_escaped(&q.title, mrkdwn::escape);
                post_to_hook(hook, &heading(&title, &mrkdwn::escape(&q.text), "\n"))?;
                return Ok(Asked::maybe(None));
            }
            Mode::Bot(bot) => bot,
        };
        let text = question_text(q);
        let mut message = json!({ "text": text, "unfurl_links": false });
        if let Some(link) = q.link.as_deref().filter(|l| !l.is_empty()) {
            message["blocks"] = json!([
                { "type": "section",
                  "text": { "type": "mrkdwn", "text": truncate(&text, SECTION, CUT_MARKER) } },
                { "type": "actions", "elements": [{
                    "type": "button", "action_id": "mcp-push-answer",
                    "text": { "type": "plain_text", "text": "Answer" },
                    "url": link,
                }]},
            ]);
        }
        let posted = bot.post(message)?;
        let ts = id_at(&posted, "ts");
        if let (Some(ts), Some(channel)) = (&ts, posted["channel"].as_str()) {
            let mut kept = Kept::load();
            kept.asked.insert(
                0,
                Thread {
                    ts: ts.clone(),
                    channel: channel.to_string(),
                    ask_id: q.ask_id.clone(),
                    seen: None,
                },
            );
            kept.asked.truncate(QUESTIONS_KEPT);
            kept.save();
        }
        Ok(Asked::maybe(ts))
    }

    fn poll_replies(settings: &Settings, _cursor: Option<&str>) -> Result<Polled, SendError> {
        let Mode::Bot(bot) = Mode::of(settings)? else {
            // A webhook reads nothing: no request.
            return Ok(Polled::nothing());
        };
        let mut kept = Kept::load();
        if kept.asked.is_empty() {
            return Ok(Polled::nothing());
        }
        let me = whoami(&bot)?;
        let mut polled = Polled::nothing();
        let mut newest: Option<String> = None;
        // The newest question every poll (the one most likely still open),
        // the others in turns.
        let rest = kept.asked.len() - 1;
        let others = rest.min(THREADS_PER_POLL - 1);
        let picks: Vec<usize> = std::iter::once(0)
            .chain((0..others).map(|k| 1 + (kept.turn + k) % rest))
            .collect();
        for i in picks {
            let thread = &kept.asked[i];
            let oldest = thread.seen.clone().unwrap_or_else(|| thread.ts.clone());
            let read = bot.get(
                "conversations.replies",
                &[
                    ("channel", thread.channel.clone()),
                    ("ts", thread.ts.clone()),
                    ("oldest", oldest.clone()),
                    ("limit", PER_THREAD.to_string()),
                ],
            );
            let read = match read {
                Ok(read) => read,
                // The question was deleted: nothing more to read there.
                Err(SendError::Rejected(why)) if why.ends_with("thread_not_found") => {
                    kept.asked[i].seen = Some(String::new());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut seen = oldest.clone();
            for m in read["messages"].as_array().into_iter().flatten() {
                let Some(ts) = m["ts"].as_str() else { continue };
                if ts_order(ts) <= ts_order(&oldest) || ts == thread.ts {
                    continue;
                }
                if ts_order(ts) > ts_order(&seen) {
                    seen = ts.to_string();
                }
                if let Some(reply) = answer_of(m, &me, &thread.ask_id, &mut polled.ignored) {
                    polled.replies.push(reply);
                }
            }
            if newest
                .as_deref()
                .is_none_or(|n| ts_order(&seen) > ts_order(n))
                && seen != thread.ts
            {
                newest = Some(seen.clone());
            }
            kept.asked[i].seen = Some(seen);
        }
        // Deleted questions go; the next poll starts where this one stopped.
        kept.asked.retain(|t| t.seen.as_deref() != Some(""));
        kept.turn = match kept.asked.len().saturating_sub(1) {
            0 => 0,
            n => (kept.turn + others) % n,
        };
        kept.save();
        polled.cursor = newest;
        Ok(polled)
    }
}

/// The question as the channel reads it: the host's text (the reply link in
/// it), then how to answer in the thread.
fn question_text(q: &Question) -> String {
    let title = Bold::Mrkdwn.title_escaped(&q.title, mrkdwn::escape);
    let mut text = heading(&title, &mrkdwn::escape(&q.text), "\n");
    text.push_str(&how_to_answer(
        &q.choices,
        "in this message's thread",
        mrkdwn::escape,
    ));
    text
}

/// The answer a message of a question's thread gives, if it is one.
fn answer_of(m: &Value, me: &str, ask_id: &str, ignored: &mut Vec<String>) -> Option<Reply> {
    let user = m["user"].as_str().unwrap_or_default();
    let subtype = m["subtype"].as_str().unwrap_or_default();
    if user.is_empty() || user == me || m.get("bot_id").is_some_and(|b| !b.is_null()) {
        return None;
    }
    if !subtype.is_empty() && subtype != "thread_broadcast" {
        return None;
    }
    let answer = unescape(m["text"].as_str().unwrap_or_default());
    let answer = answer.trim();
    if answer.is_empty() {
        ignored.push(format!(
            "a reply by {user} to question {ask_id} with no text (a file?)"
        ));
        return None;
    }
    let name = ["display_name", "real_name"]
        .iter()
        .find_map(|k| m["user_profile"][k].as_str().filter(|n| !n.is_empty()));
    Some(Reply {
        ask_id: ask_id.to_string(),
        answer: answer.to_string(),
        choice: None,
        from: match name {
            Some(name) => format!("{name} ({user})"),
            None => user.to_string(),
        },
    })
}

/// Slack's text with its three escapes undone (`&amp;` last).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A `ts` ("1700000000.000200", seconds and a sequence) in order.
fn ts_order(ts: &str) -> (u64, u64) {
    let (secs, seq) = ts.split_once('.').unwrap_or((ts, "0"));
    (secs.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// The bot's own user id (`auth.test`), asked once a day.
fn whoami(bot: &Bot) -> Result<String, SendError> {
    mcp_push_sdk::cache::get_or_fetch("me", || {
        let me = bot.get("auth.test", &[])?;
        Ok((id_at(&me, "user_id").unwrap_or_default(), DAY))
    })
}

/// A question's thread as the cache keeps it.
#[derive(Debug, Clone, PartialEq)]
struct Thread {
    ts: String,
    channel: String,
    ask_id: String,
    /// The newest message read in the thread.
    seen: Option<String>,
}

/// What the cache keeps: the questions asked (newest first) and whose turn
/// it is, as one value: `TURN`, then a line `TS CHANNEL ASK_ID SEEN` per
/// question (`-`: nothing read yet). 40 lines stay well under the cache's
/// 4 KiB a value.
#[derive(Debug, Default, PartialEq)]
struct Kept {
    turn: usize,
    asked: Vec<Thread>,
}

impl Kept {
    const KEY: &'static str = "asked";

    fn load() -> Self {
        Self::parse(&mcp_push_sdk::cache::get(Self::KEY).unwrap_or_default())
    }

    fn save(&self) {
        mcp_push_sdk::cache::set(Self::KEY, &self.render(), DAY);
    }

    fn parse(text: &str) -> Self {
        let mut lines = text.lines();
        let turn = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
        let asked = lines
            .filter_map(|l| {
                let mut f = l.split(' ');
                let (ts, channel, ask_id, seen) = (f.next()?, f.next()?, f.next()?, f.next()?);
                Some(Thread {
                    ts: ts.into(),
                    channel: channel.into(),
                    ask_id: ask_id.into(),
                    seen: (seen != "-").then(|| seen.to_string()),
                })
            })
            .collect();
        Kept { turn, asked }
    }

    fn render(&self) -> String {
        let mut out = self.turn.to_string();
        for t in &self.asked {
            let seen = t.seen.as_deref().unwrap_or("-");
            out.push_str(&format!("\n{} {} {} {seen}", t.ts, t.channel, t.ask_id));
        }
        out
    }
}

#[cfg(test)]
mod tests;
