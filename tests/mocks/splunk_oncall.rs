//! A mock of Splunk On-Call's (VictorOps') REST endpoint, built from its
//! integration guide: POST JSON to
//! `/integrations/generic/20131114/alert/{key}/{routing key}`, only
//! `message_type` required (CRITICAL, WARNING, ACKNOWLEDGEMENT, INFO,
//! RECOVERY, any case); `{"result": "success", "entity_id": …}` on
//! success, `{"result": "failure", "message": …}` otherwise. The guide gives
//! no HTTP status for a failure nor the wording for a wrong key: those are
//! the mock's own. `Mock::service(mocks::splunk_oncall::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const API_KEY: &str = "3f2a6b1c-0d4e-4f5a-8b7c-9d0e1f2a3b4c";
pub const ROUTE: &str = "database";

fn failure(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({"result": "failure", "message": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let Some(rest) = r
            .path()
            .strip_prefix("/integrations/generic/20131114/alert/")
        else {
            return Reply::not_found();
        };
        let Some((key, _route)) = rest.split_once('/') else {
            return Reply::not_found();
        };
        if r.method != "POST" {
            return Reply::not_found();
        }
        if key != API_KEY {
            return failure(403, "Invalid API key");
        }
        let Ok(alert) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return failure(400, "Malformed JSON");
        };
        let known = ["CRITICAL", "WARNING", "ACKNOWLEDGEMENT", "INFO", "RECOVERY"];
        match alert["message_type"].as_str() {
            Some(t) if known.contains(&t.to_ascii_uppercase().as_str()) => {}
            Some(_) => return failure(400, "Invalid message_type"),
            None => return failure(400, "Missing fields: message_type"),
        }
        let entity = alert["entity_id"]
            .as_str()
            .unwrap_or("a1b2c3d4-random")
            .to_string();
        Reply::ok(json!({"result": "success", "entity_id": entity}))
    }
}
