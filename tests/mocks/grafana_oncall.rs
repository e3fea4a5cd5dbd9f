//! A mock of a Grafana OnCall Formatted Webhook integration, built from its
//! "Inbound Webhook integrations" page: a POST of JSON to
//! `/integrations/v1/formatted_webhook/{TOKEN}/` whose recognized fields are
//! `alert_uid`, `title`, `image_url`, `state` (`ok` or `alerting`),
//! `link_to_upstream_details` and `message`; 200 `Ok.`. From memory (the
//! docs give no replies): 403 for a token it does not know, 429 when an
//! integration sends too much (here: a title containing "storm"), 400 for a
//! body that is not a JSON object or a `state` other than the two.
//! `Mock::service(mocks::grafana_oncall::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};

pub const TOKEN: &str = "mReAoNwDm0eMwKo1mTeTwYo";

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let Some(token) = r
            .path()
            .strip_prefix("/integrations/v1/formatted_webhook/")
            .and_then(|t| t.strip_suffix('/'))
        else {
            return Reply::text(404, "Not Found");
        };
        if r.method != "POST" {
            return Reply::text(405, "Method Not Allowed");
        }
        if token != TOKEN {
            return Reply::json(
                403,
                serde_json::json!({"detail": "Invalid integration token"}),
            );
        }
        let Ok(serde_json::Value::Object(alert)) = serde_json::from_slice(&r.body) else {
            return Reply::text(400, "Bad Request");
        };
        if !matches!(
            alert.get("state").and_then(|s| s.as_str()),
            None | Some("ok") | Some("alerting")
        ) {
            return Reply::text(400, "Bad Request");
        }
        if alert
            .get("title")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t.contains("storm"))
        {
            return Reply::text(429, "Rate-limit has been applied to your integration")
                .header("retry-after", "1");
        }
        Reply::text(200, "Ok.")
    }
}
