//! A mock of ClickSend's REST v3 "Send SMS", built from its docs (the v3
//! introduction's Basic auth and status codes, the SMS reference's request
//! and reply): POST `/v3/sms/send` with Basic auth `USERNAME:API_KEY` and
//! JSON `{messages: [{body, to, from?, source?}]}`; a 200 envelope
//! `{http_code, response_code: "SUCCESS", response_msg: "Messages queued
//! for delivery.", data: {total_count, queued_count, messages: [...],
//! blocked_count}}` with each message's own `status`: `SUCCESS`, or
//! `INVALID_RECIPIENT` for a `to` that is not E.164 or is in +1555019…
//! (the v3 status names written from memory); 401 `UNAUTHORIZED` for wrong
//! credentials, 400 `BAD_REQUEST` for a body without `messages`, 429
//! `TOO_MANY_REQUESTS` (here: a body containing "storm").
//! `Mock::service(mocks::clicksend::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;

pub const USERNAME: &str = "ops@example.com";
pub const KEY: &str = "A1B2C3D4-E5F6-A7B8-C9D0-E1F2A3B4C5D6";

fn envelope(status: u16, code: &str, text: &str) -> Reply {
    Reply::json(
        status,
        json!({"http_code": status, "response_code": code, "response_msg": text, "data": null}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{KEY}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return envelope(401, "UNAUTHORIZED", "Unauthorized - Invalid Token.");
        }
        if r.method != "POST" || r.path() != "/v3/sms/send" {
            return envelope(404, "NOT_FOUND", "Not found.");
        }
        let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let Some(list) = b["messages"].as_array().filter(|l| !l.is_empty()) else {
            return envelope(400, "BAD_REQUEST", "Invalid request.");
        };
        if list
            .iter()
            .any(|m| m["body"].as_str().unwrap_or_default().contains("storm"))
        {
            return envelope(429, "TOO_MANY_REQUESTS", "Too many requests.");
        }
        let messages: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let to = m["to"].as_str().unwrap_or_default();
                let digits = to.strip_prefix('+').unwrap_or_default();
                let valid = (7..=15).contains(&digits.len())
                    && digits.chars().all(|c| c.is_ascii_digit())
                    && !digits.starts_with("1555019");
                json!({"direction": "out", "to": to, "body": m["body"], "from": m["from"],
                       "message_id": format!("1ABC3200-C38C-6308-BE4B-C7C51D01DC{i:02X}"),
                       "message_parts": 1, "message_price": 0.0792,
                       "status": if valid { "SUCCESS" } else { "INVALID_RECIPIENT" }})
            })
            .collect();
        Reply::json(
            200,
            json!({"http_code": 200, "response_code": "SUCCESS",
                   "response_msg": "Messages queued for delivery.",
                   "data": {"total_price": 0.0792, "total_count": messages.len(),
                            "queued_count": messages.len(), "messages": messages,
                            "blocked_count": 0}}),
        )
    }
}
