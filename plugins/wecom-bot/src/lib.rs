//! WeCom (企业微信) group robots: notify.py's `QYWX_KEY` (and `QYWX_ORIGIN` for
//! a proxy), Apprise's `wecombot://KEY`.

use mcp_push_sdk::prelude::*;

struct WeComBot;

const OFFICIAL: &str = "https://qyapi.weixin.qq.com";

impl Channel for WeComBot {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "wecom-bot",
            "WeCom robot",
            env!("CARGO_PKG_VERSION"),
            "A WeCom group robot (webhook key); long text is sent in several messages",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("key", "The robot's webhook key")
                .env(&["QYWX_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("origin", "API origin, for a proxy")
                .env(&["QYWX_ORIGIN"])
                .default_value(OFFICIAL),
        )
        .allow_host("qyapi.weixin.qq.com")
        .allow_host("setting:origin")
        .schemes(&["wecombot"])
    }

    /// `wecombot://KEY`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["wecombot"])?;
        if u.host.is_empty() {
            return Err("wecombot:// needs the robot's key: wecombot://KEY".into());
        }
        Pairs::new().set("key", u.host).done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = format!(
            "{}/cgi-bin/webhook/send",
            settings.base_url("origin", OFFICIAL)?
        );
        let key = settings.require("key")?;
        // Text holds 2048 bytes, Markdown 4096.
        let (kind, text, limit) = if msg.is_markdown() {
            ("markdown", msg.markdown(), Limit::Bytes(4096))
        } else {
            ("text", msg.text(), Limit::Bytes(2048))
        };
        for piece in mcp_push_sdk::text::split_numbered(&msg.with_link(text), limit) {
            Request::post(&url)
                .query(&[("key", key)])
                .json(&json!({ "msgtype": kind, kind: { "content": piece } }))
                .send()?
                .check(&wecom_check())?;
        }
        Ok(Receipt::none())
    }
}

/// WeCom's replies: 45009 and 45033 are over a rate limit, -1 is "system busy".
fn wecom_check() -> Check<'static> {
    Check::errcode()
        .rate_limited(&[45009, 45033])
        .unavailable(&[-1])
}

export_channel!(WeComBot);
