//! A mock of the wxpusher API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::wxpusher::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// WxPusher: `/api/send/message` and `/api/send/message/simple-push`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let b = r.json();
        match r.path() {
            "/api/send/message" if b["appToken"] == "AT_wxpusherToken" => Reply::ok(
                json!({"code": 1000, "msg": "处理成功", "data": [{"uid": "UID_1", "messageId": 1, "code": 1000, "status": "创建发送任务成功"}], "success": true}),
            ),
            "/api/send/message" => Reply::ok(
                json!({"code": 1001, "msg": "appToken不正确", "data": null, "success": false}),
            ),
            "/api/send/message/simple-push"
                if b["spt"] == "SPT_one" || b["sptList"] == json!(["SPT_one", "SPT_two"]) =>
            {
                Reply::ok(json!({"code": 1000, "msg": "处理成功", "data": [], "success": true}))
            }
            "/api/send/message/simple-push" => {
                Reply::ok(json!({"code": 1001, "msg": "spt不正确", "data": null, "success": false}))
            }
            _ => Reply::not_found(),
        }
    }
}
