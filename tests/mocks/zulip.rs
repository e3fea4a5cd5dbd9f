//! A mock of a Zulip server's send-message endpoint, built from its API docs
//! (zulip.com/api/send-message, rest-error-handling): POST `/api/v1/messages`
//! with HTTP Basic auth (the bot's address and API key) and a form `type`,
//! `to`, `topic`, `content`; `{"id", "msg": "", "result": "success"}` on
//! success, `{"result": "error", "msg", "code"?}` otherwise, a 429 with
//! `retry-after` when rate limited. `Mock::service(mocks::zulip::api())`
//! serves it; the channel `general` exists, so do `ops` and the user
//! `me@example.com`, and a message containing "flood" is rate limited.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;

pub const EMAIL: &str = "ci-bot@apprise.zulipchat.com";
pub const KEY: &str = "lqn6mpwpam6VZzbCW0o7olmk3hwbQSK";

fn error(status: u16, code: Option<&str>, msg: &str) -> Reply {
    let mut body = json!({"msg": msg, "result": "error"});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    Reply::json(status, body)
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/api/v1/messages" || r.method != "POST" {
            return error(404, None, "Endpoint not found");
        }
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{KEY}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return error(401, None, "Invalid API key");
        }
        let Some(content) = r.form("content").filter(|c| !c.is_empty()) else {
            return error(
                400,
                Some("REQUEST_VARIABLE_MISSING"),
                "Missing 'content' argument",
            );
        };
        if content.chars().count() > 10000 {
            return error(400, Some("BAD_REQUEST"), "Message too long");
        }
        if content.contains("flood") {
            return Reply::json(
                429,
                json!({"code": "RATE_LIMIT_HIT", "msg": "API usage exceeded rate limit",
                       "result": "error", "retry-after": 28.706807374954224}),
            )
            .header("retry-after", "29");
        }
        let to = r.form("to").unwrap_or_default();
        match r.form("type").as_deref() {
            Some("stream" | "channel") => {
                if r.form("topic").is_none_or(|t| t.is_empty()) {
                    return error(400, Some("BAD_REQUEST"), "Topic can't be empty!");
                }
                if !["general", "ops"].contains(&to.as_str()) {
                    return error(
                        400,
                        Some("STREAM_DOES_NOT_EXIST"),
                        &format!("Channel '{to}' does not exist"),
                    );
                }
            }
            Some("direct" | "private") => {
                let users: Vec<String> = serde_json::from_str(&to).unwrap_or_default();
                if let Some(unknown) = users.iter().find(|u| *u != "me@example.com") {
                    return error(
                        400,
                        Some("BAD_REQUEST"),
                        &format!("Invalid email '{unknown}'"),
                    );
                }
            }
            _ => return error(400, Some("BAD_REQUEST"), "Invalid message type"),
        }
        Reply::ok(json!({"id": 42, "msg": "", "result": "success"}))
    }
}
