//! A mock of a Nextcloud server's Talk chat endpoint, built from Talk's Chat
//! API docs (`docs/chat.md` of nextcloud/spreed, "Sending a new chat
//! message") and Nextcloud's OCS docs: POST
//! `/ocs/v2.php/apps/spreed/api/v1/chat/{token}` with `OCS-APIRequest:
//! true`, Basic auth and JSON `message` (`silent` optional); 201 with the
//! new message in the OCS envelope `{"ocs": {"meta": ..., "data": ...}}`;
//! 401 for a wrong password (its body written from memory), 400 without an
//! `OCS-APIRequest` header or a message, 404 for a conversation the user is
//! not in (only `abc123` and `def456` exist), 403 for a read-only one
//! (`ro0000`), 413 over 32,000 characters, 429 (here: a message
//! containing "storm"). `Mock::service(mocks::nextcloud_talk::api())`
//! serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};

pub const USER: &str = "ci";
pub const PASSWORD: &str = "Xq7rT-9aBcD-eF2gH-iJ4kL-mN6oP";
pub const ROOMS: &[&str] = &["abc123", "def456"];
pub const PREFIX: &str = "/ocs/v2.php/apps/spreed/api/v1/chat/";

fn failure(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"ocs": {
            "meta": {"status": "failure", "statuscode": status, "message": message,
                     "totalitems": "", "itemsperpage": ""},
            "data": [],
        }}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next = AtomicU64::new(7001);
    move |r: &Recorded| {
        let Some(room) = r.path().strip_prefix(PREFIX) else {
            return failure(404, "Invalid query, please check the syntax.");
        };
        if r.method != "POST" {
            return failure(405, "");
        }
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        if r.header("authorization") != Some(auth.as_str()) {
            return Reply::json(
                401,
                json!({"ocs": {"meta": {"status": "failure", "statuscode": 997,
                    "message": "Current user is not logged in", "totalitems": "",
                    "itemsperpage": ""}, "data": []}}),
            );
        }
        if r.header("ocs-apirequest") != Some("true") {
            return failure(400, "CSRF check failed");
        }
        if room == "ro0000" {
            return failure(403, "");
        }
        if !ROOMS.contains(&room) {
            return failure(404, "");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return failure(400, "");
        };
        let message = b["message"].as_str().unwrap_or("");
        if message.trim().is_empty() {
            return failure(400, "");
        }
        if message.chars().count() > 32000 {
            return failure(413, "");
        }
        if message.contains("storm") {
            return failure(429, "");
        }
        let id = next.fetch_add(1, Ordering::SeqCst);
        Reply::json(
            201,
            json!({"ocs": {
                "meta": {"status": "ok", "statuscode": 201, "message": "OK"},
                "data": {"id": id, "token": room, "actorType": "users", "actorId": USER,
                         "actorDisplayName": "CI", "timestamp": 1796360400,
                         "message": message, "messageParameters": [],
                         "systemMessage": "", "messageType": "comment",
                         "isReplyable": true, "referenceId": "", "markdown": true},
            }}),
        )
    }
}
