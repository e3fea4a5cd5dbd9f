//! 智能微秘书 AIBotK (notify.py's `AIBOTK_KEY`, `AIBOTK_TYPE`, `AIBOTK_NAME`).
//!
//! Sources: no API reference was found to check against, so this follows
//! qinglong's sample/notify.py `aibotk` (which points to
//! wechat.aibotk.com/docs/about): POST `/openapi/v1/chat/room` or `/contact`
//! with `apiKey`, `roomName` or `name` and a type-1 text message; `code == 0`
//! is success, the reason in `error`. notify.py's `【青龙快讯】` prefix is not
//! added: the title is the message's own.

use mcp_push_sdk::prelude::*;

struct AiBotK;

const OFFICIAL: &str = "https://api-bot.aibotk.com";

impl Channel for AiBotK {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "aibotk",
            "AIBotK",
            env!("CARGO_PKG_VERSION"),
            "Sends to a WeChat room or contact through 智能微秘书",
        )
        .setting(
            Setting::new("key", "apiKey")
                .env(&["AIBOTK_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("type", "room or contact")
                .env(&["AIBOTK_TYPE"])
                .required(),
        )
        .setting(
            Setting::new("name", "The room's or the contact's name")
                .env(&["AIBOTK_NAME"])
                .required(),
        )
        .setting(Setting::api_url("AIBOTK_API_URL", OFFICIAL))
        .allow_host("api-bot.aibotk.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let kind = settings.choice("type", &["room", "contact"], "room")?;
        let name_field = if kind == "room" { "roomName" } else { "name" };
        let body = json!({
            "apiKey": settings.require("key")?,
            name_field: settings.require("name")?,
            "message": { "type": 1, "content": msg.text_with_link() },
        });
        Request::post(format!(
            "{}/openapi/v1/chat/{kind}",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .json(&body)
        .send()?
        .check(&Check::field("code").eq(0).message("error").message("msg"))?;
        Ok(Receipt::none())
    }
}

export_channel!(AiBotK);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<AiBotK>();
    }

    fn harness(kind: &str) -> Harness {
        Harness::new::<AiBotK>()
            .setting("key", "ak-secret-1")
            .setting("type", kind)
            .setting("name", "ops")
    }

    #[test]
    fn a_room_gets_room_name_and_the_key_stays_hidden() {
        let h = harness("room").reply(Reply::json(200, json!({"code": 0})));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://api-bot.aibotk.com/openapi/v1/chat/room");
        let body = req.json();
        assert_eq!(body["roomName"], "ops");
        assert_eq!(body["message"]["type"], 1);
        assert!(
            body["message"]["content"]
                .as_str()
                .unwrap()
                .contains("v2 is live")
        );
        assert!(!req.text().contains("ak-secret-1"));
        assert_eq!(h.on_the_wire()[0].json()["apiKey"], "ak-secret-1");
    }

    #[test]
    fn a_contact_gets_name() {
        let h = harness("contact").reply(Reply::json(200, json!({"code": 0})));
        h.send(&message("t", "b")).unwrap();
        let req = &h.requests()[0];
        assert!(req.url.ends_with("/openapi/v1/chat/contact"), "{}", req.url);
        assert_eq!(req.json()["name"], "ops");
    }

    #[test]
    fn a_refusal_says_why() {
        let h = harness("room").reply(Reply::json(
            200,
            json!({"code": 500, "error": "apiKey无效"}),
        ));
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Rejected(ref m) if m.contains("apiKey无效")),
            "{err:?}"
        );
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = harness("contact").reply(Reply::json(
            200,
            json!({"code": 500, "error": "apiKey无效"}),
        ));
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("code 500: apiKey无效".into())
        );
    }
}
