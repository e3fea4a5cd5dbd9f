//! A mock of a Mattermost server's incoming webhooks, built from its
//! documentation: POST `/hooks/{key}` with JSON `text` (or `attachments`),
//! 200 with the body `ok`; refusals are the server's AppError JSON.
//! `Mock::service(mocks::mattermost::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "xx7generatedkey";

fn app_error(status: u16, id: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"id": id, "message": message, "detailed_error": "", "request_id": "hoan6o9ws7rp5xj7wu9rmysrte", "status_code": status}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != format!("/chat/hooks/{KEY}") {
            return app_error(
                400,
                "web.incoming_webhook.invalid.app_error",
                "Invalid webhook.",
            );
        }
        if !r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return app_error(
                400,
                "web.incoming_webhook.parse.app_error",
                "Unable to parse incoming data.",
            );
        }
        let b = r.json();
        if b["channel"] == "nowhere" {
            return app_error(
                404,
                "web.incoming_webhook.channel.app_error",
                "Couldn't find the channel.",
            );
        }
        match b["text"].as_str() {
            Some(t) if !t.is_empty() => Reply::text(200, "ok"),
            _ if b["attachments"].is_array() => Reply::text(200, "ok"),
            _ => app_error(
                400,
                "web.incoming_webhook.text.app_error",
                "No text specified.",
            ),
        }
    }
}
