//! PushDeer (notify.py's `DEER_KEY`, `DEER_URL` for a self-hosted server).

use mcp_push_sdk::prelude::*;

struct PushDeer;

const OFFICIAL: &str = "https://api2.pushdeer.com/message/push";

impl Channel for PushDeer {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushdeer",
            "PushDeer",
            env!("CARGO_PKG_VERSION"),
            "Pushes to the PushDeer app (official or self-hosted server)",
        )
        .formats(&["markdown"])
        .setting(
            Setting::new("key", "Push key")
                .env(&["DEER_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("url", "Push endpoint of a self-hosted server")
                .env(&["DEER_URL"])
                .default_value(OFFICIAL),
        )
        .allow_host("api2.pushdeer.com")
        .allow_host("setting:url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let desp = msg.with_link(msg.body.clone());
        Request::post(settings.base_url("url", OFFICIAL)?)
            .form(&[
                ("text", msg.headline(100).as_str()),
                ("desp", desp.as_str()),
                ("type", "markdown"),
                ("pushkey", settings.require("key")?),
            ])
            .send()?
            // Success lists one result per device; errors say why in `error`.
            .check(&Check::field("content.result").non_empty().message("error"))?;
        Ok(Receipt::none())
    }
}

export_channel!(PushDeer);
