//! Synology Chat incoming webhooks (notify.py's `CHAT_URL` + `CHAT_TOKEN`).
//!
//! Sources: qinglong's sample/notify.py `chat` (a form field
//! `payload={"text": ...}` posted to `CHAT_URL` + `CHAT_TOKEN`: the URL and
//! token are joined as written, since users' existing values are split that
//! way). Success is read from the reply's `success` field, where notify.py
//! only checks the HTTP status. No Synology reference page or limit was
//! confirmed.

use mcp_push_sdk::prelude::*;

struct SynologyChat;

impl Channel for SynologyChat {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "synology-chat",
            "Synology Chat",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Synology Chat channel through an incoming webhook",
        )
        .setting(
            Setting::new("url", "Webhook URL up to the token (…&token=)")
                .env(&["CHAT_URL"])
                .required(),
        )
        .setting(
            Setting::new("token", "Webhook token, appended to the URL")
                .env(&["CHAT_TOKEN"])
                .required()
                .secret(),
        )
        .allow_host("setting:url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = format!("{}{}", settings.require("url")?, settings.require("token")?);
        let payload = json!({ "text": msg.text_with_link() }).to_string();
        Request::post(url)
            .form(&[("payload", payload)])
            .send()?
            .check(
                &Check::field("success")
                    .is_true()
                    .message("error.errors")
                    .message("error.code"),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(SynologyChat);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<SynologyChat>();
    }

    const URL: &str = "https://nas.example:5001/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=";

    #[test]
    fn posts_the_payload_form_to_url_and_token() {
        let h = Harness::new::<SynologyChat>()
            .setting("url", URL)
            .setting("token", "syno-tok-1")
            .reply(Reply::json(200, json!({"success": true})));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains("syno-tok-1"), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, format!("{URL}syno-tok-1"));
        assert!(req.text().starts_with("payload="), "{}", req.text());
    }

    #[test]
    fn a_refusal_says_why() {
        let h = Harness::new::<SynologyChat>()
            .setting("url", URL)
            .setting("token", "t")
            .reply(Reply::json(
                200,
                json!({"success": false, "error": {"code": 404, "errors": "invalid token"}}),
            ));
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Rejected(ref m) if m.contains("invalid token")),
            "{err:?}"
        );
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<SynologyChat>()
            .setting("url", "https://nas.example/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=")
            .setting("token", "synoToken99")
            .reply(Reply::json(200, json!({"success": true})))
            .reply(Reply::json(
                200,
                json!({"error": {"code": 404, "errors": "invalid token"}, "success": false}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert!(wire.url.ends_with("&token=synoToken99"), "{}", wire.url);
        let payload: mcp_push_sdk::serde_json::Value =
            mcp_push_sdk::serde_json::from_str(&wire.form("payload").unwrap()).unwrap();
        assert_eq!(payload["text"], "标题 Title\n\n正文 body");
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("success false: invalid token".into())
        );
    }
}
