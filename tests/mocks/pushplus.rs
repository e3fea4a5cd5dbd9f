//! A mock of the pushplus API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::pushplus::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let busy = Arc::new(AtomicU64::new(0));
    move |r: &Recorded| {
        if r.path() != "/send" {
            return Reply::not_found();
        }
        let b = r.json();
        // pushplus.plus/doc/guide/code.html: 903 an invalid token, 999 a
        // request that fails validation (never worth repeating), 500 a
        // passing system error.
        if b["token"] != "pp-token-0123456789" {
            return Reply::ok(json!({"code": 903, "msg": "无效的用户token", "data": null}));
        }
        if b["content"].as_str().unwrap_or("").is_empty() {
            return Reply::ok(json!({"code": 999, "msg": "内容不能为空", "data": null}));
        }
        if b["title"] == "系统繁忙" && busy.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::ok(json!({"code": 500, "msg": "系统异常，请稍后再试", "data": null}));
        }
        Reply::ok(json!({"code": 200, "msg": "请求成功", "data": "f9c9d5bc0a1d4e8b"}))
    }
}
