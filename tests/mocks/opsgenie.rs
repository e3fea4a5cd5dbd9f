//! A mock of Opsgenie's Alert API, built from its documentation (Alert API,
//! Response): POST `/v2/alerts` with `Authorization: GenieKey KEY` and JSON
//! `message` (at most 130 characters), POST
//! `/v2/alerts/{alias}/close?identifierType=alias`; 202 `{result: "Request
//! will be processed", took, requestId}`; errors `{message, took,
//! requestId}`: 401 for a key it does not know, 422 for semantic errors,
//! 429 with `X-RateLimit-State: THROTTLED` (here: a message containing
//! "flood"). `Mock::service(mocks::opsgenie::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "eb243592-faa2-4ba2-a551-1afdf565c889";

fn failure(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"message": message, "took": 0.003, "requestId": "5d1e7d0b-1c2f-4b7c-9d7e-4f1f0b6a2c11"}),
    )
}

fn accepted() -> Reply {
    Reply::json(
        202,
        json!({"result": "Request will be processed", "took": 0.302,
               "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" {
            return failure(405, "Method Not Allowed");
        }
        if r.header("authorization") != Some(format!("GenieKey {KEY}").as_str()) {
            return failure(401, "Could not authenticate");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return failure(400, "Invalid JSON body");
        };
        let path = r.path();
        if path == "/v2/alerts" {
            let message = b["message"].as_str().unwrap_or("");
            if message.is_empty() || message.chars().count() > 130 {
                return Reply::json(
                    422,
                    json!({"message": "Request body is not processable. Please check the errors.",
                           "errors": {"message": "Message can not be empty and can not be longer than 130 characters."},
                           "took": 0.083, "requestId": "0f1e2d3c"}),
                );
            }
            if message.contains("flood") {
                return failure(429, "You are making too many requests! To avoid errors, we recommend you limit requests.")
                    .header("x-ratelimit-state", "THROTTLED")
                    .header("x-ratelimit-period-in-sec", "60");
            }
            return accepted();
        }
        if let Some(alias) = path
            .strip_prefix("/v2/alerts/")
            .and_then(|p| p.strip_suffix("/close"))
            && !alias.is_empty()
        {
            if r.query("identifierType").as_deref() != Some("alias") {
                return failure(422, "Identifier type is not valid");
            }
            return accepted();
        }
        failure(404, "Resource or handler not found")
    }
}
