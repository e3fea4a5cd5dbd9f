//! A mock of Webex's incoming webhooks, built from Webex's docs (the
//! incoming-webhook integration, REST API basics and errors): POST
//! `/v1/webhooks/incoming/{token}` with JSON `text` or `markdown`, 204 with
//! no body on success; errors `{message, errors: [{description}],
//! trackingId}`: 404 for a token it does not know, 400 for a message over
//! 7,439 bytes (the wording written from memory), 429 with `Retry-After`
//! (here: a message containing "storm"). `Mock::service(mocks::webex::api())`
//! serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TOKEN: &str =
    "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svOTk4ZjNlMWEtMmI0Yy00ZDVlLTlmNmEtN2I4YzlkMGUxZjJh";

fn error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"message": message, "errors": [{"description": message}],
               "trackingId": "ROUTER_6A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9"}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != format!("/v1/webhooks/incoming/{TOKEN}") {
            return error(404, "The requested resource could not be found.");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, "Unable to parse the request body.");
        };
        let Some(text) = b["markdown"].as_str().or(b["text"].as_str()) else {
            return error(400, "Message text or markdown is required.");
        };
        if text.len() > 7439 {
            return error(400, "Message length exceeds the maximum of 7439 bytes.");
        }
        if text.contains("storm") {
            return Reply::text(429, "").header("retry-after", "12");
        }
        Reply::text(204, "")
    }
}
