//! A mock of Sinch's SMS REST API, built from its reference (Batches,
//! "Send") and its status-code page: POST
//! `/xms/v1/{service_plan_id}/batches` with `Authorization: Bearer TOKEN`
//! and JSON `{from, to: [...], body}` (`body` at most 2,000 characters);
//! 201 with the batch (`id`, `to`, `body`, `type: "mt_text"`); errors
//! `{code, text}`: 401 with an empty body for a wrong token, 403
//! `missing_service` for another service plan, 400
//! `syntax_constraint_violation` for a missing field or a body over 2,000
//! characters, 400 `syntax_invalid_parameter_format` for a number that is
//! not E.164, 403 `illegal_number_type` (here: any in +1555019…), 429
//! (here: a body containing "storm"). The `text` wordings are written from
//! memory. `Mock::service(mocks::sinch::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const PLAN: &str = "jd63jf88477ll123ab4567cd89012ef3";
pub const TOKEN: &str = "5f2c9b1e8d7a6f4e3c2b1a0f9e8d7c6b";

fn coded(status: u16, code: &str, text: &str) -> Reply {
    Reply::json(status, json!({"code": code, "text": text}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
            return Reply::text(401, "");
        }
        let Some(plan) = r
            .path()
            .strip_prefix("/xms/v1/")
            .and_then(|p| p.strip_suffix("/batches"))
        else {
            return Reply::text(404, "");
        };
        if r.method != "POST" {
            return Reply::text(405, "");
        }
        if plan != PLAN {
            return coded(403, "missing_service", &format!("Service {plan} not found"));
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return coded(400, "syntax_invalid_json", "The JSON input is invalid");
        };
        let (Some(to), Some(body)) = (b["to"].as_array(), b["body"].as_str()) else {
            return coded(
                400,
                "syntax_constraint_violation",
                "to and body are required",
            );
        };
        if body.chars().count() > 2000 {
            return coded(
                400,
                "syntax_constraint_violation",
                "body: size must be between 0 and 2000",
            );
        }
        for number in to {
            let n = number.as_str().unwrap_or_default();
            let digits = n.strip_prefix('+').unwrap_or(n);
            if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
                return coded(
                    400,
                    "syntax_invalid_parameter_format",
                    &format!("Invalid MSISDN format: {n}"),
                );
            }
            if digits.starts_with("1555019") {
                return coded(
                    403,
                    "illegal_number_type",
                    &format!("Illegal number type: {n}"),
                );
            }
        }
        if body.contains("storm") {
            return Reply::text(429, "");
        }
        Reply::json(
            201,
            json!({"id": "01FC66621XXXXX119Z8PMV1QPQ", "from": b["from"], "to": to,
                   "body": body, "type": "mt_text", "canceled": false,
                   "delivery_report": "none", "created_at": "2020-01-14T01:05:20.694Z"}),
        )
    }
}
