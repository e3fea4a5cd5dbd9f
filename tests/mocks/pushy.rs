//! A mock of Pushy's Send Notifications API, built from its API reference
//! (pushy.me/docs/api, "Send Notifications API"): POST `/push?api_key=KEY`
//! with JSON `to` (device tokens, or topics prefixed `/topics/`), `data`
//! (at most 4 KB) and `notification`; 200 `{"success": true, "id", "info":
//! {"devices"}}`; errors `{"code", "error"}` (written from memory): 401
//! `INVALID_API_KEY`, 400 `INVALID_PARAM` without `to` or `data` or with
//! `data` over 4 KB, 429 `RATE_LIMIT_EXCEEDED` (here: a message containing
//! "storm"). `Mock::service(mocks::pushy::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "6a547f1e7fa1dca83ec11a9210b99dfc87f3935b12415";

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, json!({"code": code, "error": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" || r.path() != "/push" {
            return error(404, "NOT_FOUND", "The requested resource was not found.");
        }
        if r.query("api_key").as_deref() != Some(KEY) {
            return error(
                401,
                "INVALID_API_KEY",
                "The API key you provided is invalid.",
            );
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, "INVALID_PARAM", "Please provide a valid JSON body.");
        };
        let devices = match &b["to"] {
            serde_json::Value::Array(list) if !list.is_empty() => list.len(),
            serde_json::Value::String(s) if !s.is_empty() => 1,
            _ => return error(400, "INVALID_PARAM", "Please provide the 'to' parameter."),
        };
        if !b["data"].is_object() || b["data"].to_string().len() > 4096 {
            return error(
                400,
                "INVALID_PARAM",
                "Please provide 'data' of at most 4kb.",
            );
        }
        if b["data"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("storm")
        {
            return error(
                429,
                "RATE_LIMIT_EXCEEDED",
                "You have exceeded the rate limit.",
            );
        }
        Reply::ok(json!({"success": true, "id": "5ea9b214b47cad768a35f13a",
                         "info": {"devices": devices}}))
    }
}
