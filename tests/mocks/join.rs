//! A mock of Join's `sendPush`, built from Join's API page (joaoapps.com/
//! join/api: `apikey`, `deviceId` (a device or a `group.*`), `deviceIds`,
//! `deviceNames`, `title`, `text`, `url`, `icon`, `priority` as URL
//! parameters) and Apprise's request (a POST with them in the query):
//! `{"success": true}` for the key `KEY` and a target; with HTTP 200
//! `{"success": false, "errorMessage": …}` for an unknown key or no target
//! (these replies written from memory); 429 (assumed; here: a text
//! containing "storm"). `Mock::service(mocks::join::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const KEY: &str = "abcdef0123456789abcdef0123456789";
pub const PATH: &str = "/_ah/api/messaging/v1/sendPush";

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != PATH {
            return Reply::text(404, "Not Found");
        }
        if r.query("apikey").as_deref() != Some(KEY) {
            return Reply::ok(json!({"success": false, "userAuthError": true,
                                    "errorMessage": "User Not Authenticated"}));
        }
        if ["deviceId", "deviceIds", "deviceNames"]
            .iter()
            .all(|p| r.query(p).is_none())
        {
            return Reply::ok(json!({"success": false, "userAuthError": false,
                                    "errorMessage": "No device to send message to"}));
        }
        if r.query("text").unwrap_or_default().contains("storm") {
            return Reply::text(429, "Too Many Requests");
        }
        Reply::ok(json!({"success": true, "userAuthError": false}))
    }
}
