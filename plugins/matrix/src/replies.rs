//! Questions answered by a reply in the room.
//!
//! `ask` sends the question as an `m.room.message` (`m.text`) whose content
//! names the question in a field of our own, `org.mcp-push.ask` (the spec
//! lets clients add namespaced keys to event content), and whose text lists
//! the choices with their numbers; it returns the event's id and keeps which
//! question that event asks in the channel's cache.
//!
//! `poll-replies` calls `GET /_matrix/client/v3/sync` with `timeout=0` (answer
//! at once), an inline filter (a JSON object as the `filter` parameter: the
//! configured room's `m.room.message` timeline only, nothing of presence,
//! account data, state or ephemeral events) and `since` = the cursor, and
//! returns `next_batch` as the next cursor. A message counts when it is in
//! the configured room, is not the bot's own (`GET /account/whoami`, kept in
//! the cache), and replies to a question: `m.relates_to.m.in_reply_to.event_id`
//! names an event this channel asked with (the cache), or, once a cursor
//! is running, one fetched with `GET /rooms/{roomId}/event/{eventId}` that the
//! bot sent with `org.mcp-push.ask` (a question sent by another process on
//! the same store). Its body, without the quote of the question that clients
//! put first (the reply fallback), is the answer, as the person wrote it: the
//! host takes a choice by its text (any case) or its number, as it does a
//! typed Telegram reply. A reply in another room is passed over and said so;
//! a message that replies to no question is the room's conversation.
//!
//! A first poll (no cursor: a process that just started) gets the room's
//! latest messages, not what came since a point: history. Ask ids start
//! again at 1 with a new store, so an old reply to an old "question 3" must
//! not answer today's. A first poll therefore takes only replies to events
//! this process asked with (in the cache, which lives as long as the process
//! and this channel's settings), and looks nothing up; later polls see only
//! events newer than the cursor, which was taken while questions were open.
//!
//! Sources: the client-server API (spec.matrix.org, v1.x): `GET /sync`
//! (`since`, `timeout`, `filter`, `next_batch`,
//! `rooms.join.{roomId}.timeline.events`), "Filtering" (`RoomFilter.rooms`,
//! `RoomEventFilter.types` and `limit`; an empty `types` list matches
//! nothing), `GET /account/whoami`, `GET /rooms/{roomId}/event/{eventId}`,
//! "Rich replies" (`m.relates_to.m.in_reply_to.event_id`, the `> ` fallback);
//! Apprise's `matrix.py` for the bearer token on every call.

use super::{Matrix, checked, client_api, put_message};
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::replies::{
    Asked, Polled, Question, Replies, Reply, how_to_answer, without_quote,
};
use mcp_push_sdk::serde_json::Value;

/// The content field naming the question an event asks.
pub const ASK_FIELD: &str = "org.mcp-push.ask";
/// Messages of the room a sync returns at most (the rest, were there more
/// in 2 seconds, are skipped: the sync says `limited`).
const EVENTS_PER_SYNC: u32 = 50;
/// Questions looked up per poll: a call has 8 requests, and whoami and the
/// sync take two; a reply beyond them is passed over, and said so.
const LOOKUPS_PER_POLL: usize = 5;
/// How long what the cache keeps lives (the cache's longest).
const DAY: u32 = 24 * 3600;

impl Replies for Matrix {
    fn ask(settings: &Settings, q: &Question) -> Result<Asked, SendError> {
        let mut content = json!({ "msgtype": "m.text", "body": question_text(q) });
        content[ASK_FIELD] = json!(q.ask_id);
        let id = id_at(&put_message(settings, &content)?, "event_id");
        if let Some(id) = &id {
            mcp_push_sdk::cache::set(&asked_key(id), &q.ask_id, DAY);
        }
        Ok(Asked::maybe(id))
    }

