//! Questions answered by a reply in the channel.
//!
//! `ask` posts the question with its choices numbered and, when there is a
//! reply link, a link button under it (an action row holding a button of
//! style 5, `url` = the reply link: Discord opens it, and tells the bot
//! nothing). Buttons that report a press to the bot need an interactions
//! endpoint or a Gateway connection, which a poll cannot be. The message's
//! id is kept in the channel's cache with the question's id.
//!
//! `poll-replies` reads the channel with `GET /channels/{id}/messages`
//! (`limit=100`, `after` = the cursor, the newest message id read, as
//! snowflakes grow with time). A message counts when it replies to a
//! question (`message_reference.message_id`, not a forward), in this
//! channel, and is not by the bot itself (`GET /users/@me`, kept a day) nor
//! by any bot. The question is one this process asked (the cache), or, once
//! a cursor is running, one the `referenced_message` shows the bot asked,
//! its reply link naming the question (another process on the same store).
//! The reply's text is the answer as the person wrote it; the host takes a
//! choice by its text or number. Who answered: "Ada (@ada)".
//!
//! A first poll (no cursor: a process that just started) gets the channel's
//! latest messages, which are history: it takes only replies to questions
//! this process asked, so an earlier run's answer to an old "question 1"
//! never answers today's.
//!
//! Message Content: without this privileged intent (Developer Portal → Bot),
//! Discord hands a bot the messages' `content` empty, except for messages
//! that mention it (a reply that keeps its "@" mention on, as clients do by
//! default, mentions the question's author) and its own. An empty reply is
//! passed over with that said, for the host's log.

use super::{Api, DiscordBot, LIMIT};
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::replies::{Asked, Polled, Question, Replies, Reply, how_to_answer};
use mcp_push_sdk::serde_json::Value;

/// Messages read per poll (Get Channel Messages' most).
const PER_POLL: u32 = 100;
/// Questions kept (the newest), each a line of the cache's one value.
const QUESTIONS_KEPT: usize = 100;
/// How long what the cache keeps lives (the cache's longest).
const DAY: u32 = 24 * 3600;
/// A link button's label holds 80 characters.
const LABEL: &str = "Answer";
/// `message_reference.type` of a forwarded message (not a reply).
const FORWARD: i64 = 1;

impl Replies for DiscordBot {
    fn ask(settings: &Settings, q: &Question) -> Result<Asked, SendError> {
        let api = Api::of(settings)?;
        let mut message = json!({ "content": truncate(&question_text(q), LIMIT, CUT_MARKER) });
        if let Some(link) = q.link.as_deref().filter(|l| !l.is_empty()) {
            message["components"] = json!([{
                "type": 1,
                "components": [{ "type": 2, "style": 5, "label": LABEL, "url": link }],
            }]);
        }
        let posted = api.post(message)?;
        let id = id_at(&posted, "id");
        if let Some(id) = &id {
            let mut kept = kept();
            kept.insert(0, (id.clone(), q.ask_id.clone()));
            kept.truncate(QUESTIONS_KEPT);
            keep(&kept);
        }
        Ok(Asked::maybe(id))
    }

