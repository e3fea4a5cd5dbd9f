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
            "message": { "type": 1, "content": msg.with_link(msg.text()) },
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
