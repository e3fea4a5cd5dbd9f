//! A mock of SimplePush's Message API, built from its docs (simplepush.io/
//! api: a request to `https://simplepu.sh` with `key`, `msg`, optional
//! `title` and `event`, as a form or JSON) and Apprise's reading of the
//! reply (`status: "OK"`, else the reason in `message`): `{"status":
//! "OK"}` for the key `KEY`; `{"status": "error", "message": …}` for an
//! unknown key or a missing `msg` (the wording written from memory); 429
//! (here: a message containing "storm").
//! `Mock::service(mocks::simplepush::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "HuxgBB";

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({"status": "error", "message": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" || r.path() != "/" {
            return Reply::text(404, "Not Found");
        }
        if r.form("key").as_deref() != Some(KEY) {
            return error(200, "Invalid key");
        }
        let Some(msg) = r.form("msg").filter(|m| !m.is_empty()) else {
            return error(400, "Missing parameter: msg");
        };
        if msg.contains("storm") {
            return Reply::text(429, "Too Many Requests");
        }
        Reply::ok(json!({"status": "OK"}))
    }
}
