//! A mock of a Ryver organization's incoming webhooks, built from Ryver's
//! docs ("Creating simple incoming webhooks", "API: Incoming Webhooks",
//! "Custom Webhooks"): POST to `/application/webhook/{token}` a Ryver JSON
//! payload (`body` in Markdown, `createSource` optional) for the webhook
//! `TOKEN`, or a Slack payload (`text`) for the Slack-format webhook
//! `SLACK_TOKEN`. The docs give no reply bodies or statuses: an empty 200
//! for a post, 404 for an unknown token and 400 for a payload of the wrong
//! format are assumptions, as is the 429 (here: a message containing
//! "storm"). `Mock::service(mocks::ryver::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};

pub const TOKEN: &str = "ckhrjW8w672m6HG";
pub const SLACK_TOKEN: &str = "sLk7Qw2Er9Ty4Ui";

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let Some(token) = r.path().strip_prefix("/application/webhook/") else {
            return Reply::text(404, "Not Found");
        };
        if r.method != "POST" || (token != TOKEN && token != SLACK_TOKEN) {
            return Reply::text(404, "Not Found");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return Reply::text(400, "Bad Request");
        };
        let field = if token == SLACK_TOKEN { "text" } else { "body" };
        let Some(text) = b[field].as_str().filter(|t| !t.is_empty()) else {
            return Reply::text(400, "Bad Request");
        };
        if text.contains("storm") {
            return Reply::text(429, "Too Many Requests").header("retry-after", "5");
        }
        Reply::text(200, "")
    }
}
