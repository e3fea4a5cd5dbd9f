//! A Discord channel that a bot posts to and people reply in, built from
//! Discord's developer docs (discord.com/developers/docs): "Reference"
//! (`/api/v10`, `Authorization: Bot TOKEN`, 401 `{"message": "401:
//! Unauthorized", "code": 0}`, snowflake ids growing with time),
//! resources/message (Create Message `POST /channels/{id}/messages`,
//! `content` at most 2000 characters else 400 50035, `components`; Edit
//! Message `PATCH …/messages/{id}`; Get Channel Messages with `after` and
//! `limit` 1–100, newest first; the message object's `author`, `mentions`,
//! `message_reference` and, for a reply (type 19), `referenced_message`),
//! topics/opcodes-and-status-codes (10003 Unknown Channel, 10008 Unknown
//! Message), topics/rate-limits (429 with the JSON `retry_after` in seconds
//! and `global`, and `Retry-After`, `X-RateLimit-*` headers),
//! resources/user (`GET /users/@me`), and the Message Content privileged
//! intent (topics/gateway: without it a bot gets `content` empty, except in
//! its own messages and those that mention it). `Guild::mock()` serves it.

#![allow(dead_code)]

use crate::support::{Mock, Recorded, Reply};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub const DISCORD_BOT_TOKEN: &str = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GmockX.bot-token-value_0123456789";
pub const BOT_ID: &str = "1100000000000000001";
pub const CHANNEL: &str = "1100000000000000009";
pub const OTHER_CHANNEL: &str = "1100000000000000008";

#[derive(Default)]
struct State {
    /// Every message, oldest first, with its `channel_id`.
    messages: Vec<Value>,
    /// The next Create Message calls answered 429, each with this wait.
    limited: Vec<f64>,
    /// The bot has the Message Content intent.
    content_intent: bool,
    /// Every Create Message call: `(status answered, when)`.
    creates: Vec<(u16, std::time::Instant)>,
    /// The `after` of every Get Channel Messages call.
    reads: Vec<Option<String>>,
}

#[derive(Clone, Default)]
pub struct Guild {
    state: Arc<Mutex<State>>,
}

pub fn user(id: &str, username: &str, global_name: Option<&str>) -> Value {
    json!({"id": id, "username": username, "global_name": global_name, "discriminator": "0"})
}

pub fn bot_user() -> Value {
    let mut u = user(BOT_ID, "mcp-push", None);
    u["bot"] = json!(true);
    u
}

impl Guild {
    pub fn mock(&self) -> Mock {
        let g = self.clone();
        Mock::service(move |r| g.answer(r))
    }

    /// The messages the bot posted, oldest first.
    pub fn posted(&self) -> Vec<Value> {
        let s = self.state.lock().unwrap();
        s.messages
            .iter()
            .filter(|m| m["author"]["id"] == BOT_ID)
            .cloned()
            .collect()
    }

    pub fn creates(&self) -> Vec<(u16, std::time::Instant)> {
        self.state.lock().unwrap().creates.clone()
    }

    pub fn reads(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().reads.clone()
    }

    /// The id the next message will have.
    pub fn next_id(&self) -> u64 {
        1_100_000_000_000_000_100 + self.state.lock().unwrap().messages.len() as u64
    }

    /// The next Create Message is answered 429, `retry_after` = `secs`.
    pub fn limit_next(&self, secs: f64) {
        self.state.lock().unwrap().limited.push(secs);
    }

    /// `author` writes `content` in `channel`; a reply to `to` when given,
    /// mentioning the replied-to author when `ping` (clients' default).
    /// Returns the message's id.
    pub fn say(
        &self,
        channel: &str,
        author: Value,
        content: &str,
        to: Option<&str>,
        ping: bool,
    ) -> String {
        let mut s = self.state.lock().unwrap();
        let id = (1_100_000_000_000_000_100 + s.messages.len() as u64).to_string();
        let mut m = json!({
            "id": id, "channel_id": channel, "type": 0, "author": author,
            "content": content, "mentions": [], "components": [],
            "timestamp": "2026-01-01T00:00:00+00:00",
        });
        if let Some(to) = to {
            let original = s
                .messages
                .iter()
                .find(|o| o["id"] == to)
                .cloned()
                .unwrap_or_else(|| panic!("no message {to}"));
            m["type"] = json!(19);
            m["message_reference"] = json!({"type": 0, "message_id": to,
                                            "channel_id": original["channel_id"], "guild_id": "7"});
            if ping {
                m["mentions"] = json!([original["author"]]);
            }
            m["referenced_message"] = original;
        }
        s.messages.push(m);
        id
    }

