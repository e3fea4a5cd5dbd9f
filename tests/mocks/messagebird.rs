//! A mock of MessageBird's SMS API, built from its reference (Messages,
//! "Send outbound SMS", rate limiting, error handling): POST `/messages`
//! with `Authorization: AccessKey KEY` and JSON `{recipients (at most 50),
//! originator, body (at most 1,377 characters), datacoding}`; 201 with the
//! message (`id`, `recipients.items[]` each `status: "sent"`); errors
//! `{errors: [{code, description, parameter}]}`: 401 code 2 for a wrong
//! key, 422 code 9 when no recipient is a valid number (here: any in
//! 1555019…), 422 code 10 for a body over 1,377 characters, 429 (here: a
//! body containing "storm"). The codes' wordings are written from memory.
//! `Mock::service(mocks::messagebird::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "vH1AN9ZeUnvoLbEaFq2hWe8J7";

fn error(status: u16, code: u32, description: &str, parameter: &str) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{"code": code, "description": description, "parameter": parameter}]}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.header("authorization") != Some(format!("AccessKey {KEY}").as_str()) {
            return error(
                401,
                2,
                "Request not allowed (incorrect access_key)",
                "access_key",
            );
        }
        if r.method != "POST" || r.path() != "/messages" {
            return error(404, 20, "resource not found", "");
        }
        let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let recipients: Vec<&str> = b["recipients"]
            .as_array()
            .map(|l| l.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if recipients.len() > 50 {
            return error(
                422,
                10,
                "recipients can hold at most 50 numbers",
                "recipients",
            );
        }
        let valid: Vec<&&str> = recipients
            .iter()
            .filter(|n| (7..=15).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()))
            .filter(|n| !n.starts_with("1555019"))
            .collect();
        if valid.is_empty() {
            return error(422, 9, "no (correct) recipients found", "recipients");
        }
        let body = b["body"].as_str().unwrap_or_default();
        if body.is_empty() || b["originator"].as_str().is_none_or(str::is_empty) {
            return error(422, 9, "originator and body are required", "body");
        }
        if body.chars().count() > 1377 {
            return error(422, 10, "body is too long", "body");
        }
        if body.contains("storm") {
            return Reply::text(429, "");
        }
        let items: Vec<_> = valid
            .iter()
            .map(|n| json!({"recipient": n.parse::<u64>().unwrap_or_default(), "status": "sent", "messagePartCount": 1}))
            .collect();
        Reply::json(
            201,
            json!({"id": "b5d424244a5b4fd0b5b5728bccaafc23",
                   "href": "https://rest.messagebird.com/messages/b5d424244a5b4fd0b5b5728bccaafc23",
                   "direction": "mt", "type": "sms", "originator": b["originator"], "body": body,
                   "datacoding": b["datacoding"],
                   "recipients": {"totalCount": items.len(), "totalSentCount": items.len(),
                                  "totalDeliveredCount": 0, "totalDeliveryFailedCount": 0,
                                  "items": items}}),
        )
    }
}
