//! A Slack workspace that a bot posts to and people answer in, built from
//! Slack's Web API documentation (docs.slack.dev/reference/methods):
//! `chat.postMessage` (POST JSON with `Authorization: Bearer xoxb-…`;
//! `channel` an id or `#name`; `text` or `blocks` required, else `no_text`;
//! `{"ok": true, "channel", "ts", "message"}`; `channel_not_found`,
//! `not_in_channel`; HTTP 200 for every `ok: false`), `auth.test` (`user_id`,
//! `bot_id`), `conversations.replies` (`channel`, `ts`, `oldest` exclusive
//! unless `inclusive`, `limit`; the thread's parent first, then its replies
//! oldest first; `thread_not_found`), the common errors (`not_authed`,
//! `invalid_auth`) and the rate-limit page (HTTP 429 `ratelimited` with
//! `Retry-After`). A user's message has `user`, `text`, `ts`, `thread_ts`;
//! an app's has `bot_id` too. `Workspace::mock()` serves it at `/api/`.

#![allow(dead_code)]

use crate::support::{Mock, Recorded, Reply};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub const SLACK_BOT_TOKEN: &str = "xoxb-1111-2222-mockbottoken";
pub const BOT_USER: &str = "U0BOT";
/// The channel the bot is in: its id and name.
pub const OPS: (&str, &str) = ("C0OPS", "ops");
/// A channel that exists but the bot is not in.
pub const ELSEWHERE: (&str, &str) = ("C0ELSE", "elsewhere");

#[derive(Default)]
struct State {
    /// Every message, in order, with its `channel`.
    messages: Vec<Value>,
    /// The next `chat.postMessage` calls answered 429, each with this wait.
    limited: Vec<u32>,
    /// `(ts, oldest)` of every `conversations.replies` call.
    reads: Vec<(String, String)>,
}

#[derive(Clone, Default)]
pub struct Workspace {
    state: Arc<Mutex<State>>,
}

impl Workspace {
    pub fn mock(&self) -> Mock {
        let w = self.clone();
        Mock::service(move |r| w.answer(r))
    }

    /// The messages the bot posted (through `chat.postMessage`), in order.
    pub fn posted(&self) -> Vec<Value> {
        let s = self.state.lock().unwrap();
        s.messages
            .iter()
            .filter(|m| m["user"] == BOT_USER)
            .cloned()
            .collect()
    }

    /// `(ts, oldest)` of every thread read so far.
    pub fn reads(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().reads.clone()
    }

    /// The next `chat.postMessage` is answered 429 with `Retry-After: secs`.
    pub fn limit_next(&self, secs: u32) {
        self.state.lock().unwrap().limited.push(secs);
    }

    /// `user` writes `text` in channel `channel`, in the thread of `thread`
    /// when given; returns the message's ts. `bot`: an app's message.
    pub fn say(&self, channel: &str, user: &str, text: &str, thread: Option<&str>) -> String {
        let mut s = self.state.lock().unwrap();
        let ts = format!("17000{:05}.000{:03}", s.messages.len() + 1, 100);
        let mut m = json!({"type": "message", "channel": channel, "user": user,
                           "text": text, "ts": ts});
        if let Some(parent) = thread {
            m["thread_ts"] = json!(parent);
            m["parent_user_id"] = json!(BOT_USER);
        }
        if user == BOT_USER {
            m["bot_id"] = json!("B0BOT");
            m["app_id"] = json!("A0APP");
        }
        s.messages.push(m);
        ts
    }

