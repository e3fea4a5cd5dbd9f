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
        let payload = json!({ "text": msg.with_link(msg.text()) }).to_string();
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
