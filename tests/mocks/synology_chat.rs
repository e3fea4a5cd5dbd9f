//! A mock of the synology chat API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::synology_chat::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// Synology Chat: the webhook with `token`, form `payload={"text":…}`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/webapi/entry.cgi"
            || r.query("api").as_deref() != Some("SYNO.Chat.External")
        {
            return Reply::not_found();
        }
        if r.query("token").as_deref() != Some("synoToken99") {
            return Reply::ok(
                json!({"error": {"code": 404, "errors": "invalid token"}, "success": false}),
            );
        }
        let payload: serde_json::Value =
            serde_json::from_str(&r.form("payload").unwrap_or_default()).unwrap_or_default();
        if payload["text"].as_str().is_none() {
            return Reply::ok(
                json!({"error": {"code": 120, "errors": {"name": "payload", "reason": "required"}}, "success": false}),
            );
        }
        Reply::ok(json!({"success": true}))
    }
}
