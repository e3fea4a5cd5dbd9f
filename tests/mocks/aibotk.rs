//! A mock of the aibotk API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::aibotk::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// AIBotK: POST `/openapi/v1/chat/<room|contact>`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let b = r.json();
        if b["apiKey"] != "aibotkKey" {
            return Reply::ok(json!({"code": 500, "error": "apiKey无效"}));
        }
        match r.path() {
            "/openapi/v1/chat/room" if b["roomName"].is_string() => {
                Reply::ok(json!({"code": 0, "msg": "success", "data": {}}))
            }
            "/openapi/v1/chat/contact" if b["name"].is_string() => {
                Reply::ok(json!({"code": 0, "msg": "success", "data": {}}))
            }
            _ => Reply::ok(json!({"code": 500, "error": "参数错误"})),
        }
    }
}
