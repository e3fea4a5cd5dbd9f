//! A mock of BulkSMS's JSON REST API, built from its reference (the v1
//! OpenAPI document: Send Messages, `deduplication-id`, the Error and
//! Message schemas): POST `/v1/messages` with Basic auth `USER:PASSWORD` and
//! an array of `{to: [...], body, encoding?, longMessageMaxParts?}`; 201
//! with a message per recipient, `status.type` `ACCEPTED`, or `FAILED` with
//! `status.id` `FAILED.BLOCKED` for a number in +1555019… (a recipient who
//! replied STOP); a submission whose `deduplication-id` it has seen is
//! answered as before without sending again; errors `{type, title, status,
//! detail?}`: 401 for wrong credentials, 400 for a body that is not an
//! array of entries with `to` and `body`, 403 "Insufficient Credits" (here:
//! a body containing "credit"), 429 (here: "storm"; the 429 is written from
//! memory). `Mock::service(mocks::bulksms::api())` serves it; `sent(&mock)`
//! gives each text and the recipient it went to, once per recipient.

#![allow(dead_code)]

use crate::support::{Mock, Recorded, Reply};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

pub const USER: &str = "ops";
pub const PASSWORD: &str = "9jSbVDK20MXdfRGiIIFuffUE8S";

fn problem(status: u16, title: &str, detail: Option<&str>, kind: &str) -> Reply {
    let mut v = json!({"type": format!("https://developer.bulksms.com/json/v1/errors#{kind}"),
                       "title": title, "status": status});
    if let Some(d) = detail {
        v["detail"] = json!(d);
    }
    Reply::json(status, v)
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

/// `(recipient, text)` of each message BulkSMS accepted (a group as
/// `@Name`), a deduplicated submission counted once.
pub fn sent(mock: &Mock) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for r in mock.requests() {
        if r.header("authorization") != Some(basic().as_str()) || r.path() != "/v1/messages" {
            continue;
        }
        let id = r.query("deduplication-id");
        if id.is_some() && seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let entries: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        for e in entries.as_array().into_iter().flatten() {
            let body = e["body"].as_str().unwrap_or_default();
            if body.contains("credit") || body.contains("storm") {
                continue;
            }
            for to in e["to"].as_array().into_iter().flatten() {
                let to = match to.as_str() {
                    Some(number) => number.to_string(),
                    None => format!("@{}", to["name"].as_str().unwrap_or_default()),
                };
                if !to.starts_with("+1555019") {
                    out.push((to, body.to_string()));
                }
            }
        }
    }
    out
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let answered: Mutex<HashMap<String, Value>> = Mutex::new(HashMap::new());
    move |r: &Recorded| {
        if r.header("authorization") != Some(basic().as_str()) {
            return problem(
                401,
                "Authentication Failed",
                Some("Invalid credentials"),
                "authentication-failed",
            );
        }
        if r.method != "POST" || r.path() != "/v1/messages" {
            return problem(404, "Not Found", None, "not-found");
        }
        if let Some(id) = r.query("deduplication-id")
            && let Some(before) = answered.lock().unwrap().get(&id)
        {
            return Reply::json(201, before.clone());
        }
        let entries: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let Some(list) = entries.as_array().filter(|l| !l.is_empty()) else {
            return problem(
                400,
                "Bad Request",
                Some("Expected an array of messages\n"),
                "bad-request",
            );
        };
        let mut messages = Vec::new();
        for e in list {
            let (Some(to), Some(body)) = (e["to"].as_array(), e["body"].as_str()) else {
                return problem(
                    400,
                    "Bad Request",
                    Some("The 'to' and 'body' properties are required\n"),
                    "bad-request",
                );
            };
            if body.contains("credit") {
                return problem(403, "Insufficient Credits", None, "insufficient-credits");
            }
            if body.contains("storm") {
                return problem(429, "Too Many Requests", None, "too-many-requests");
            }
            for (i, t) in to.iter().enumerate() {
                let address = t
                    .as_str()
                    .map_or_else(|| t["name"].to_string(), String::from);
                let (id, kind, sub) = if address.starts_with("+1555019") {
                    ("FAILED.BLOCKED", "FAILED", json!("BLOCKED"))
                } else {
                    ("ACCEPTED.null", "ACCEPTED", Value::Null)
                };
                messages.push(json!({
                    "id": format!("40234576{i}"), "type": "SENT", "to": address, "body": body,
                    "encoding": e["encoding"].as_str().unwrap_or("TEXT"),
                    "submission": {"id": "1-00000000000522347562", "date": "2026-12-04T10:00:00Z"},
                    "status": {"id": id, "type": kind, "subtype": sub},
                }));
            }
        }
        let reply = Value::Array(messages);
        if let Some(id) = r.query("deduplication-id") {
            answered.lock().unwrap().insert(id, reply.clone());
        }
        Reply::json(201, reply)
    }
}
