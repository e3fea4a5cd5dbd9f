//! A mock of the discord API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::discord::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next_id = Arc::new(AtomicU64::new(1_100_000_000_000_000_000));
    move |r: &Recorded| {
        let Some(rest) = r.path().strip_prefix("/api/webhooks/111/tok-en") else {
            return Reply::json(404, json!({"message": "Unknown Webhook", "code": 10015}));
        };
        let body = r.json();
        let content = body["content"].as_str().unwrap_or("");
        if content.chars().count() > 2000 {
            return Reply::json(
                400,
                json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}),
            );
        }
        if content.contains("slow") {
            return Reply::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
            )
            .header("retry-after", "2");
        }
        match (r.method.as_str(), rest) {
            ("POST", "") if r.query("wait").as_deref() == Some("true") => {
                let id = next_id.fetch_add(1, Ordering::SeqCst).to_string();
                Reply::ok(json!({"id": id, "type": 0, "content": content, "channel_id": "9"}))
            }
            ("PATCH", m) if m.starts_with("/messages/") => Reply::ok(
                json!({"id": &m["/messages/".len()..], "type": 0, "content": content, "edited_timestamp": "2026-01-01T00:00:00+00:00"}),
            ),
            _ => Reply::json(
                405,
                json!({"message": "405: Method Not Allowed", "code": 0}),
            ),
        }
    }
}
