//! A mock of Twilio's Messages resource, built from its docs (Messages
//! resource "Create a Message", the REST API's error replies and the error
//! dictionary): POST `/2010-04-01/Accounts/{AccountSid}/Messages.json` with
//! Basic auth `AccountSid:AuthToken` and a form `To`, `From` (or
//! `MessagingServiceSid`), `Body` (at most 1,600 characters); 201 with the
//! message (`sid`, `status: "queued"`, `num_segments`); errors
//! `{code, message, more_info, status}`: 401/20003 for a wrong token,
//! 404/20404 for another account's path, 400/21211 for a `To` that is not a
//! number, 400/21608 for a number a trial account has not verified (here:
//! any in +1555019…), 400/21617 for a body over 1,600 characters, 429/20429
//! (here: a body containing "storm"). `Mock::service(mocks::twilio::api())`
//! serves it; `bodies(&mock)` gives what each recipient got.

#![allow(dead_code)]

use crate::support::{Mock, Recorded, Reply};
use base64::Engine as _;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};

pub const SID: &str = "AC3f2b8e0c1d4a5b6c7d8e9f0a1b2c3d4e";
pub const TOKEN: &str = "9c1f0e2d3b4a59687766554433221100";

fn error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"code": code, "message": message,
               "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
               "status": status}),
    )
}

/// E.164 as Twilio reads `To`, or a WhatsApp address of one.
fn is_address(to: &str) -> bool {
    let number = to.strip_prefix("whatsapp:").unwrap_or(to);
    number
        .strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

/// `(To, Body)` of each message the mock accepted, in order.
pub fn bodies(mock: &Mock) -> Vec<(String, String)> {
    mock.requests()
        .iter()
        .filter(|r| r.form("Body").is_some())
        .map(|r| {
            (
                r.form("To").unwrap_or_default(),
                r.form("Body").unwrap_or_default(),
            )
        })
        .collect()
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let sent = AtomicU32::new(0);
    move |r: &Recorded| {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return error(401, 20003, "Authenticate");
        }
        if r.method != "POST" || r.path() != format!("/2010-04-01/Accounts/{SID}/Messages.json") {
            return error(404, 20404, "The requested resource was not found");
        }
        let to = r.form("To").unwrap_or_default();
        if to.is_empty() {
            return error(400, 21604, "A 'To' phone number is required.");
        }
        if !is_address(&to) {
            return error(400, 21211, &format!("Invalid 'To' Phone Number: {to}"));
        }
        if r.form("From").is_none() && r.form("MessagingServiceSid").is_none() {
            return error(400, 21603, "A 'From' phone number is required.");
        }
        let body = r.form("Body").unwrap_or_default();
        if body.is_empty() {
            return error(400, 21602, "Message body is required.");
        }
        if body.chars().count() > 1600 {
            return error(
                400,
                21617,
                "The concatenated message body exceeds the 1600 character limit.",
            );
        }
        if to.contains("+1555019") {
            return error(
                400,
                21608,
                &format!(
                    "The number {to} is unverified. Trial accounts cannot send messages to unverified numbers; verify it at twilio.com/user/account/phone-numbers/verified, or purchase a Twilio number to send messages to unverified numbers"
                ),
            );
        }
        if body.contains("storm") {
            return error(429, 20429, "Too Many Requests");
        }
        let n = sent.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::json(
            201,
            json!({
                "sid": format!("SM{n:032x}"),
                "account_sid": SID,
                "to": to,
                "from": r.form("From"),
                "body": body,
                "status": "queued",
                "num_segments": "1",
                "error_code": null,
                "error_message": null,
                "api_version": "2010-04-01",
            }),
        )
    }
}
