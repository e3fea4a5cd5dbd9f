//! A mock of Pushbullet's push API, built from its documentation: POST
//! `/v2/pushes` with the `Access-Token` header and a JSON note or link, the
//! created push on success, `{"error": {code, type, message}}` otherwise.
//! `Mock::service(mocks::pushbullet::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TOKEN: &str = "o.Fq2Wd8YbtTk0Pushbullet";

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"cat": "~(=^‥^)ノ", "code": code, "type": "invalid_request", "message": message}}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/v2/pushes" {
            return error(404, "not_found", "Object not found.");
        }
        if r.header("access-token") != Some(TOKEN) {
            return error(
                401,
                "invalid_access_token",
                "Access token is missing or invalid.",
            );
        }
        let b = r.json();
        match b["type"].as_str() {
            Some("note") => {}
            Some("link") if b["url"].is_string() => {}
            _ => return error(400, "invalid_param", "Invalid push type."),
        }
        if b["email"].as_str().is_some_and(|e| !e.contains('@')) {
            return error(400, "invalid_param", "Invalid email address.");
        }
        Reply::ok(json!({
            "active": true, "iden": "ujpah72o0sjAoRtnM0jc", "created": 1.41e9, "modified": 1.41e9,
            "type": b["type"], "dismissed": false, "direction": "self",
            "sender_iden": "ujpah72o0", "receiver_iden": "ujpah72o0",
            "title": b["title"], "body": b["body"],
        }))
    }
}
