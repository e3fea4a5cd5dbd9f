//! A mock of a Rocket.Chat server's incoming webhooks, built from its
//! documentation and its webhook route: POST `/hooks/{id}/{token}` with
//! JSON `text`, `{"success": true}` on success, `{"success": false, "error"}`
//! otherwise. `Mock::service(mocks::rocketchat::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const ID: &str = "D2oXe5wZEAKFYKds6";
pub const TOKEN: &str = "eQJ2dyMq6yPvAbNdx6uLjuiLJvQ";

fn failure(status: u16, error: &str) -> Reply {
    Reply::json(status, json!({"success": false, "error": error}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != format!("/hooks/{ID}/{TOKEN}") {
            return failure(404, "Invalid integration id or token provided.");
        }
        let b = r.json();
        if b["channel"] == "#locked" {
            return failure(
                400,
                "overriding destination channel is disabled for this integration",
            );
        }
        match b["text"].as_str() {
            // Message_MaxAllowedSize's default.
            Some(t) if t.chars().count() > 5000 => failure(400, "error-message-size-exceeded"),
            Some(t) if !t.is_empty() => Reply::ok(json!({"success": true})),
            _ => failure(400, "unknown-error"),
        }
    }
}