    fn answer(&self, r: &Recorded) -> Reply {
        let Some(method) = r.path().strip_prefix("/api/") else {
            return Reply::text(404, "Not Found");
        };
        let Some(auth) = r.header("authorization") else {
            return no("not_authed");
        };
        if auth != format!("Bearer {SLACK_BOT_TOKEN}") {
            return no("invalid_auth");
        }
        match (r.method.as_str(), method) {
            ("POST", "chat.postMessage") => self.post_message(r),
            (_, "auth.test") => Reply::ok(json!({
                "ok": true, "url": "https://acme.slack.com/", "team": "Acme",
                "user": "mcp-push", "team_id": "T0ACME", "user_id": BOT_USER, "bot_id": "B0BOT",
            })),
            ("GET", "conversations.replies") => self.replies(r),
            _ => no("unknown_method"),
        }
    }

    fn post_message(&self, r: &Recorded) -> Reply {
        if !r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return no("invalid_arguments");
        }
        let body = r.json();
        if let Some(secs) = {
            let mut s = self.state.lock().unwrap();
            (!s.limited.is_empty()).then(|| s.limited.remove(0))
        } {
            return Reply::json(429, json!({"ok": false, "error": "ratelimited"}))
                .header("retry-after", &secs.to_string());
        }
        let channel = match channel_id(body["channel"].as_str().unwrap_or_default()) {
            Some(c) if c == OPS.0 => c,
            Some(_) => return no("not_in_channel"),
            None => return no("channel_not_found"),
        };
        let text = body["text"].as_str().unwrap_or_default();
        if text.is_empty() && body.get("blocks").is_none() {
            return no("no_text");
        }
        let ts = self.say(channel, BOT_USER, text, None);
        let mut s = self.state.lock().unwrap();
        let m = s.messages.last_mut().unwrap();
        if let Some(blocks) = body.get("blocks") {
            m["blocks"] = blocks.clone();
        }
        let message = m.clone();
        Reply::ok(json!({"ok": true, "channel": channel, "ts": ts, "message": message}))
    }

    fn replies(&self, r: &Recorded) -> Reply {
        let Some(channel) = r.query("channel").as_deref().and_then(channel_id) else {
            return no("channel_not_found");
        };
        let ts = r.query("ts").unwrap_or_default();
        let oldest = r.query("oldest").unwrap_or_else(|| "0".into());
        let inclusive = r.query("inclusive").as_deref() == Some("true");
        let limit = r
            .query("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(1000);
        let mut s = self.state.lock().unwrap();
        s.reads.push((ts.clone(), oldest.clone()));
        let in_channel = |m: &&Value| m["channel"] == channel;
        let Some(parent) = s
            .messages
            .iter()
            .filter(in_channel)
            .find(|m| m["ts"] == ts.as_str())
        else {
            return no("thread_not_found");
        };
        let after = |m: &&Value| {
            let t = order(m["ts"].as_str().unwrap());
            t > order(&oldest) || (inclusive && t == order(&oldest))
        };
        let replies: Vec<Value> = s
            .messages
            .iter()
            .filter(in_channel)
            .filter(|m| m["thread_ts"] == ts.as_str())
            .filter(after)
            .cloned()
            .collect();
        let has_more = replies.len() > limit;
        let mut messages = vec![strip(parent)];
        messages.extend(replies.iter().take(limit).map(strip));
        Reply::ok(
            json!({"ok": true, "messages": messages, "has_more": has_more,
                         "response_metadata": {"next_cursor": ""}}),
        )
    }
}

/// A message as the API shows it (no `channel` field).
fn strip(m: &Value) -> Value {
    let mut m = m.clone();
    m.as_object_mut().unwrap().remove("channel");
    m
}

/// An id, or a `#name`, as the channel's id.
fn channel_id(channel: &str) -> Option<&'static str> {
    [OPS, ELSEWHERE]
        .into_iter()
        .find(|(id, name)| channel == *id || channel.strip_prefix('#') == Some(*name))
        .map(|(id, _)| id)
}

fn order(ts: &str) -> (u64, u64) {
    let (a, b) = ts.split_once('.').unwrap_or((ts, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// `{"ok": false, "error"}`, HTTP 200, as the Web API answers.
fn no(error: &str) -> Reply {
    Reply::json(200, json!({"ok": false, "error": error}))
}
