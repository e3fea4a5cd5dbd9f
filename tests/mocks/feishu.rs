//! A mock of the feishu API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::feishu::api())` serves it.

#![allow(dead_code)]

use crate::support::services::{hmac_b64, now_ms};
use crate::support::{Recorded, Reply};
use serde_json::json;

pub const FS_KEY: &str = "9c1b7c3e-feishu-hook-key";
pub const FS_SECRET: &str = "fsSecretValue123456";

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != format!("/open-apis/bot/v2/hook/{FS_KEY}") {
            return Reply::ok(
                json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}),
            );
        }
        let body = r.json();
        let ts = body["timestamp"].as_str().unwrap_or("0");
        let expected = hmac_b64(format!("{ts}\n{FS_SECRET}").as_bytes(), b"");
        let skew = (now_ms() / 1000).abs_diff(ts.parse::<u64>().unwrap_or(0));
        if body["sign"] != expected.as_str() || skew > 3600 {
            return Reply::ok(
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}}),
            );
        }
        if body.to_string().contains("busy") {
            return Reply::ok(
                json!({"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]", "data": {}}),
            );
        }
        Reply::ok(
            json!({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}),
        )
    }
}
