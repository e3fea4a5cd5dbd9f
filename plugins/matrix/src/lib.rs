//! Matrix rooms (`MATRIX_*`, Apprise-style `matrixs://TOKEN@HOST/!ROOM_ID`):
//! sends `m.room.message` events and edits a run's first one with an
//! `m.replace` relation.
//!
//! Sources: the Matrix client-server API (spec.matrix.org, "Client-Server
//! API": PUT `/rooms/{roomId}/send/m.room.message/{txnId}`, the txnId its
//! idempotency key; `M_LIMIT_EXCEEDED` with `retry_after_ms`; event
//! replacements with `m.relates_to` `rel_type: m.replace` and `m.new_content`);
//! Apprise's `matrix[s]://` plugin for the one-line form. Not in qinglong's
//! notify.py: `MATRIX_*` are mcp-push's own names.
//!
//! Questions are answered by replying to them in the room (see
//! [`replies`]).

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::reply::text_of;
use mcp_push_sdk::serde_json::Value;

mod replies;

struct Matrix;

impl Channel for Matrix {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "matrix",
            "Matrix",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Matrix room as a user or bot; edits a run's earlier message",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("homeserver", "Homeserver URL (https://matrix.example.org)")
                .env(&["MATRIX_HOMESERVER"])
                .required(),
        )
        .setting(
            Setting::new("access_token", "Access token of the sending account")
                .env(&["MATRIX_ACCESS_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "room_id",
                "Room id (!abc:example.org) the account has joined",
            )
            .env(&["MATRIX_ROOM_ID"])
            .required(),
        )
        .allow_host("setting:homeserver")
        .schemes(&["matrix", "matrixs"])
        .can_edit()
    }

    /// `matrix[s]://ACCESS_TOKEN@HOST[:PORT]/ROOM_ID`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["matrix", "matrixs"])?;
        let (Some(token), [room]) = (u.user.clone(), u.path.as_slice()) else {
            return Err("matrix:// needs a token and a room: matrixs://TOKEN@HOST/!ROOM_ID".into());
        };
        let server = OneLine {
            path: Vec::new(),
            ..u.clone()
        };
        Pairs::new()
            .set("homeserver", server.base_url(u.scheme == "matrixs"))
            .set("access_token", token)
            .set("room_id", room.clone())
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let content = content(msg);
        let event = match msg.previous.as_deref() {
            None => content,
            Some(original) => {
                let mut edit = content.clone();
                // Clients that do not know edits show "* new text".
                edit["body"] = json!(format!("* {}", text_of(&content["body"])));
                if let Some(html) = content.get("formatted_body") {
                    edit["formatted_body"] = json!(format!("* {}", text_of(html)));
                }
                edit["m.new_content"] = content;
                edit["m.relates_to"] = json!({ "rel_type": "m.replace", "event_id": original });
                edit
            }
        };
        let reply = put_message(settings, &event)?;
        // Every edit points at the first event, so the first id is kept.
        let id = match msg.previous.as_deref() {
            Some(original) => Some(original.to_string()),
            None => id_at(&reply, "event_id"),
        };
        Ok(Receipt::maybe(id))
    }
}

/// `PUT /rooms/{roomId}/send/m.room.message/{txnId}`: the event's reply.
fn put_message(settings: &Settings, event: &Value) -> Result<Value, SendError> {
    // Matrix's idempotency key: a retry whose first attempt did reach the
    // homeserver (the answer was lost) is not posted twice.
    let txn = format!("mcp-push-{}", delivery::key());
    Request::put(format!("{}/rooms", client_api(settings)?))
        .segment(settings.require("room_id")?)
        .segment("send")
        .segment("m.room.message")
        .segment(&txn)
        .bearer(settings.require("access_token")?)
        .json(event)
        .send()?
        .check(&checked("event_id"))
}

/// `{homeserver}/_matrix/client/v3`.
fn client_api(settings: &Settings) -> Result<String, SendError> {
    Ok(format!(
        "{}/_matrix/client/v3",
        settings.base_url("homeserver", "")?
    ))
}

/// A success has `field`; a refusal says `error` and `errcode`, a rate
/// limit `retry_after_ms`.
fn checked(field: &str) -> Check<'_> {
    Check::field(field)
        .message("error")
        .message("errcode")
        .retry_after_ms("retry_after_ms")
}

