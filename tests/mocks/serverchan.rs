//! A mock of the serverchan API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::serverchan::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const SC_KEY: &str = "SCT123456TsecretSendKey";
pub const SC3_KEY: &str = "sctp4321tSecretSc3Key";

/// ServerChan: Turbo at `/<key>.send`, ServerChan³ at `/send/<key>.send`,
/// form `title` and `desp`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let path = r.path();
        if path != format!("/{SC_KEY}.send") && path != format!("/send/{SC3_KEY}.send") {
            return Reply::ok(json!({"code": 40001, "message": "bad pushkey", "data": null}));
        }
        if r.form("title").unwrap_or_default().is_empty() {
            return Reply::ok(json!({"code": 40001, "message": "标题不能为空", "data": null}));
        }
        if path.starts_with("/send/") {
            return Reply::ok(
                json!({"code": 0, "message": "SUCCESS", "errno": 0, "data": {"pushid": "1", "meta": {}}}),
            );
        }
        Reply::ok(
            json!({"code": 0, "message": "", "data": {"pushid": "123", "readkey": "abc", "error": "SUCCESS", "errno": 0}}),
        )
    }
}
