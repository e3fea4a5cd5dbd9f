//! go-cqhttp / OneBot HTTP API (notify.py's `GOBOT_URL`, `GOBOT_QQ`,
//! `GOBOT_TOKEN`).
//!
//! Sources: OneBot v11's public API (github.com/botuniverse/onebot-11,
//! api/public.md: `send_private_msg`/`send_group_msg`, `status` "ok" or
//! "async", `retcode` and `wording` on failure); qinglong's sample/notify.py
//! `go_cqhttp` for `GOBOT_URL` (the whole endpoint), `GOBOT_QQ`
//! (`user_id=...`/`group_id=...`) and `GOBOT_TOKEN` as `access_token`: users'
//! existing configuration wins over a tidier split of the endpoint.

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
            ("message", msg.text_with_link()),
        ];
        if let Some(token) = settings.get("token") {
            query.push(("access_token", token.to_string()));
        }
        Request::get(settings.base_url("url", "")?)
            .query(&query)
            .send()?
            // OneBot v11: `status` "ok", or "async" for a call queued by the
            // implementation (success too); failures carry `retcode` and
            // `wording`.
            .check(
                &Check::field("status")
                    .any_str(&["ok", "async"])
                    .message("wording")
                    .message("msg"),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(GoCqhttp);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<GoCqhttp>();
    }

    /// OneBot v11's `status: "async"` (a call queued) is success.
    #[test]
    fn async_is_success() {
        for (status, ok) in [("ok", true), ("async", true), ("failed", false)] {
            let h = Harness::new::<GoCqhttp>()
                .setting("url", "http://127.0.0.1:5700/send_private_msg")
                .setting("qq", "user_id=10001")
                .reply(Reply::json(
                    200,
                    json!({"status": status, "retcode": 0, "data": null}),
                ));
            assert_eq!(h.send(&message("t", "b")).is_ok(), ok, "{status}");
        }
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<GoCqhttp>()
            .setting("url", "http://127.0.0.1:5700/send_private_msg")
            .setting("qq", "user_id=10001")
            .setting("token", "cq-token-123")
            .reply(Reply::json(200, json!({"status": "ok", "retcode": 0, "data": {"message_id": 123}})))
            .reply(Reply::json(
                401,
                json!({"status": "failed", "retcode": 1403, "msg": "token验证失败", "wording": "token验证失败"}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.method, "GET");
        assert_eq!(wire.query("user_id").as_deref(), Some("10001"));
        assert_eq!(
            wire.query("message").as_deref(),
            Some("标题 Title\n\n正文 body")
        );
        assert!(!h.requests()[0].url.contains("cq-token-123"));
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("status failed: token验证失败".into())
        );
        let bad = Harness::new::<GoCqhttp>()
            .setting("url", "http://127.0.0.1:5700/send_private_msg")
            .setting("qq", "10001");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("GOBOT_QQ")
        ));
    }
}