    fn poll_replies(settings: &Settings, cursor: Option<&str>) -> Result<Polled, SendError> {
        let room = settings.require("room_id")?;
        let token = settings.require("access_token")?;
        let api = client_api(settings)?;
        let me = whoami(&api, token)?;
        let mut query = vec![("timeout", "0".to_string()), ("filter", filter(room))];
        if let Some(since) = cursor {
            query.push(("since", since.to_string()));
        }
        let sync = Request::get(format!("{api}/sync"))
            .query(&query)
            .bearer(token)
            .send()?
            .check(&checked("next_batch"))?;
        let mut polled = Polled::nothing();
        polled.cursor = sync["next_batch"].as_str().map(str::to_string);
        let mut lookups = if cursor.is_some() {
            LOOKUPS_PER_POLL
        } else {
            0
        };
        let joined = sync["rooms"]["join"].as_object().into_iter().flatten();
        for (room_id, joined) in joined {
            let events = joined["timeline"]["events"]
                .as_array()
                .into_iter()
                .flatten();
            for event in events {
                let Some(asked) = replied_to(event, &me) else {
                    continue;
                };
                let from = event["sender"].as_str().unwrap_or("someone");
                if room_id != room {
                    polled.ignored.push(format!(
                        "a reply by {from} in room {room_id}, not this channel's"
                    ));
                    continue;
                }
                let ask_id = match mcp_push_sdk::cache::get(&asked_key(asked)) {
                    Some(id) => Some(id),
                    None if cursor.is_none() => None,
                    None if lookups == 0 => {
                        polled.ignored.push(format!(
                            "a reply by {from} to {asked}, not looked up (too many in one poll)"
                        ));
                        None
                    }
                    None => {
                        lookups -= 1;
                        question_of(&api, token, room, asked, &me)?
                    }
                };
                let answer = without_quote(event["content"]["body"].as_str().unwrap_or(""));
                if let (Some(ask_id), false) = (ask_id, answer.is_empty()) {
                    polled.replies.push(Reply {
                        ask_id,
                        answer: answer.to_string(),
                        choice: None,
                        from: from.to_string(),
                    });
                }
            }
        }
        Ok(polled)
    }
}

/// The question as the room reads it: the host's text, then how to answer
/// by a reply.
fn question_text(q: &Question) -> String {
    let mut text = join_title(&q.title, &q.text, "\n\n");
    text.push_str(&how_to_answer(
        &q.choices,
        "to this message",
        str::to_string,
    ));
    text
}

/// The sync filter, inline: the room's messages, nothing else.
fn filter(room: &str) -> String {
    let none = json!({ "types": [] });
    json!({
        "presence": none, "account_data": none,
        "room": {
            "rooms": [room],
            "timeline": { "types": ["m.room.message"], "limit": EVENTS_PER_SYNC },
            "state": none, "ephemeral": none, "account_data": none,
        },
    })
    .to_string()
}

/// The event an `m.room.message` of someone else replies to.
fn replied_to<'e>(event: &'e Value, me: &str) -> Option<&'e str> {
    if event["type"] != "m.room.message" || event["sender"].as_str() == Some(me) {
        return None;
    }
    event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"].as_str()
}

/// Where `ask` keeps which question an event asks.
fn asked_key(event_id: &str) -> String {
    format!("asked:{event_id}")
}

/// The bot's own user id, asked once a day.
fn whoami(api: &str, token: &str) -> Result<String, SendError> {
    mcp_push_sdk::cache::get_or_fetch("whoami", || {
        let reply = Request::get(format!("{api}/account/whoami"))
            .bearer(token)
            .send()?
            .check(&checked("user_id"))?;
        let id = id_at(&reply, "user_id").unwrap_or_default();
        Ok((id, DAY))
    })
}

/// The question event `event_id` asks, when the bot sent it with
/// `org.mcp-push.ask`; `None` for any other event, or one the homeserver
/// does not show (gone, or never seen by the bot).
fn question_of(
    api: &str,
    token: &str,
    room: &str,
    event_id: &str,
    me: &str,
) -> Result<Option<String>, SendError> {
    let resp = Request::get(format!("{api}/rooms"))
        .segment(room)
        .segment("event")
        .segment(event_id)
        .bearer(token)
        .send()?;
    if matches!(resp.status, 403 | 404) {
        return Ok(None);
    }
    let event = resp.check(&checked("event_id"))?;
    if event["sender"].as_str() != Some(me) {
        return Ok(None);
    }
    let ask_id = event["content"][ASK_FIELD].as_str().map(str::to_string);
    if let Some(id) = &ask_id {
        mcp_push_sdk::cache::set(&asked_key(event_id), id, DAY);
    }
    Ok(ask_id)
}

#[cfg(test)]
mod tests;
