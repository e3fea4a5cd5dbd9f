//! WeCom (企业微信) group robots: notify.py's `QYWX_KEY` (and `QYWX_ORIGIN` for
//! a proxy), Apprise's `wecombot://KEY`.
//!
//! Sources: WeCom's 群机器人配置说明
//! (developer.work.weixin.qq.com/document/path/91770: text up to 2048 bytes,
//! markdown up to 4096, 20 messages a minute per robot, errcode 45009 over
//! the limit); qinglong's sample/notify.py `wecom_bot`; Apprise's
//! `wecombot.py` for the URL form. Long text is sent in numbered parts, each
//! its own message, and a retry resumes after the parts already delivered.

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
        let parts = mcp_push_sdk::text::split_numbered(&msg.with_link(text), limit);
        delivery::send_parts(&parts, 0, |piece| {
            Request::post(&url)
                .query(&[("key", key)])
                .json(&json!({ "msgtype": kind, kind: { "content": piece } }))
                .send()?
                .check(&wecom_check())
                .map(drop)
        })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<WeComBot>();
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"errcode": 0, "errmsg": "ok"}))
    }

    /// 30 KB is 14 parts: all go out (the default budget is 8 requests),
    /// and a retry after the 9th was refused for the rate limit sends the
    /// 9th onward only.
    #[test]
    fn thirty_kilobytes_arrive_whole_and_once() {
        let body = "警告 disk full on host-42\n".repeat(1000);
        let msg = message("full", &body);
        let parts = mcp_push_sdk::text::split_numbered(&msg.text_with_link(), Limit::Bytes(2048));
        assert!(parts.len() > 12, "{}", parts.len());
        let mut h = Harness::new::<WeComBot>().setting("key", "k-123");
        for _ in 0..8 {
            h = h.reply(ok());
        }
        h = h.reply(Reply::json(
            200,
            json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
        ));
        let err = h.send(&msg).unwrap_err();
        assert!(matches!(err, SendError::RateLimited(_)), "{err:?}");
        assert_eq!(h.parts_sent(), 8);
        for _ in 8..parts.len() {
            h = h.reply(ok());
        }
        h.send(&msg).unwrap();
        let texts: Vec<String> = h
            .requests()
            .iter()
            .map(|r| r.json()["text"]["content"].as_str().unwrap().to_string())
            .collect();
        let mut delivered = texts[..8].to_vec();
        delivered.extend_from_slice(&texts[9..]);
        assert!(delivered == parts, "every part exactly once, in order");
        assert!(h.denied().is_empty(), "{:?}", h.denied());
        assert!(texts.iter().all(|t| t.len() <= 2048));
    }

    /// 3750 bytes of text are two numbered messages of at most 2048 bytes,
    /// every line in one of them (moved from tests/channels_cn.rs).
    #[test]
    fn long_text_is_numbered_parts_of_2048_bytes() {
        let long = "企业微信消息内容\n".repeat(150);
        let h = Harness::new::<WeComBot>()
            .setting("key", "k")
            .reply(ok())
            .reply(ok());
        h.send(&message("长消息", &long)).unwrap();
        let parts: Vec<String> = h
            .requests()
            .iter()
            .map(|r| r.json()["text"]["content"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts.iter().all(|p| p.len() <= 2048));
        assert!(parts[0].starts_with("(1/2) 长消息"));
        let joined: String = parts
            .iter()
            .map(|p| p.split_once(") ").unwrap().1)
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(joined.matches("企业微信消息内容").count(), 150);
    }

    /// WeCom's documented replies: 45009 over the rate limit, 93000 a wrong
    /// key (moved from tests/channels_cn.rs).
    #[test]
    fn replies_map_to_their_kinds() {
        let h = Harness::new::<WeComBot>()
            .setting("key", "wrong-key")
            .reply(Reply::json(
                200,
                json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
            ))
            .reply(Reply::json(
                200,
                json!({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc]"}),
            ));
        let msg = message("T", "B");
        assert!(matches!(h.send(&msg), Err(SendError::RateLimited(_))));
        let err = h.send(&msg).unwrap_err();
        assert!(
            matches!(&err, SendError::Rejected(m) if m.starts_with("errcode 93000: invalid webhook url")),
            "{err:?}"
        );
    }
}
