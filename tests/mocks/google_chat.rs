//! A mock of Google Chat's webhook endpoint, built from its documentation:
//! POST `/v1/spaces/{space}/messages?key=…&token=…` with JSON `text`
//! (optionally `thread.threadKey` with `messageReplyOption`), the created
//! Message on success, Google's `{"error": {code, message, status}}`
//! otherwise. `Mock::service(mocks::google_chat::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const SPACE: &str = "AAAAk6lGXyM";
pub const KEY: &str = "AIzaSyDdI0hCZtE6vySjMm";
pub const TOKEN: &str = "O7b1nyri_waOpLMSzbF=";

fn error(code: u16, status: &str, message: &str) -> Reply {
    Reply::json(
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != format!("/v1/spaces/{SPACE}/messages") {
            return error(404, "NOT_FOUND", "Requested entity was not found.");
        }
        if r.query("key").as_deref() != Some(KEY) {
            return error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
            );
        }
        if r.query("token").as_deref() != Some(TOKEN) {
            return error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            );
        }
        let b = r.json();
        let Some(text) = b["text"].as_str().filter(|t| !t.is_empty()) else {
            return error(400, "INVALID_ARGUMENT", "Message cannot be empty.");
        };
        if text.len() > 32000 {
            return error(400, "INVALID_ARGUMENT", "Message too long.");
        }
        if text.contains("quota") {
            return error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
            );
        }
        let thread = match b["thread"]["threadKey"].as_str() {
            Some(k) => {
                if r.query("messageReplyOption").as_deref()
                    != Some("REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")
                {
                    return error(
                        400,
                        "INVALID_ARGUMENT",
                        "A thread key needs messageReplyOption.",
                    );
                }
                format!("spaces/{SPACE}/threads/{k}")
            }
            None => format!("spaces/{SPACE}/threads/t1"),
        };
        Reply::ok(json!({
            "name": format!("spaces/{SPACE}/messages/m1.m1"),
            "sender": {"name": "users/114022495153014004089", "type": "BOT"},
            "text": text,
            "thread": {"name": thread},
            "space": {"name": format!("spaces/{SPACE}")},
            "createTime": "2026-01-01T00:00:00.000000Z",
        }))
    }
}
