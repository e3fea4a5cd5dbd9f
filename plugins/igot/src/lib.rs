//! iGot (notify.py's `IGOT_PUSH_KEY`).
//!
//! Sources: no iGot API reference was found; this follows qinglong's
//! sample/notify.py `iGot`: a form POST of `title` and `content` to
//! `push.hellyw.com/{IGOT_PUSH_KEY}`, `ret == 0` for success, the reason in
//! `errMsg`.

use mcp_push_sdk::prelude::*;

struct IGot;

const OFFICIAL: &str = "https://push.hellyw.com";

impl Channel for IGot {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "igot",
            "iGot",
            env!("CARGO_PKG_VERSION"),
            "Pushes through iGot",
        )
        .setting(
            Setting::new("key", "Push key")
                .env(&["IGOT_PUSH_KEY"])
                .required()
                .secret(),
        )
        .setting(Setting::api_url("IGOT_API_URL", OFFICIAL))
        .allow_host("push.hellyw.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let content = msg.with_link(msg.body.clone());
        Request::post(settings.base_url("api_url", OFFICIAL)?)
            .segment(settings.require("key")?)
            .form(&[("title", msg.title.as_str()), ("content", content.as_str())])
            .send()?
            .check(&Check::field("ret").eq(0).message("errMsg"))?;
        Ok(Receipt::none())
    }
}

export_channel!(IGot);
