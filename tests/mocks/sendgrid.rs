//! A mock of Twilio SendGrid's v3 Mail Send endpoint, built from its docs
//! (Mail Send, personalizations, the v3 API's and Mail Send's error pages):
//! POST `/v3/mail/send` with `Authorization: Bearer` and JSON
//! `personalizations` (each with a `to`), `from`, `subject`, `content`; 202
//! with no body when queued; errors `{"errors": [{message, field, help}]}`:
//! 401 for an unknown key, 400 for a missing field or a sender that is not
//! verified (only `ci@example.com` is), 429 with `Retry-After` (here: a text
//! containing "storm"; the header written from memory).
//! `Mock::service(mocks::sendgrid::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "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";

fn error(status: u16, field: Option<&str>, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{"message": message, "field": field, "help": null}]}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/v3/mail/send" || r.method != "POST" {
            return error(404, None, "Not Found");
        }
        if r.header("authorization") != Some(format!("Bearer {KEY}").as_str()) {
            return error(
                401,
                None,
                "The provided authorization grant is invalid, expired, or revoked",
            );
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, None, "Bad Request");
        };
        let Some(list) = b["personalizations"].as_array().filter(|l| !l.is_empty()) else {
            return error(
                400,
                Some("personalizations"),
                "The personalizations field is required and must have at least one personalization.",
            );
        };
        if list.iter().any(|p| p["to"][0]["email"].as_str().is_none()) {
            return error(
                400,
                Some("personalizations.0.to"),
                "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
            );
        }
        if b["from"]["email"] != "ci@example.com" {
            return error(
                400,
                Some("from"),
                "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.",
            );
        }
        if b["subject"].as_str().is_none_or(str::is_empty) {
            return error(
                400,
                Some("subject"),
                "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
            );
        }
        let Some(text) = b["content"][0]["value"].as_str().filter(|t| !t.is_empty()) else {
            return error(
                400,
                Some("content.0.value"),
                "The content value must be a string at least one character in length.",
            );
        };
        if text.contains("storm") {
            return error(429, None, "too many requests").header("retry-after", "30");
        }
        Reply::text(202, "")
    }
}
