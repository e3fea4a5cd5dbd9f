//! A mock of Resend's e-mail API, built from its API reference: POST
//! `/emails` with `Authorization: Bearer …` and JSON `from`, `to` (a string
//! or up to 50 in an array), `subject`, `html`/`text`; `{"id": …}` on
//! success; errors `{statusCode, message, name}` as its "Errors" page lists
//! them (401 `missing_api_key`, 403 `invalid_api_key`, 403
//! `validation_error` for a sender on an unverified domain, 422
//! `missing_required_field`). An `Idempotency-Key` seen before is answered
//! with the first send's id. `Mock::service(mocks::resend::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

pub const KEY: &str = "re_Mock5kq2Vb7Yz1Ab3Cd9Ef";

fn error(status: u16, name: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"statusCode": status, "message": message, "name": name}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let seen: Mutex<HashMap<String, String>> = Mutex::default();
    move |r: &Recorded| {
        if r.path() != "/emails" {
            return error(404, "not_found", "The requested endpoint does not exist.");
        }
        if r.method != "POST" {
            return error(
                405,
                "method_not_allowed",
                "Method is not allowed for the requested path.",
            );
        }
        match r.header("authorization") {
            None => {
                return error(
                    401,
                    "missing_api_key",
                    "Missing API key in the authorization header.",
                );
            }
            Some(a) if a != format!("Bearer {KEY}") => {
                return error(403, "invalid_api_key", "API key is invalid.");
            }
            Some(_) => {}
        }
        let b = r.json();
        let to_count = match &b["to"] {
            serde_json::Value::String(_) => 1,
            serde_json::Value::Array(a) => a.len(),
            _ => 0,
        };
        if b["from"].as_str().is_none() || to_count == 0 || b["subject"].as_str().is_none() {
            return error(
                422,
                "missing_required_field",
                "The request body is missing one or more required fields.",
            );
        }
        if to_count > 50 {
            return error(422, "validation_error", "Too many recipients in `to`.");
        }
        let from = b["from"].as_str().unwrap_or_default();
        let domain = from
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .trim_end_matches('>');
        if domain != "example.com" {
            return error(
                403,
                "validation_error",
                &format!(
                    "The {domain} domain is not verified. Please, add and verify your domain."
                ),
            );
        }
        let mut seen = seen.lock().unwrap();
        let id = format!("49a3999c-0ce1-4ea6-ab68-{:012}", seen.len() + 1);
        let id = match r.header("idempotency-key") {
            Some(k) => seen.entry(k.to_string()).or_insert(id).clone(),
            None => id,
        };
        Reply::ok(json!({"id": id}))
    }
}
