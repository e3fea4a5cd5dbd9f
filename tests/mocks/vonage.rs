//! A mock of Vonage's SMS API, built from its reference (the SMS API's
//! OpenAPI document and its error table) and "Concatenation and Encoding":
//! POST `/sms/json` with Basic auth `KEY:SECRET` and a form `from`, `to`
//! (7 to 15 digits), `text`, `type`; always a 200 with `message-count` and
//! `messages[]`, one entry per SMS part (153 GSM-7 or 67 UCS-2 characters
//! each once the text is longer than one SMS), each `status` `"0"` with a
//! `message-id`, or one entry with a non-zero `status` and `error-text`: 4
//! for wrong credentials, 2 for a missing `to`, 3 for a `to` that is not
//! digits, 29 for a destination a demo account has not whitelisted (here:
//! any in 1555019…), 1 throttled (here: a text containing "storm"). The
//! `error-text` wordings beyond the reference's "Missing to param" are
//! written from memory. `Mock::service(mocks::vonage::api())` serves it;
//! `texts(&mock)` gives `(to, text, type)` of each accepted message.

#![allow(dead_code)]

use crate::support::{Mock, Recorded, Reply};
use base64::Engine as _;
use serde_json::json;

pub const KEY: &str = "a1b2c3d4";
pub const SECRET: &str = "Zx9Yw8Vu7Ts6Rq5P";

fn refused(status: u32, text: &str) -> Reply {
    Reply::json(
        200,
        json!({"message-count": "1", "messages": [{"status": status.to_string(), "error-text": text}]}),
    )
}

/// `(to, text, type)` of each message the mock accepted.
pub fn texts(mock: &Mock) -> Vec<(String, String, Option<String>)> {
    mock.requests()
        .iter()
        .filter(|r| r.form("text").is_some())
        .map(|r| {
            (
                r.form("to").unwrap_or_default(),
                r.form("text").unwrap_or_default(),
                r.form("type"),
            )
        })
        .collect()
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" || r.path() != "/sms/json" {
            return Reply::text(404, "Not Found");
        }
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return refused(4, "Bad Credentials");
        }
        let (Some(from), Some(to), Some(text)) = (r.form("from"), r.form("to"), r.form("text"))
        else {
            return refused(2, "Missing to param");
        };
        if from.is_empty() || text.is_empty() {
            return refused(2, "Missing from or text param");
        }
        if !(7..=15).contains(&to.len()) || !to.chars().all(|c| c.is_ascii_digit()) {
            return refused(3, "Invalid to param");
        }
        if to.starts_with("1555019") {
            return refused(29, "Non White-listed Destination - rejected");
        }
        if text.contains("storm") {
            return refused(
                1,
                "Throughput Rate Exceeded - please wait [ 1000 ] and retry",
            );
        }
        let unicode = r.form("type").as_deref() == Some("unicode");
        let (units, single, part) = if unicode {
            (text.encode_utf16().count(), 70, 67)
        } else {
            (text.chars().count(), 160, 153)
        };
        let parts = if units <= single {
            1
        } else {
            units.div_ceil(part)
        };
        let messages: Vec<_> = (0..parts)
            .map(|i| {
                json!({"to": to, "message-id": format!("0A0000001234567{i:X}"), "status": "0",
                       "remaining-balance": "3.14159265", "message-price": "0.03330000",
                       "network": "12345"})
            })
            .collect();
        Reply::json(
            200,
            json!({"message-count": parts.to_string(), "messages": messages}),
        )
    }
}
