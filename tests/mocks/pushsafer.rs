//! A mock of Pushsafer's message API, built from its documentation
//! (pushsafer.com/en/pushapi and pushapi_ext: POST a form to `/api`, `k` and
//! `m` required, `d` a device, a group `gs…` or `a`, `t` at most 255
//! characters, `m` at most 5,000) and the replies Pushsafer's own Java client
//! reads: `{"status": 1, "success": "message transmitted", …}`, or
//! `{"status": 0, "error": …}` with the HTTP statuses 250 (invalid key), 270
//! (invalid device), 275 (invalid device group) and 280 (not enough API
//! calls). Its success reply carries a second JSON object, as Home
//! Assistant's tests say Pushsafer's can. The wording of a refusal for a
//! missing or over-long field is the mock's own: the docs give the rules,
//! not the reply.
//! `Mock::service(mocks::pushsafer::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

/// A private key (20 characters).
pub const KEY: &str = "Xk2Pq9Rt4Vw7Yz1Ab3Cd";
/// A private key whose account has no API calls left.
pub const SPENT_KEY: &str = "Sp3ntSp3ntSp3ntSp3nt";

fn refusal(status: u16, error: &str) -> Reply {
    Reply::json(status, json!({"status": 0, "error": error}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/api" || r.method != "POST" {
            return Reply::not_found();
        }
        let field = |name: &str| r.form(name).unwrap_or_default();
        match field("k").as_str() {
            KEY => {}
            SPENT_KEY => return refusal(280, "not enough API calls"),
            _ => return refusal(250, "invalid key"),
        }
        let device = field("d");
        if device.starts_with("gs") && device != "gs23" {
            return refusal(275, "invalid device group");
        }
        if !["", "a", "gs23", "52"].contains(&device.as_str()) {
            return refusal(270, "invalid device");
        }
        if field("m").is_empty() {
            return refusal(250, "message is required");
        }
        if field("t").chars().count() > 255 || field("m").chars().count() > 5000 {
            return refusal(250, "title or message too long");
        }
        let mut reply = Reply::ok(json!({
            "status": 1, "success": "message transmitted", "available": 921,
            "message_ids": "59693451:52",
        }));
        reply
            .body
            .push_str(r#"{"available":{"52":{"Apple iPhone":"920"}}}"#);
        reply
    }
}