    fn poll_replies(settings: &Settings, cursor: Option<&str>) -> Result<Polled, SendError> {
        let api = Api::of(settings)?;
        let me = whoami(&api)?;
        let mut query = vec![("limit", PER_POLL.to_string())];
        if let Some(after) = cursor {
            query.push(("after", after.to_string()));
        }
        let path = format!("/channels/{}/messages", api.channel);
        let messages = api.get(&path, &query)?;
        let kept = kept();
        let mut polled = Polled::nothing();
        let mut newest: Option<u64> = None;
        for m in messages.as_array().into_iter().flatten() {
            if let Some(id) = m["id"].as_str().and_then(|i| i.parse::<u64>().ok()) {
                newest = Some(newest.map_or(id, |n| n.max(id)));
            }
            let reference = &m["message_reference"];
            let Some(asked) = reference["message_id"].as_str() else {
                continue;
            };
            let author = &m["author"];
            if reference["type"].as_i64() == Some(FORWARD)
                || author["id"].as_str() == Some(me.as_str())
                || author["bot"] == true
            {
                continue;
            }
            let remembered = kept
                .iter()
                .find(|(id, _)| id == asked)
                .map(|(_, a)| a.clone());
            let ask_id = match remembered {
                Some(a) => a,
                None if cursor.is_none() => continue,
                None => match question_of(&m["referenced_message"], &me) {
                    Some(a) => a,
                    None => continue,
                },
            };
            let from = who(author);
            if let Some(other) = reference["channel_id"]
                .as_str()
                .filter(|c| *c != api.channel)
            {
                polled.ignored.push(format!(
                    "a reply by {from} to question {ask_id} in channel {other}, not this channel's"
                ));
                continue;
            }
            let answer = m["content"].as_str().unwrap_or_default().trim();
            if answer.is_empty() {
                polled.ignored.push(format!(
                    "a reply by {from} to question {ask_id} came without its text: give the bot \
                     the Message Content intent (Developer Portal → Bot), or reply with the \
                     @mention on (a message that mentions the bot is readable)"
                ));
                continue;
            }
            polled.replies.push(Reply {
                ask_id,
                answer: answer.to_string(),
                choice: None,
                from,
            });
        }
        polled.cursor = newest.map(|n| n.to_string());
        Ok(polled)
    }
}

/// The question as the channel reads it: the host's text (the reply link in
/// it), then how to answer by a reply.
fn question_text(q: &Question) -> String {
    let mut text = heading(&Bold::Markdown.title(&q.title), &q.text, "\n");
    text.push_str(&how_to_answer(
        &q.choices,
        "to this message",
        str::to_string,
    ));
    text
}

/// The question a message the bot sent asks, by the reply link in its
/// button or text (`…/v1/asks/ID/answer…`); `None` for any other message.
fn question_of(message: &Value, me: &str) -> Option<String> {
    if message["author"]["id"].as_str() != Some(me) {
        return None;
    }
    let buttons = message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .filter_map(|b| b["url"].as_str());
    buttons
        .chain(message["content"].as_str())
        .find_map(ask_id_in)
}

/// `ID` of the first `/v1/asks/ID/answer` in `text`.
fn ask_id_in(text: &str) -> Option<String> {
    text.match_indices("/v1/asks/").find_map(|(at, m)| {
        let rest = &text[at + m.len()..];
        let (id, after) = rest.split_once('/')?;
        (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) && after.starts_with("answer"))
            .then(|| id.to_string())
    })
}

/// A user as people know them: "Ada (@ada)", or "@ada".
fn who(user: &Value) -> String {
    let name = user["username"].as_str().unwrap_or("someone");
    match user["global_name"].as_str().filter(|g| !g.is_empty()) {
        Some(shown) => format!("{shown} (@{name})"),
        None => format!("@{name}"),
    }
}

/// The bot's own user id (`GET /users/@me`), asked once a day.
fn whoami(api: &Api) -> Result<String, SendError> {
    mcp_push_sdk::cache::get_or_fetch("me", || {
        let me = api.get("/users/@me", &[])?;
        Ok((id_at(&me, "id").unwrap_or_default(), DAY))
    })
}

/// The questions asked, newest first: `(message id, question id)`, kept
/// as one cache value of `MESSAGE_ID ASK_ID` lines (100 lines stay under
/// the cache's 4 KiB a value).
fn kept() -> Vec<(String, String)> {
    mcp_push_sdk::cache::get("asked")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(m, a)| (m.to_string(), a.to_string()))
        .collect()
}

fn keep(asked: &[(String, String)]) {
    let lines: Vec<String> = asked.iter().map(|(m, a)| format!("{m} {a}")).collect();
    mcp_push_sdk::cache::set("asked", &lines.join("\n"), DAY);
}

#[cfg(test)]
mod tests;
