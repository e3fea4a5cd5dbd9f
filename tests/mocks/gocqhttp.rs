//! A mock of the gocqhttp API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::gocqhttp::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// go-cqhttp: GET `/send_private_msg?user_id&message&access_token`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.query("access_token").as_deref() != Some("cq-token-123") {
            return Reply::json(
                401,
                json!({"status": "failed", "retcode": 1403, "msg": "token验证失败", "wording": "token验证失败"}),
            );
        }
        if r.path() != "/send_private_msg" || r.query("user_id").is_none() {
            return Reply::ok(
                json!({"status": "failed", "retcode": 100, "msg": "API_ERROR", "wording": "请参考 go-cqhttp 端输出"}),
            );
        }
        Reply::ok(json!({"status": "ok", "retcode": 0, "data": {"message_id": 123}}))
    }
}
