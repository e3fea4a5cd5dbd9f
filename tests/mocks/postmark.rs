//! A mock of Postmark's Email API, built from its API reference: POST
//! `/email` with `X-Postmark-Server-Token` and JSON `From`, `To` (comma
//! separated, at most 50), `Subject`, `TextBody`/`HtmlBody`; the reply
//! `{To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK"}`; a wrong token
//! is HTTP 401 with ErrorCode 10, other refusals HTTP 422 with the codes of
//! Postmark's table (400 sender signature not found, 406 inactive
//! recipient). The messages' wording is the table's names, not Postmark's
//! full sentences. `Mock::service(mocks::postmark::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TOKEN: &str = "b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
/// A recipient that hard-bounced before: Postmark keeps it inactive.
pub const INACTIVE: &str = "gone@example.com";

fn error(status: u16, code: i64, message: &str) -> Reply {
    Reply::json(status, json!({"ErrorCode": code, "Message": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/email" || r.method != "POST" {
            return Reply::not_found();
        }
        if r.header("x-postmark-server-token") != Some(TOKEN) {
            return error(401, 10, "Bad or missing API token");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(422, 402, "Invalid JSON");
        };
        let to = b["To"].as_str().unwrap_or_default();
        let recipients: Vec<&str> = to
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        if b["From"].as_str().is_none() || recipients.is_empty() || recipients.len() > 50 {
            return error(422, 300, "Invalid email request");
        }
        if b["TextBody"].as_str().is_none() && b["HtmlBody"].as_str().is_none() {
            return error(422, 300, "Invalid email request");
        }
        if !b["From"]
            .as_str()
            .unwrap_or_default()
            .contains("@example.com")
        {
            return error(422, 400, "Sender signature not found");
        }
        if recipients.contains(&INACTIVE) {
            return error(422, 406, "Inactive recipient");
        }
        Reply::ok(json!({
            "To": to, "SubmittedAt": "2014-02-17T07:25:01.4178645-05:00",
            "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d", "ErrorCode": 0, "Message": "OK",
        }))
    }
}
