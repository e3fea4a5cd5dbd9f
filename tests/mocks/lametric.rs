//! A mock of a LaMetric Time clock's notification API and of LaMetric's
//! cloud push URL, built from LaMetric's developer docs ("Notifications",
//! the cloud reference): POST `/api/v2/device/notifications` with Basic auth
//! `dev:API_KEY` and a Notification object (`priority` info, warning or
//! critical; `icon_type` none, info or alert; `model.frames` not empty),
//! `{"success": {"id"}}` with 201; POST
//! `/api/v1/dev/widget/update/com.lametric.{app_id}/{version}` with
//! `X-Access-Token` and `{frames}`. Errors `{"errors": [{message}]}` (their
//! wording written from memory): 401 for a wrong key or token, 400 for a
//! Notification it cannot read. `Mock::service(mocks::lametric::api())`
//! serves it; the app `b1e0c6a1` version 1 exists.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};

pub const KEY: &str = "8adaa0c98278dbb1ecb218d1c3e11f9312317ba474ab3361f80c0bd4f13a6749";
pub const APP_TOKEN: &str =
    "K2MxWI0NzU0ZmI2NjJlZYTgViMDgDRiN8YjlmZjRmNTc4NDVhJzk0RiNjNh0EyKWWYzZjJjM2EwNDZhMzQ0YzRhNWE==";
pub const APP_ID: &str = "b1e0c6a1";

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({"errors": [{"message": message}]}))
}

fn frames_ok(frames: &serde_json::Value) -> bool {
    frames
        .as_array()
        .is_some_and(|f| !f.is_empty() && f.iter().all(|f| f["text"].is_string()))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next = AtomicU32::new(1);
    move |r: &Recorded| {
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, "Invalid JSON");
        };
        if r.path() == format!("/api/v1/dev/widget/update/com.lametric.{APP_ID}/1") {
            if r.header("x-access-token") != Some(APP_TOKEN) {
                return error(401, "Invalid access token");
            }
            if !frames_ok(&b["frames"]) {
                return error(400, "Invalid frames");
            }
            return Reply::ok(json!({"success": {"data": {"frames": b["frames"]}}}));
        }
        if r.path() != "/api/v2/device/notifications" {
            return error(404, "Not found");
        }
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("dev:{KEY}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return error(401, "Authorization is required");
        }
        let priority = b["priority"].as_str().unwrap_or("info");
        let icon_type = b["icon_type"].as_str().unwrap_or("none");
        if !["info", "warning", "critical"].contains(&priority)
            || !["none", "info", "alert"].contains(&icon_type)
            || !frames_ok(&b["model"]["frames"])
        {
            return error(400, "Invalid notification");
        }
        let id = next.fetch_add(1, Ordering::SeqCst);
        Reply::json(201, json!({"success": {"id": id.to_string()}}))
    }
}
