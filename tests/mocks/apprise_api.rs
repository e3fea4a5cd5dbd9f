//! A mock of an apprise-api server's `/notify/{KEY}`, built from its README
//! and its `NotifyView`: POST JSON `body` (required), `title`, `type`,
//! `format`, `tag`; 200 "Notification(s) sent."; 204 when the key has no
//! configuration; 400 for a bad payload; 424 when a service behind it
//! failed (here: a body containing "fail"); errors as `{"error"}` when the
//! client accepts JSON. The server here lives under the prefix `/api` or at
//! the root, and asks for HTTP Basic auth only when a request carries it.
//! `Mock::service(mocks::apprise_api::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;

pub const KEY: &str = "ci-abc123";

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({ "error": message }))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let path = r.path().strip_prefix("/api").unwrap_or(r.path());
        let Some(key) = path.strip_prefix("/notify/") else {
            return Reply::text(404, "Not Found");
        };
        if let Some(auth) = r.header("authorization") {
            let good = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("ci:pw")
            );
            if auth != good {
                return Reply::text(401, "Unauthorized");
            }
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, "Invalid JSON specified.");
        };
        let body = b["body"].as_str().unwrap_or("");
        if body.is_empty()
            || !["info", "success", "warning", "failure"]
                .contains(&b["type"].as_str().unwrap_or("info"))
        {
            return error(400, "An invalid payload was specified.");
        }
        if key != KEY {
            return error(204, "There was no configuration found.");
        }
        if body.contains("fail") {
            return error(424, "One or more notification could not be sent.");
        }
        Reply::text(200, "Notification(s) sent.")
    }
}
