//! A mock of a Pushjet server, built from its code (Pushjet-Server-Api:
//! controllers/message.py and utils.py's `Error` table): `POST /message`
//! reads the form (or, for the secret, the query) fields `secret`,
//! `message`, `title`, `level`, `link`; `{"status": "ok"}` on success;
//! `{"error": {"message", "id"}}` with the table's status: 7 `Missing
//! argument X` (400), 3 `Invalid secret` (400, not 32 letters and digits),
//! 6 `Service not found` (404), 5 `Whoaw there cowboy, slow down!` (429;
//! here: a message containing "storm"). Behind basic auth when `USER` is
//! given.
//! `Mock::service(mocks::pushjet::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine;
use serde_json::json;

pub const SECRET: &str = "4Sj8qVkDa3Zx1PmN7tWcR2yLb9HgE5uF";
pub const USER: (&str, &str) = ("bob", "pj-pass");

fn error(status: u16, id: i64, message: &str) -> Reply {
    Reply::json(status, json!({"error": {"message": message, "id": id}}))
}

/// The server; `basic`: behind a login with [`USER`].
pub fn api(basic: bool) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    move |r: &Recorded| {
        if basic {
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", USER.0, USER.1))
            );
            if r.header("authorization") != Some(want.as_str()) {
                return Reply::text(401, "Unauthorized");
            }
        }
        if r.method != "POST" || r.path().trim_end_matches('/') != "/message" {
            return Reply::text(404, "Not Found");
        }
        let secret = r
            .form("secret")
            .or_else(|| r.query("secret"))
            .unwrap_or_default();
        if secret.is_empty() {
            return error(400, 7, "Missing argument secret");
        }
        if secret.len() != 32 || !secret.chars().all(|c| c.is_ascii_alphanumeric()) {
            return error(400, 3, "Invalid secret");
        }
        if secret != SECRET {
            return error(404, 6, "Service not found");
        }
        let message = r.form("message").unwrap_or_default();
        if message.is_empty() {
            return error(400, 7, "Missing argument message");
        }
        if message.contains("storm") {
            return error(429, 5, "Whoaw there cowboy, slow down!");
        }
        Reply::json(200, json!({"status": "ok"}))
    }
}
