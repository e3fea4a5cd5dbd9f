//! A mock of Revolt's API for bots, built from its API reference (the
//! OpenAPI document's `DataMessageSend` and Message), its "Rate Limits"
//! page and the server's error types (revoltchat/backend): POST
//! `/channels/{target}/messages` with `x-bot-token` and JSON `content` or
//! `embeds`; the posted Message (`_id`) on success; errors `{"type": …}`:
//! 401 `InvalidSession` for an unknown token, 404 `UnknownChannel` for a
//! channel other than `CHANNELS`, 422 `EmptyMessage` without content or
//! embeds, 422 `PayloadTooLarge` over 2,000 characters, 429 with
//! `retry_after` in milliseconds (here: a message containing "storm").
//! `Mock::service(mocks::revolt::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TOKEN: &str = "bW8aGz1x9Qp2Lr7Tk4Vn6Yc3Hs5Jd0Fe-Ku8Mw_Pt";
pub const CHANNELS: &[&str] = &["01HZX7Q4K2M8N3P5R6S7T8V9W0", "01HZX7Q4K2M8N3P5R6S7T8V9W1"];

fn error(status: u16, kind: &str) -> Reply {
    Reply::json(
        status,
        json!({"type": kind, "location": "crates/delta/src/routes"}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let parts: Vec<&str> = r.path().trim_start_matches('/').split('/').collect();
        let ["channels", channel, "messages"] = parts.as_slice() else {
            return error(404, "NotFound");
        };
        if r.method != "POST" {
            return error(405, "NotFound");
        }
        if r.header("x-bot-token") != Some(TOKEN) {
            return error(401, "InvalidSession");
        }
        if !CHANNELS.contains(channel) {
            return error(404, "UnknownChannel");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return Reply::json(400, json!({"type": "FailedValidation", "error": "body"}));
        };
        let content = b["content"].as_str().unwrap_or("");
        let described: usize = b["embeds"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|e| e["description"].as_str())
                    .map(|d| d.chars().count())
                    .sum()
            })
            .unwrap_or(0);
        if content.is_empty() && b["embeds"].as_array().is_none_or(Vec::is_empty) {
            return error(422, "EmptyMessage");
        }
        if content.chars().count() + described > 2000 {
            return error(422, "PayloadTooLarge");
        }
        if r.text().contains("storm") {
            return Reply::json(429, json!({"retry_after": 8500}))
                .header("x-ratelimit-limit", "10")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset-after", "8500");
        }
        Reply::ok(json!({
            "_id": "01J0MSG0000000000000000000", "channel": channel,
            "author": "01HZBOT0000000000000000000", "content": b["content"],
            "embeds": b["embeds"],
        }))
    }
}
