//! A mock of OneSignal's Create message API for push, built from its API
//! reference ("Push notification", "Rate limits", the server SDKs' reply
//! notes): POST `/notifications?c=push` with `Authorization: Key <App API
//! key>` (or `Basic` and a legacy REST key) and JSON `app_id`, one
//! targeting (`include_subscription_ids`, `include_aliases.external_id`
//! with `target_channel: "push"`, or `included_segments`), `contents`;
//! 200 with the message's `id`; 200 without one and `errors` when no
//! target is subscribed (only `SUBSCRIBED` are, plus the user `alice` and
//! the segment "Active Users"); a repeated `idempotency_key` answers the
//! message it created, without sending again; 400 for a body without
//! contents or with two targetings, 403 for a wrong key (its wording
//! written from memory), 429 `API rate limit exceeded.` with `Retry-After`
//! (here: a message containing "storm").
//! `Mock::service(mocks::onesignal::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

pub const APP: &str = "8250eaf6-1a58-489e-b136-7c74a864b434";
pub const KEY: &str = "os_v2_app_rbioz5q2lbeh3nrwpr2kqzfuguxkd6o4jm5ue2fhdq7n3ptk2z4q";
pub const LEGACY: &str = "NGEwMGZmMjItY2NkNy0xMWUzLTk5ZDUtMDAwYzI5NDBlNjJj";
pub const SUBSCRIBED: &[&str] = &[
    "1dd608f2-c6a1-11e3-851d-000c2940e62c",
    "2dd608f2-c6a1-11e3-851d-000c2940e62c",
];

fn errors(status: u16, why: &str) -> Reply {
    Reply::json(status, json!({"errors": [why]}))
}

/// The targets a body names, and whether any of them is subscribed.
fn reached(b: &Value) -> Result<bool, Reply> {
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let subs = list(&b["include_subscription_ids"]);
    let users = list(&b["include_aliases"]["external_id"]);
    let segments = list(&b["included_segments"]);
    let kinds = [!subs.is_empty(), !users.is_empty(), !segments.is_empty()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(errors(400, "Please use exactly one targeting method."));
    }
    if !users.is_empty() && b["target_channel"] != "push" {
        return Err(errors(
            400,
            "target_channel is required when targeting aliases.",
        ));
    }
    Ok(subs.iter().any(|s| SUBSCRIBED.contains(&s.as_str()))
        || users.iter().any(|u| u == "alice")
        || segments.iter().any(|s| s == "Active Users"))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let created = Mutex::new(HashMap::<String, String>::new());
    move |r: &Recorded| {
        if r.method != "POST" || r.path() != "/notifications" {
            return errors(404, "Not Found");
        }
        let auth = r.header("authorization").unwrap_or("");
        if auth != format!("Key {KEY}") && auth != format!("Basic {LEGACY}") {
            return errors(
                403,
                "Access denied.  Please include an 'Authorization: ...' header with a valid API key",
            );
        }
        let Ok(b) = serde_json::from_slice::<Value>(&r.body) else {
            return errors(400, "Invalid JSON body.");
        };
        if b["app_id"] != APP {
            return errors(400, "app_id not found.");
        }
        let Some(text) = b["contents"]["en"]
            .as_str()
            .or(b["contents"]["de"].as_str())
        else {
            return errors(
                400,
                "Message Notifications must have English language content",
            );
        };
        let any = match reached(&b) {
            Ok(any) => any,
            Err(reply) => return reply,
        };
        if text.contains("storm") {
            return errors(429, "API rate limit exceeded.").header("retry-after", "100");
        }
        if !any {
            return Reply::ok(
                json!({"id": "", "errors": ["All included players are not subscribed"]}),
            );
        }
        let mut created = created.lock().unwrap();
        let next = format!("b98881cc-1e94-4366-bbd9-db8f342929{:02}", created.len());
        let id = match b["idempotency_key"].as_str() {
            Some(k) => created.entry(k.to_string()).or_insert(next).clone(),
            None => next,
        };
        Reply::ok(json!({"id": id, "external_id": null}))
    }
}
