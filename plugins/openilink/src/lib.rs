//! OpeniLink hub bots (notify.py's `OPENILINK_*`).
//!
//! Sources: no OpeniLink API reference was found or checked. The names
//! follow qinglong's config.sample.sh (`OPENILINK_APP_TOKEN`,
//! `OPENILINK_HUB_URL`, `OPENILINK_CONTEXT_TOKEN`); the request (POST
//! `{hub}/bot/v1/message/send` with a Bearer token and a text message,
//! `ok == true` for success) is this file's own and unconfirmed.

use mcp_push_sdk::prelude::*;

struct OpeniLink;

const OFFICIAL: &str = "https://hub.openilink.com";

impl Channel for OpeniLink {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "openilink",
            "OpeniLink",
            env!("CARGO_PKG_VERSION"),
            "Sends as an OpeniLink hub bot",
        )
        .setting(
            Setting::new("app_token", "App token")
                .env(&["OPENILINK_APP_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("hub_url", "Hub URL")
                .env(&["OPENILINK_HUB_URL"])
                .default_value(OFFICIAL),
        )
        .setting(
            Setting::new("context_token", "Context token of the conversation")
                .env(&["OPENILINK_CONTEXT_TOKEN"])
                .secret(),
        )
        .allow_host("hub.openilink.com")
        .allow_host("setting:hub_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let mut body = json!({ "type": "text", "content": msg.text_with_link() });
        if let Some(ctx) = settings.get("context_token") {
            body["context_token"] = json!(ctx);
        }
        Request::post(format!(
            "{}/bot/v1/message/send",
            settings.base_url("hub_url", OFFICIAL)?
        ))
        .bearer(settings.require("app_token")?)
        .json(&body)
        .send()?
        .check(
            &Check::field("ok")
                .is_true()
                .message("error")
                .message("message"),
        )?;
        Ok(Receipt::none())
    }
}

export_channel!(OpeniLink);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<OpeniLink>();
    }

    #[test]
    fn sends_text_with_a_bearer_token_not_in_clear() {
        let h = Harness::new::<OpeniLink>()
            .setting("app_token", "oil-tok-1")
            .setting("context_token", "ctx-2")
            .reply(Reply::json(200, json!({"ok": true})));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://hub.openilink.com/bot/v1/message/send");
        assert!(!format!("{:?}", req.headers).contains("oil-tok-1"));
        assert!(!req.text().contains("ctx-2"));
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.header("authorization"), Some("Bearer oil-tok-1"));
        assert_eq!(wire.json()["context_token"], "ctx-2");
        assert_eq!(req.json()["type"], "text");
    }

    #[test]
    fn a_refusal_says_why() {
        let h = Harness::new::<OpeniLink>()
            .setting("app_token", "t")
            .reply(Reply::json(
                401,
                json!({"ok": false, "error": "invalid token"}),
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
        let h = Harness::new::<OpeniLink>()
            .setting("app_token", "oiAppToken")
            .setting("context_token", "ctx-1")
            .reply(Reply::json(200, json!({"ok": true, "message_id": "m1"})))
            .reply(Reply::json(
                401,
                json!({"ok": false, "error": "invalid app token"}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.url, "https://hub.openilink.com/bot/v1/message/send");
        assert_eq!(wire.header("authorization"), Some("Bearer oiAppToken"));
        assert_eq!(
            wire.json(),
            json!({"type": "text", "content": "标题 Title\n\n正文 body", "context_token": "ctx-1"})
        );
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("ok false: invalid app token".into())
        );
    }
}
