//! A mock of the ntfy API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::ntfy::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next = Arc::new(AtomicU64::new(1));
    move |r: &Recorded| {
        if r.header("authorization") != Some("Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2") {
            return Reply::json(
                403,
                json!({"code": 40301, "http": 403, "error": "forbidden", "link": "https://ntfy.sh/docs/publish/#authentication"}),
            );
        }
        // ntfy's router before 2.16 takes `/{topic}` only: the path form of an
        // update is a 404 there. The sequence id comes as a header.
        let parts: Vec<&str> = r.path().trim_start_matches('/').split('/').collect();
        let topic = match parts.as_slice() {
            [t] => *t,
            _ => {
                return Reply::json(
                    404,
                    json!({"code": 40401, "http": 404, "error": "page not found"}),
                );
            }
        };
        let sequence = r.header("x-sequence-id");
        // server.go's handlePublishBody: a body that reaches the 4096-byte
        // `message-size-limit` (`read == limit`) is handled as a file, and
        // without `attachment-cache-dir` that is errHTTPBadRequestAttachmentsDisallowed.
        if r.body.len() >= 4096 {
            return Reply::json(
                400,
                json!({"code": 40014, "http": 400, "error": "invalid request: attachments not allowed", "link": "https://ntfy.sh/docs/config/#attachments"}),
            );
        }
        if r.text().contains("too many") {
            return Reply::json(
                429,
                json!({"code": 42901, "http": 429, "error": "limit reached: too many requests"}),
            );
        }
        let id = format!("msg{}", next.fetch_add(1, Ordering::SeqCst));
        let mut msg = json!({"id": id, "time": 1700000000, "event": "message", "topic": topic, "message": r.text()});
        if let Some(s) = sequence {
            msg["sequence_id"] = json!(s);
        }
        Reply::ok(msg)
    }
}
