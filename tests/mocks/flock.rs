//! A mock of Flock's incoming webhooks and its `chat.sendMessage` method,
//! built from Flock's developer docs ("Create an Incoming Webhook",
//! FlockOS "Methods" and its error table): POST JSON `text` or `flockml` to
//! `/hooks/sendMessage/{token}`, 200 when the token is `HOOK` (the reply
//! body is not documented: `{}` here), 401 otherwise (as Apprise reads it);
//! POST a form `token`, `to` (`u:ID` or `g:ID`), `flockml` to
//! `/v1/chat.sendMessage`: 200 `{"uid"}` for the bot's token `BOT`,
//! otherwise `{"error", "description"}`: 403 `InvalidToken`, 400
//! `InvalidParameter` for a target not in `TARGETS`, 429
//! `TooManyRequests` (here: a message containing "storm").
//! `Mock::service(mocks::flock::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const HOOK: &str = "134b8gh0-eba0-4fa9-ab9c-257ced0e8221";
pub const BOT: &str = "632542db-1a23-4e06-8b39-01f8b0868d57";
pub const TARGETS: &[&str] = &["u:513a9f4ae409", "g:ops_42"];

fn error(status: u16, code: &str, description: &str) -> Reply {
    Reply::json(status, json!({"error": code, "description": description}))
}

fn is_flockml(s: &str) -> bool {
    s.starts_with("<flockml>") && s.ends_with("</flockml>")
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" {
            return error(
                405,
                "HTTPMethodNotAllowed",
                "An HTTP method other than POST was used",
            );
        }
        if let Some(token) = r.path().strip_prefix("/hooks/sendMessage/") {
            if token != HOOK {
                return Reply::text(401, "Unauthorized");
            }
            let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            if !b["flockml"].as_str().is_some_and(is_flockml) && b["text"].as_str().is_none() {
                return Reply::text(400, "Bad Request");
            }
            return Reply::ok(json!({}));
        }
        if r.path() != "/v1/chat.sendMessage" {
            return error(
                404,
                "NoSuchMethod",
                "The method named in the request URL does not exist",
            );
        }
        if r.form("token").as_deref() != Some(BOT) {
            return error(
                403,
                "InvalidToken",
                "An invalid user authentication token was sent with the request",
            );
        }
        let to = r.form("to").unwrap_or_default();
        let message = r.form("flockml").unwrap_or_default();
        if !TARGETS.contains(&to.as_str()) || !is_flockml(&message) {
            return error(
                400,
                "InvalidParameter",
                "A parameter for the method call is missing or invalid",
            );
        }
        if message.contains("storm") {
            return error(429, "TooManyRequests", "Rate limit reached");
        }
        Reply::ok(json!({"uid": format!("d9e054e0-a679-4a7a-9cfa-{:012}", r.body.len())}))
    }
}
