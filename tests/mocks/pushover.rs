//! A mock of the pushover API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::pushover::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/1/messages.json" || r.method != "POST" {
            return Reply::not_found();
        }
        if r.form("token").as_deref() != Some("azGDORePK8gMaC0QOYAMyEEuzJnyUi") {
            return Reply::json(
                400,
                json!({"token": "invalid", "errors": ["application token is invalid"], "status": 0, "request": "5042853c"}),
            );
        }
        if r.form("user").as_deref() == Some("over-limit") {
            return Reply::json(
                429,
                json!({"errors": ["message limit reached"], "status": 0, "request": "1"}),
            );
        }
        Reply::ok(json!({"status": 1, "request": "647d2300-702c-4b38-8b2f-d56326ae460b"}))
    }
}
