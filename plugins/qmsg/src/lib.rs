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
        let text = msg.text_with_link().replace("----", "-");
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

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Qmsg>();
    }

    #[test]
    fn sends_to_the_type_and_key_without_the_key_in_clear() {
        let h = Harness::new::<Qmsg>()
            .setting("key", "qmsg-key-1")
            .setting("type", "group")
            .reply(Reply::json(200, json!({"code": 0, "success": true})));
        h.send(&message("Deploy", "a ---- b")).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains("qmsg-key-1"), "{}", req.url);
        let wire = &h.on_the_wire()[0].url;
        assert!(
            wire.starts_with("https://qmsg.zendee.cn/group/qmsg-key-1?msg="),
            "{wire}"
        );
        // "----" would split the message in two.
        assert!(!wire.contains("----"), "{wire}");
    }

    #[test]
    fn a_refusal_says_why() {
        let h = Harness::new::<Qmsg>()
            .setting("key", "k")
            .setting("type", "send")
            .reply(Reply::json(
                200,
                json!({"code": 500, "reason": "无效的KEY"}),
            ));
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Rejected(ref m) if m.contains("无效的KEY")),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_type_is_a_config_error() {
        let h = Harness::new::<Qmsg>()
            .setting("key", "k")
            .setting("type", "channel");
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Config(_))
        ));
        assert!(h.requests().is_empty());
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<Qmsg>()
            .setting("key", "qmsgKey123")
            .setting("type", "group")
            .reply(Reply::json(
                200,
                json!({"success": true, "reason": "操作成功", "code": 0, "info": {}}),
            ))
            .reply(Reply::json(
                200,
                json!({"success": false, "reason": "无效的KEY", "code": 500, "info": {}}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert!(
            wire.url
                .starts_with("https://qmsg.zendee.cn/group/qmsgKey123?"),
            "{}",
            wire.url
        );
        assert_eq!(
            wire.query("msg").as_deref(),
            Some("标题 Title\n\n正文 body")
        );
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("code 500: 无效的KEY".into())
        );
        let bad = Harness::new::<Qmsg>()
            .setting("key", "k")
            .setting("type", "channel");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("setting `type` must be one of send, group")
        ));
    }
}
