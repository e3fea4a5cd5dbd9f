//! A mock of the pushme API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::pushme::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};

/// PushMe: POST `/`, form; answers the word `success`.
pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/" {
            return Reply::not_found();
        }
        if r.form("push_key").as_deref() != Some("pushmeKey01") {
            return Reply::text(200, "push_key error");
        }
        Reply::text(200, "success")
    }
}
