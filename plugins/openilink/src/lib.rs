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
        let mut body = json!({ "type": "text", "content": msg.with_link(msg.text()) });
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
