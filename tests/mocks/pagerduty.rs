//! A mock of PagerDuty's Events API v2, built from its documentation
//! ("Send an Alert Event", "Response Codes & Retry Logic"): POST
//! `/v2/enqueue` with JSON `routing_key` (32 characters), `event_action`
//! and, for a trigger, `payload.summary`, `payload.source` and
//! `payload.severity`; 202 `{status: "success", message: "Event processed",
//! dedup_key}` (a key made up when a trigger has none); 400 `{status:
//! "invalid event", message: "Event object is invalid", errors}` for a bad
//! event; 429 when there are too many (here: a summary containing "storm";
//! the 429 body's wording is not documented and written from memory).
//! `Mock::service(mocks::pagerduty::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "e93facc04764012d7bfb002500d5d1a6";

fn invalid(error: &str) -> Reply {
    Reply::json(
        400,
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": [error]}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/v2/enqueue" || r.method != "POST" {
            return Reply::json(404, json!({"status": "Not Found", "message": "Not Found"}));
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return invalid("Event object is not valid JSON");
        };
        if b["routing_key"].as_str().map(str::len) != Some(32) {
            return invalid("Length of 'routing_key' is incorrect (should be 32 characters)");
        }
        let dedup_key = b["dedup_key"].as_str();
        match b["event_action"].as_str() {
            Some("trigger") => {
                let p = &b["payload"];
                for field in ["summary", "source"] {
                    if p[field].as_str().is_none_or(str::is_empty) {
                        return invalid(&format!("'payload.{field}' is missing or blank"));
                    }
                }
                if !["critical", "error", "warning", "info"]
                    .contains(&p["severity"].as_str().unwrap_or(""))
                {
                    return invalid("'payload.severity' is invalid");
                }
                if p["summary"].as_str().unwrap().chars().count() > 1024 {
                    return invalid("'payload.summary' is too long (maximum is 1024 characters)");
                }
                if p["summary"].as_str().unwrap().contains("storm") {
                    return Reply::json(
                        429,
                        json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly.  Please retry later."}),
                    );
                }
            }
            Some("acknowledge" | "resolve") if dedup_key.is_none() => {
                return invalid("'dedup_key' is missing or blank");
            }
            Some("acknowledge" | "resolve") => {}
            _ => return invalid("'event_action' is invalid"),
        }
        Reply::json(
            202,
            json!({"status": "success", "message": "Event processed",
                   "dedup_key": dedup_key.unwrap_or("srv01/mysql-8f1e2b")}),
        )
    }
}
