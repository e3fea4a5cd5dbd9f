//! A mock of the pushdeer API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::pushdeer::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// PushDeer: form `text`, `desp`, `type`, `pushkey` at `/message/push`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/message/push" {
            return Reply::not_found();
        }
        if r.form("pushkey").as_deref() != Some("PDU1TdeerKey") {
            return Reply::ok(json!({"code": 80501, "error": "key不存在或没有权限"}));
        }
        Reply::ok(
            json!({"code": 0, "content": {"result": ["{\"counts\":1,\"logs\":[],\"success\":\"ok\"}"]}}),
        )
    }
}
