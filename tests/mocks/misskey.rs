//! A mock of a Misskey instance's `notes/create` endpoint, built from
//! Misskey's API docs and its endpoint and OpenAPI error sources: POST
//! `/api/notes/create` with JSON `i` (the token), `text`, `visibility`
//! (`public`, `home`, `followers`, `specified`), `cw`; `{createdNote}` on
//! success; errors `{"error": {message, code, id}}`: 401
//! `CREDENTIAL_REQUIRED` without a token, 403 `AUTHENTICATION_FAILED` with a
//! wrong one, 400 `CONTENT_REQUIRED` without text, 400 `INVALID_PARAM` for
//! an unknown visibility or a text over 3,000 characters, 429
//! `RATE_LIMIT_EXCEEDED` (here: a note containing "storm").
//! `Mock::service(mocks::misskey::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TOKEN: &str = "pXq3V7s9Kd2LmN4bRt8Wz1Yc";

fn error(status: u16, code: &str, message: &str, id: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": message, "code": code, "id": id}}),
    )
}

fn invalid_param() -> Reply {
    error(
        400,
        "INVALID_PARAM",
        "Invalid param.",
        "3d81ceae-475f-4600-b2a8-2bc116157532",
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/api/notes/create" || r.method != "POST" {
            return Reply::text(404, "Not Found");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return invalid_param();
        };
        match b["i"].as_str() {
            None => {
                return error(
                    401,
                    "CREDENTIAL_REQUIRED",
                    "Credential required.",
                    "1384574d-a912-4b81-8601-c7b1c4085df1",
                );
            }
            Some(i) if i != TOKEN => {
                return error(
                    403,
                    "AUTHENTICATION_FAILED",
                    "Authentication failed. Please ensure your token is correct.",
                    "b0a7f5f8-dc2f-4171-b91f-de88ad238e14",
                );
            }
            Some(_) => {}
        }
        let visibility = b["visibility"].as_str().unwrap_or("public");
        if !["public", "home", "followers", "specified"].contains(&visibility) {
            return invalid_param();
        }
        let text = b["text"].as_str().unwrap_or("");
        if text.trim().is_empty() {
            return error(
                400,
                "CONTENT_REQUIRED",
                "Content required. You need to set text, fileIds, renoteId or poll.",
                "6f57e42b-c348-439b-bc45-993995cc515a",
            );
        }
        if text.trim().chars().count() > 3000 {
            return invalid_param();
        }
        if text.contains("storm") {
            return error(
                429,
                "RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded. Please try again later.",
                "d5826d14-3982-4d2e-8011-b9e9f02499ef",
            );
        }
        Reply::ok(json!({"createdNote": {
            "id": "9k2x7w3b1a", "createdAt": "2026-12-04T04:20:00.000Z", "userId": "9a0b1c2d3e",
            "text": text, "cw": b["cw"], "visibility": visibility,
        }}))
    }
}
