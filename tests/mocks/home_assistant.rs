//! A mock of Home Assistant's REST API for one service, built from its
//! docs (developers.home-assistant.io, docs/api/rest): POST
//! `/api/services/persistent_notification/create` (here also under the
//! reverse-proxy prefix `/ha`) with `Authorization: Bearer TOKEN` and JSON
//! service data; 200 with the list of states changed (`[]`); 401 as plain
//! text for a bad token; 400 `{"message"}` for data it cannot take (the
//! wording written from memory). `Mock::service(mocks::home_assistant::api())`
//! serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJtY3AtcHVzaCJ9.c2lnbmF0dXJlLXZhbHVl";

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
            return Reply::text(401, "401: Unauthorized");
        }
        let path = r.path().strip_prefix("/ha").unwrap_or(r.path());
        if path != "/api/services/persistent_notification/create" {
            return Reply::text(404, "404: Not Found");
        }
        if r.method != "POST" {
            return Reply::text(405, "405: Method Not Allowed");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return Reply::json(400, json!({"message": "Data should be valid JSON."}));
        };
        if !b["message"].is_string() {
            return Reply::json(
                400,
                json!({"message": "required key not provided @ data['message']"}),
            );
        }
        Reply::ok(json!([]))
    }
}
