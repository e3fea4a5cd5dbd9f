//! A mock of a Bluesky server's XRPC methods, built from docs.bsky.app's
//! HTTP reference: `POST /xrpc/com.atproto.server.createSession` with
//! `{identifier, password}` → `{did, handle, accessJwt, refreshJwt}`, 401
//! `{"error": "AuthenticationRequired", "message": "Invalid identifier or
//! password"}` otherwise; `POST /xrpc/com.atproto.repo.createRecord` with
//! `Authorization: Bearer ACCESS_JWT` and `{repo, collection, record}` →
//! `{uri, cid}`; 400 `ExpiredToken` for an access token it no longer takes
//! (here: the first one it issued, once a post says "expire"), 400
//! `InvalidRequest` for a record whose text is over 300 graphemes (counted
//! here in characters), 429 `RateLimitExceeded` with `ratelimit-reset`
//! (here: text containing "storm"). Wordings of the 400s are the docs'
//! error names with messages from memory.
//! `Mock::service(mocks::bluesky::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

pub const HANDLE: &str = "ada.bsky.social";
pub const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
pub const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

fn error(status: u16, error: &str, message: &str) -> Reply {
    Reply::json(status, json!({"error": error, "message": message}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let sessions = AtomicU32::new(0);
    move |r: &Recorded| {
        let b: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        match (r.method.as_str(), r.path()) {
            ("POST", "/xrpc/com.atproto.server.createSession") => {
                if b["identifier"] != HANDLE || b["password"] != APP_PASSWORD {
                    return error(
                        401,
                        "AuthenticationRequired",
                        "Invalid identifier or password",
                    );
                }
                let n = sessions.fetch_add(1, Ordering::SeqCst) + 1;
                Reply::json(
                    200,
                    json!({"did": DID, "handle": HANDLE, "accessJwt": format!("access-{n}"),
                           "refreshJwt": format!("refresh-{n}"), "active": true}),
                )
            }
            ("POST", "/xrpc/com.atproto.repo.createRecord") => {
                let Some(jwt) = r
                    .header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
                else {
                    return error(401, "AuthenticationRequired", "Authentication Required");
                };
                let text = b["record"]["text"].as_str().unwrap_or_default();
                if !jwt.starts_with("access-") {
                    return error(400, "InvalidToken", "Token could not be verified");
                }
                if jwt == "access-1" && text.contains("expire") {
                    return error(400, "ExpiredToken", "Token has expired");
                }
                if text.contains("storm") {
                    return error(429, "RateLimitExceeded", "Rate Limit Exceeded")
                        .header("ratelimit-limit", "5000")
                        .header("ratelimit-remaining", "0")
                        .header("ratelimit-reset", "4102444800");
                }
                if b["repo"] != DID
                    || b["collection"] != "app.bsky.feed.post"
                    || b["record"]["$type"] != "app.bsky.feed.post"
                    || b["record"]["createdAt"].as_str().is_none()
                {
                    return error(400, "InvalidRequest", "Invalid app.bsky.feed.post record");
                }
                if text.chars().count() > 300 {
                    return error(
                        400,
                        "InvalidRequest",
                        "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
                    );
                }
                Reply::json(
                    200,
                    json!({"uri": format!("at://{DID}/app.bsky.feed.post/3l6oveex3ii2l"),
                           "cid": "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q"}),
                )
            }
            _ => error(404, "MethodNotImplemented", "Method Not Implemented"),
        }
    }
}
