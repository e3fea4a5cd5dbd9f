//! A mock of Mailgun's Messages API, built from its API reference (Messages,
//! "Send an email") and its API response codes page: POST
//! `/v3/{domain}/messages` with Basic auth `api:KEY` and a form `from`,
//! `to`, `cc`, `bcc`, `subject`, `text`, `html`; 200 `{id, message:
//! "Queued. Thank you."}`; 400 `{message}` for a missing field or a bad
//! address; 404 `{message: "Domain not found: ..."}` for a domain it does not
//! have (only `mg.example.com`); a wrong key is a 401 with the plain text
//! `Forbidden` (written from memory); 429 (here: a text containing "storm").
//! `Mock::service(mocks::mailgun::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};

pub const KEY: &str = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
pub const DOMAIN: &str = "mg.example.com";

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, json!({"message": text}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let sent = AtomicU32::new(0);
    move |r: &Recorded| {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("api:{KEY}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return Reply::text(401, "Forbidden");
        }
        let Some(domain) = r
            .path()
            .strip_prefix("/v3/")
            .and_then(|p| p.strip_suffix("/messages"))
        else {
            return Reply::text(404, "404 page not found");
        };
        if domain != DOMAIN || r.method != "POST" {
            return message(404, &format!("Domain not found: {domain}"));
        }
        for field in ["from", "to", "subject"] {
            if r.form(field).is_none_or(|v| v.is_empty()) {
                return message(400, &format!("{field} parameter is missing"));
            }
        }
        if !r.form("from").unwrap().contains('@') {
            return message(
                400,
                "'from' parameter is not a valid address. please check documentation",
            );
        }
        let text = r.form("text").or(r.form("html")).unwrap_or_default();
        if text.is_empty() {
            return message(
                400,
                "Need at least one of 'text' or 'html' parameters specified",
            );
        }
        if text.contains("storm") {
            return message(429, "Too many requests").header("retry-after", "60");
        }
        let n = sent.fetch_add(1, Ordering::SeqCst);
        Reply::ok(json!({
            "id": format!("<20261204042000.{n}@{DOMAIN}>"),
            "message": "Queued. Thank you.",
        }))
    }
}