    fn answer(&self, r: &Recorded) -> Reply {
        if r.header("authorization") != Some(&format!("Bot {DISCORD_BOT_TOKEN}")) {
            return error(401, 0, "401: Unauthorized");
        }
        let Some(path) = r.path().strip_prefix("/api/v10/") else {
            return error(404, 0, "404: Not Found");
        };
        let parts: Vec<&str> = path.split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["users", "@me"]) => Reply::ok(bot_user()),
            ("POST", ["channels", channel, "messages"]) => self.create(channel, r),
            ("PATCH", ["channels", channel, "messages", id]) => {
                let mut s = self.state.lock().unwrap();
                match s
                    .messages
                    .iter_mut()
                    .find(|m| m["id"] == *id && m["channel_id"] == *channel)
                {
                    Some(m) => {
                        m["content"] = r.json()["content"].clone();
                        Reply::ok(m.clone())
                    }
                    None => error(404, 10008, "Unknown Message"),
                }
            }
            ("GET", ["channels", channel, "messages"]) => self.list(channel, r),
            _ => error(405, 0, "405: Method Not Allowed"),
        }
    }

    fn create(&self, channel: &str, r: &Recorded) -> Reply {
        let now = std::time::Instant::now();
        if channel != CHANNEL && channel != OTHER_CHANNEL {
            return error(404, 10003, "Unknown Channel");
        }
        let body = r.json();
        let content = body["content"].as_str().unwrap_or_default();
        if content.chars().count() > 2000 {
            return error(400, 50035, "Invalid Form Body");
        }
        let limited = {
            let mut s = self.state.lock().unwrap();
            (!s.limited.is_empty()).then(|| s.limited.remove(0))
        };
        if let Some(secs) = limited {
            self.state.lock().unwrap().creates.push((429, now));
            return Reply::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": secs, "global": false}),
            )
            .header("retry-after", &(secs.ceil() as u64).to_string())
            .header("x-ratelimit-limit", "5")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset-after", &secs.to_string())
            .header("x-ratelimit-bucket", "abcd1234");
        }
        let id = self.say(channel, bot_user(), content, None, false);
        let mut s = self.state.lock().unwrap();
        s.creates.push((200, now));
        let m = s.messages.last_mut().unwrap();
        if let Some(components) = body.get("components") {
            m["components"] = components.clone();
        }
        let _ = id;
        Reply::ok(m.clone())
    }

    fn list(&self, channel: &str, r: &Recorded) -> Reply {
        let after = r.query("after");
        let limit = r
            .query("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return error(400, 50035, "Invalid Form Body");
        }
        let mut s = self.state.lock().unwrap();
        s.reads.push(after.clone());
        let content_intent = s.content_intent;
        let after: u64 = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        let mine: Vec<&Value> = s
            .messages
            .iter()
            .filter(|m| m["channel_id"] == channel)
            .filter(|m| m["id"].as_str().unwrap().parse::<u64>().unwrap() > after)
            .collect();
        // `after`: the oldest ones past it; without: the latest. Newest first.
        let picked: Vec<&Value> = if after > 0 {
            mine.into_iter().take(limit).collect()
        } else {
            let skip = mine.len().saturating_sub(limit);
            mine.into_iter().skip(skip).collect()
        };
        let shown: Vec<Value> = picked
            .into_iter()
            .rev()
            .map(|m| {
                let mut m = m.clone();
                let readable = content_intent
                    || m["author"]["id"] == BOT_ID
                    || m["mentions"]
                        .as_array()
                        .is_some_and(|ms| ms.iter().any(|u| u["id"] == BOT_ID));
                if !readable {
                    m["content"] = json!("");
                }
                m
            })
            .collect();
        Reply::ok(json!(shown))
    }
}

fn error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(status, json!({"message": message, "code": code}))
}
