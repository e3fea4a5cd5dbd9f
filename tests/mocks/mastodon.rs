//! A mock of a Mastodon instance's statuses API, built from Mastodon's docs
//! (docs.joinmastodon.org, "statuses API methods", Post a new status): POST
//! `/api/v1/statuses` with `Authorization: Bearer` and form data `status`,
//! `visibility`, `spoiler_text`, `language`; the posted Status (its `id`) on
//! success; 401 `{"error": "The access token is invalid"}`; 422
//! `{"error": "Validation failed: ..."}` for a blank text, a text over the
//! default 500 characters (that wording written from memory) or an unknown
//! visibility; an `Idempotency-Key` seen before answers the status it
//! posted then, without posting again; 429 (here: a status containing
//! "storm", its `X-RateLimit-*` headers written from memory of the rate
//! limits page). `Mock::service(mocks::mastodon::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

pub const TOKEN: &str = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0";

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({"error": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    // Idempotency-Key -> the id of the status it posted.
    let seen = Mutex::new(HashMap::<String, String>::new());
    move |r: &Recorded| {
        if r.path() != "/api/v1/statuses" || r.method != "POST" {
            return error(404, "Record not found");
        }
        if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
            return error(401, "The access token is invalid");
        }
        let status = r.form("status").unwrap_or_default();
        if status.trim().is_empty() {
            return error(422, "Validation failed: Text can't be blank");
        }
        if status.chars().count() > 500 {
            return error(
                422,
                "Validation failed: Text character limit of 500 exceeded",
            );
        }
        let visibility = r.form("visibility").unwrap_or_else(|| "public".into());
        if !["public", "unlisted", "private", "direct"].contains(&visibility.as_str()) {
            return error(
                422,
                "Validation failed: Visibility is not included in the list",
            );
        }
        if status.contains("storm") {
            return error(429, "Too many requests")
                .header("x-ratelimit-limit", "300")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "2026-12-04T05:00:00.000Z");
        }
        let mut seen = seen.lock().unwrap();
        let next = format!("1132549621552788{:02}", seen.len());
        let id = match r.header("idempotency-key") {
            Some(key) => seen.entry(key.to_string()).or_insert(next).clone(),
            None => next,
        };
        Reply::ok(json!({
            "id": id, "created_at": "2026-12-04T04:20:00.000Z", "visibility": visibility,
            "content": format!("<p>{status}</p>"), "spoiler_text": r.form("spoiler_text").unwrap_or_default(),
            "url": format!("https://mastodon.example/@ci/{id}"),
            "account": {"id": "1", "username": "ci", "acct": "ci"},
        }))
    }
}
