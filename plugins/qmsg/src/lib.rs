//! Qmsg酱 (notify.py's `QMSG_KEY`, `QMSG_TYPE`): QQ private (`send`) or group
//! (`group`) messages.
//!
//! Sources: no Qmsg API reference was checked; this follows qinglong's
//! sample/notify.py `qmsg_bot`: POST `qmsg.zendee.cn/{QMSG_TYPE}/{QMSG_KEY}`
//! with `msg` in the query, `----` folded to `-` (Qmsg reads it as a message
//! separator), `code == 0` for success, the reason in `reason`.

use mcp_push_sdk::prelude::*;

struct Qmsg;

const OFFICIAL: &str = "https://qmsg.zendee.cn";

impl Channel for Qmsg {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "qmsg",
            "Qmsg",
            env!("CARGO_PKG_VERSION"),
            "Sends QQ messages through Qmsg酱",
        )
        .setting(
            Setting::new("key", "Qmsg key")
                .env(&["QMSG_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("type", "send (private) or group")
                .env(&["QMSG_TYPE"])
                .required(),
        )
        .setting(Setting::api_url("QMSG_API_URL", OFFICIAL))
        .allow_host("qmsg.zendee.cn")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let kind = settings.choice("type", &["send", "group"], "send")?;
        // Qmsg reads "----" as a message separator.
        let text = msg.with_link(msg.text()).replace("----", "-");
        Request::post(format!(
            "{}/{kind}",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .segment(settings.require("key")?)
        .query(&[("msg", text)])
        .send()?
        .check(&Check::field("code").eq(0).message("reason"))?;
        Ok(Receipt::none())
    }
}

export_channel!(Qmsg);
