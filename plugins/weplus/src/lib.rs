//! WePlus bot (微加机器人, notify.py's `WE_PLUS_BOT_*`).
//!
//! Sources: no WePlus API reference was found; this follows qinglong's
//! notify.py and notify.js (`WE_PLUS_BOT_TOKEN`, `WE_PLUS_BOT_RECEIVER`,
//! `WE_PLUS_BOT_VERSION`): POST `www.weplusbot.com/send` with `token`,
//! `title`, `content`, `template` (`html` past 800 characters, as both do),
//! `code == 200` for success.

use mcp_push_sdk::prelude::*;

struct WePlus;

const OFFICIAL: &str = "https://www.weplusbot.com";

impl Channel for WePlus {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "weplus",
            "WePlus bot",
            env!("CARGO_PKG_VERSION"),
            "Pushes to WeChat through the WePlus bot",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("token", "Token")
                .env(&["WE_PLUS_BOT_TOKEN"])
                .required()
                .secret(),
        )
        .setting(Setting::new("receiver", "Receiver").env(&["WE_PLUS_BOT_RECEIVER"]))
        .setting(
            Setting::new("version", "pro or personal")
                .env(&["WE_PLUS_BOT_VERSION"])
                .default_value("pro"),
        )
        .setting(Setting::api_url("WE_PLUS_BOT_API_URL", OFFICIAL))
        .allow_host("www.weplusbot.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // notify.py and notify.js switch to the html template past 800
        // characters (the txt template holds no more).
        let content = msg.body_with_link();
        let template = if msg.is_html() || content.chars().count() > 800 {
            "html"
        } else {
            "txt"
        };
        let body = json!({
            "token": settings.require("token")?, "title": msg.headline(100),
            "content": content, "template": template,
            "receiver": settings.get_or("receiver", ""), "version": settings.get_or("version", "pro"),
        });
        Request::post(format!("{}/send", settings.base_url("api_url", OFFICIAL)?))
            .json(&body)
            .send()?
            .check(&Check::field("code").eq(200).message("msg"))?;
        Ok(Receipt::none())
    }
}

export_channel!(WePlus);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<WePlus>();
    }

    #[test]
    fn past_800_characters_the_html_template_is_used() {
        for (len, template) in [(800, "txt"), (801, "html")] {
            let h = Harness::new::<WePlus>()
                .setting("token", "wp-token-1")
                .reply(Reply::json(200, json!({"code": 200, "msg": "ok"})));
            h.send(&message("t", &"字".repeat(len))).unwrap();
            assert_eq!(h.requests()[0].json()["template"], template, "{len}");
        }
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<WePlus>()
            .setting("token", "weplusToken")
            .setting("receiver", "me")
            .reply(Reply::json(
                200,
                json!({"code": 200, "msg": "请求成功", "data": null}),
            ))
            .reply(Reply::json(
                200,
                json!({"code": 500, "msg": "token错误", "data": null}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["template"], "txt");
        assert_eq!(b["receiver"], "me");
        assert_eq!(b["version"], "pro");
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("code 500: token错误".into())
        );
    }
}
