//! A mock of Prowl's public API, built from its documentation
//! (prowlapp.com/api.php): POST `/publicapi/add` with a form of `apikey`,
//! `application`, `event` and/or `description`, optional `providerkey`,
//! `priority` and `url`, each within its maximum length in bytes; the reply
//! is XML, `<success code="200" remaining="…" resetdate="…"/>` or
//! `<error code="…">reason</error>` with the documented codes.
//! `Mock::service(mocks::prowl::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};

/// A user's API key (40 hex digits).
pub const KEY: &str = "5d1f4e2b9c0a8f7e6d5c4b3a2918070605040302";
/// A provider key Prowl whitelisted.
pub const PROVIDER: &str = "68b329da9893e34099c7d8ad5cb9c94010200121";
/// A key whose IP has used up its 1,000 calls this hour.
pub const SPENT_KEY: &str = "0000000000000000000000000000000000000406";

fn xml(status: u16, inner: &str) -> Reply {
    let mut reply = Reply::text(
        status,
        &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prowl>\n{inner}\n</prowl>\n"),
    );
    reply.headers = vec![("content-type".into(), "text/xml; charset=utf-8".into())];
    reply
}

fn error(code: u16, reason: &str) -> Reply {
    xml(code, &format!("<error code=\"{code}\">{reason}</error>"))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/publicapi/add" {
            return Reply::not_found();
        }
        if r.method != "POST" {
            return error(405, "Method not allowed");
        }
        let field = |name: &str| r.form(name).unwrap_or_default();
        let too_long = |name: &str, max: usize| field(name).len() > max;
        match field("apikey").as_str() {
            "" => return error(401, "API key is required"),
            SPENT_KEY => {
                return error(
                    406,
                    "Not acceptable, your IP address has exceeded the API limit",
                );
            }
            KEY => {}
            _ => return error(401, "Invalid API key"),
        }
        if !field("providerkey").is_empty() && field("providerkey") != PROVIDER {
            return error(401, "Invalid provider key");
        }
        if field("application").is_empty() {
            return error(400, "Application is required");
        }
        if field("event").is_empty() && field("description").is_empty() {
            return error(400, "You must provide either event or description");
        }
        for (name, max) in [
            ("application", 256),
            ("event", 1024),
            ("description", 10000),
            ("url", 512),
        ] {
            if too_long(name, max) {
                return error(400, &format!("{name} is too long"));
            }
        }
        let priority = field("priority");
        if !priority.is_empty() && !["-2", "-1", "0", "1", "2"].contains(&priority.as_str()) {
            return error(400, "Invalid priority");
        }
        xml(
            200,
            "<success code=\"200\" remaining=\"999\" resetdate=\"1764783600\" />",
        )
    }
}
