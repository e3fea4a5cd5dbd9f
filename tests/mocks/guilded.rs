//! A mock of Guilded's webhook execution, built from the Guilded API
//! reference's webhook resource (guildedapi.com, "Execute Webhook"): POST
//! `/webhooks/{id}/{token}` with JSON `content` (1 to 2,000 characters)
//! and/or `embeds`, `username` (at most 128), `avatar_url`; the message
//! object (`id`) on success; 404 for an unknown webhook or token, 400 for a
//! body without content or embeds, or content over 2,000 characters; 429
//! with `Retry-After` (here: a message containing "storm"). The error body
//! `{"code", "message"}` is written from memory.
//! `Mock::service(mocks::guilded::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const ID: &str = "5b3723f8-c82e-404d-bb56-02bbfb242e47";
pub const TOKEN: &str =
    "yXEUjW1HskqGwsCWZBqGiYW4MGWAWq0sqCp8igYgQWcgNmYMu6gswa24CgoE2Akqk00YS8GYMkeqKUKKlAUYua";

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, json!({"code": code, "message": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" || r.path() != format!("/webhooks/{ID}/{TOKEN}") {
            return error(404, "NotFoundError", "Webhook not found");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, "BadRequestError", "Invalid JSON body");
        };
        let content = b["content"].as_str().unwrap_or("");
        if content.is_empty() && b["embeds"].as_array().is_none_or(Vec::is_empty) {
            return error(
                400,
                "BadRequestError",
                "One of content or embeds is required",
            );
        }
        if content.chars().count() > 2000 {
            return error(
                400,
                "BadRequestError",
                "content must be at most 2000 characters",
            );
        }
        if b["username"]
            .as_str()
            .is_some_and(|u| u.chars().count() > 128)
        {
            return error(
                400,
                "BadRequestError",
                "username must be at most 128 characters",
            );
        }
        if content.contains("storm") {
            return error(429, "TooManyRequestsError", "Too many requests")
                .header("retry-after", "12");
        }
        Reply::ok(json!({
            "id": "9f2c0b7e-0d1a-4f4e-9a55-2b7d3c1e8f00",
            "channelId": "b1b9451a-f758-4e49-aa81-0b148939ffeb",
            "content": content, "createdBy": "Ann6LewA", "createdByWebhookId": ID,
            "createdAt": "2026-12-04T05:00:00.000Z",
        }))
    }
}
