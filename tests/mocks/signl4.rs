//! A mock of SIGNL4's inbound webhook, built from its documentation
//! (docs.signl4.com and the support article "HTTP details"): POST
//! `/webhook/{teamSecret}` with a JSON event; 201 and the event's
//! `eventId` when received, 400 for a body that is not the JSON its content
//! type says, 404 for a wrong webhook URL, 405 for another method, 429 when
//! requests come too fast. The documentation's example error bodies are cut
//! short in the copy at hand, so the mock's error wording is its own.
//! `Mock::service(mocks::signl4::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const SECRET: &str = "g93sdfm2843";
/// A team whose webhook is blocked for a while after too many events.
pub const FLOODED: &str = "fl00dedteam7";

pub const EVENT_ID: &str = "2518981069381242800_2ab1b5e0-f1b7-4c3e-9adf-6c157eeb4685";

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let Some(secret) = r.path().strip_prefix("/webhook/") else {
            return Reply::not_found();
        };
        if r.method != "POST" {
            return Reply::json(405, json!({"message": "Only POST is supported."}));
        }
        match secret {
            SECRET => {}
            FLOODED => {
                return Reply::json(429, json!({"message": "Too many requests."}))
                    .header("retry-after", "60");
            }
            _ => return Reply::json(404, json!({"message": "Team not found."})),
        }
        let json_body = r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"));
        match serde_json::from_slice::<serde_json::Value>(&r.body) {
            Ok(v) if json_body && v.is_object() => Reply::json(201, json!({"eventId": EVENT_ID})),
            _ => Reply::json(400, json!({"message": "The request body is invalid."})),
        }
    }
}
