//! go-cqhttp / OneBot HTTP API (notify.py's `GOBOT_URL`, `GOBOT_QQ`,
//! `GOBOT_TOKEN`).

use mcp_push_sdk::prelude::*;

struct GoCqhttp;

impl Channel for GoCqhttp {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "gocqhttp",
            "go-cqhttp",
            env!("CARGO_PKG_VERSION"),
            "Sends QQ messages through a go-cqhttp (OneBot) HTTP endpoint",
        )
        .setting(
            Setting::new(
                "url",
                "Endpoint, e.g. http://127.0.0.1:5700/send_private_msg",
            )
            .env(&["GOBOT_URL"])
            .required(),
        )
        .setting(
            Setting::new("qq", "user_id=QQ (private) or group_id=GROUP")
                .env(&["GOBOT_QQ"])
                .required(),
        )
        .setting(
            Setting::new("token", "access_token")
                .env(&["GOBOT_TOKEN"])
                .secret(),
        )
        .allow_host("setting:url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let qq = settings.require("qq")?;
        let Some((field @ ("user_id" | "group_id"), id)) = qq.trim().split_once('=') else {
            return Err(SendError::Config(format!(
                "setting `qq` (GOBOT_QQ) must be user_id=QQ or group_id=GROUP, not {qq:?}"
            )));
        };
        let mut query = vec![
            (field, id.trim().to_string()),
            ("message", msg.with_link(msg.text())),
        ];
        if let Some(token) = settings.get("token") {
            query.push(("access_token", token.to_string()));
        }
        Request::get(settings.base_url("url", "")?)
            .query(&query)
            .send()?
            // OneBot: `status` "ok" (or "async"); failures carry `retcode` and `wording`.
            .check(
                &Check::field("status")
                    .eq_str("ok")
                    .message("wording")
                    .message("msg"),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(GoCqhttp);