/// An `m.text` event's content: plain text, plus HTML when the message is HTML.
fn content(msg: &Message) -> Value {
    let mut c = json!({ "msgtype": "m.text", "body": msg.text_with_link() });
    if msg.is_html() {
        let title = Bold::Html.title_escaped(&msg.title, mcp_push_sdk::text::escape_html);
        let html = heading(&title, &msg.body, "<br>");
        c["format"] = json!("org.matrix.custom.html");
        c["formatted_body"] = json!(html);
    }
    c
}

export_channel!(Matrix, replies);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Matrix>();
    }

    #[test]
    fn parses_matrix_urls() {
        let s = Matrix::parse_url("matrixs://syt_tok@matrix.example.org/%21room%3Aexample.org")
            .unwrap();
        assert_eq!(s[0].1, "https://matrix.example.org");
        assert_eq!(s[1].1, "syt_tok");
        assert_eq!(s[2].1, "!room:example.org");
    }

    use mcp_push_sdk::testing::{Harness, Reply, message};

    /// The txnId is Matrix's idempotency key: a retry of one delivery uses
    /// the same one (the homeserver then answers the first event instead of
    /// posting twice), and the next delivery another.
    #[test]
    fn every_attempt_of_a_delivery_has_the_same_txn_id() {
        let h = Harness::new::<Matrix>()
            .setting("homeserver", "https://matrix.example.org")
            .setting("access_token", "syt_tok")
            .setting("room_id", "!room:example.org")
            .reply(Reply::text(502, "Bad Gateway"))
            .reply(Reply::json(200, json!({"event_id": "$e1"})))
            .reply(Reply::json(200, json!({"event_id": "$e2"})));
        let msg = message("Deploy", "v2 is live");
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        h.send(&msg).unwrap();
        h.send(&msg).unwrap();
        let txn: Vec<String> = h
            .requests()
            .iter()
            .map(|r| r.url.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(txn[0], txn[1], "a retry keeps its txnId");
        assert_ne!(txn[1], txn[2], "another delivery has another");
    }

    fn harness() -> Harness {
        Harness::new::<Matrix>()
            .setting("homeserver", "https://matrix.example.org")
            .setting("access_token", "syt_tok")
            .setting("room_id", "!room:example.org")
    }

    /// HTML goes as `org.matrix.custom.html` beside the plain body, PUT to
    /// the room's send endpoint with the token only on the wire (moved from
    /// tests/channels_intl.rs).
    #[test]
    fn html_goes_as_org_matrix_custom_html() {
        let h = harness().reply(Reply::json(200, json!({"event_id": "$e1"})));
        let mut msg = message("Done", "<i>all</i> green");
        msg.format = Format::Html;
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("$e1"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "PUT");
        assert!(
            req.url.starts_with(
                "https://matrix.example.org/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/"
            ),
            "{}",
            req.url
        );
        assert!(!req.header("authorization").unwrap().contains("syt_tok"));
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some("Bearer syt_tok")
        );
        let body = req.json();
        assert_eq!(body["msgtype"], "m.text");
        assert_eq!(body["format"], "org.matrix.custom.html");
        assert_eq!(body["formatted_body"], "<b>Done</b><br><i>all</i> green");
    }

    /// An edit is an `m.replace` of the run's first event, "* new text" for
    /// clients that do not know edits (moved from tests/channels_intl.rs).
    #[test]
    fn an_edit_replaces_the_first_event() {
        let h = harness().reply(Reply::json(200, json!({"event_id": "$e2"})));
        let mut msg = message("Run", "2/2");
        msg.previous = Some("$e1".into());
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("$e1"));
        let body = h.requests()[0].json();
        assert_eq!(body["body"], "* Run\n\n2/2");
        assert_eq!(body["m.new_content"]["body"], "Run\n\n2/2");
        assert_eq!(body["m.relates_to"]["rel_type"], "m.replace");
        assert_eq!(body["m.relates_to"]["event_id"], "$e1");
    }

    /// A room the account is not in, and `M_LIMIT_EXCEEDED` with its wait in
    /// milliseconds (moved from tests/channels_intl.rs).
    #[test]
    fn refusals_and_rate_limits_map_to_kinds() {
        let h = harness()
            .reply(Reply::json(
                403,
                json!({"errcode": "M_FORBIDDEN", "error": "User @bot:example.org not in room"}),
            ))
            .reply(Reply::json(
                429,
                json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2500}),
            ));
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("HTTP 403: User @bot:example.org not in room".into())
        );
        assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(Some(3)));
    }
}
