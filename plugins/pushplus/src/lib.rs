//! PushPlus (推送加, notify.py's `PUSH_PLUS_*`, Apprise's `pushplus://TOKEN`).
//!
//! Sources: PushPlus' send API (www.pushplus.plus/doc/guide/api.html: POST
//! `/send` with `token`, `title`, `content`, `template`, `topic`; `code` 200 on
//! success, 500 a system error, 900 a restricted account, 999 a validation
//! error), qinglong's sample/notify.py `pushplus_bot` for `PUSH_PLUS_*`, and
//! Apprise's `pushplus.py` for `pushplus://TOKEN`.

use mcp_push_sdk::prelude::*;

struct PushPlus;

const OFFICIAL: &str = "https://www.pushplus.plus";

impl Channel for PushPlus {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushplus",
            "PushPlus",
            env!("CARGO_PKG_VERSION"),
            "Pushes through pushplus.plus to WeChat and its other channels",
        )
        .formats(&["text", "markdown", "html"])
        .setting(
            Setting::new("token", "User token")
                .env(&["PUSH_PLUS_TOKEN"])
                .required()
                .secret(),
        )
        .setting(Setting::new("topic", "Group code (一对多推送)").env(&["PUSH_PLUS_USER"]))
        .setting(
            Setting::new(
                "template",
                "html, txt, json, markdown, ...; else from the format",
            )
            .env(&["PUSH_PLUS_TEMPLATE"]),
        )
        .setting(
            Setting::new("channel", "wechat, webhook, cp, mail or sms")
                .env(&["PUSH_PLUS_CHANNEL"])
                .default_value("wechat"),
        )
        .setting(
            Setting::new("webhook", "Webhook code, for channel webhook/cp")
                .env(&["PUSH_PLUS_WEBHOOK"]),
        )
        .setting(Setting::new("callback_url", "Callback URL").env(&["PUSH_PLUS_CALLBACKURL"]))
        .setting(Setting::new("to", "Friend tokens, comma-separated").env(&["PUSH_PLUS_TO"]))
        .setting(Setting::api_url("PUSH_PLUS_API_URL", OFFICIAL))
        .allow_host("www.pushplus.plus")
        .allow_host("setting:api_url")
        .schemes(&["pushplus"])
    }

    /// `pushplus://TOKEN`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["pushplus"])?;
        if u.host.is_empty() {
            return Err("pushplus:// needs the token: pushplus://TOKEN".into());
        }
        Pairs::new()
            .set("token", u.host.clone())
            .maybe("topic", u.param("topic"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let template = settings.get("template").unwrap_or(match msg.format {
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Text => "txt",
        });
        let mut body = json!({
            "token": settings.require("token")?,
            "title": msg.headline(100),
            "content": msg.body_with_link(),
            "template": template,
            "channel": settings.get_or("channel", "wechat"),
        });
        for (key, field) in [
            ("topic", "topic"),
            ("webhook", "webhook"),
            ("callback_url", "callbackUrl"),
            ("to", "to"),
        ] {
            if let Some(v) = settings.get(key) {
                body[field] = json!(v);
            }
        }
        Request::post(format!("{}/send", settings.base_url("api_url", OFFICIAL)?))
            .json(&body)
            .send()?
            // 200 is success; 500 a temporary system error (retried); 999 a
            // validation error and 900 a restricted account are final:
            // retrying them burns the daily quota toward PushPlus' ban.
            .check(
                &Check::field("code")
                    .eq(200)
                    .message("msg")
                    .unavailable(&[500]),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(PushPlus);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<PushPlus>();
    }

    fn answer(code: i64) -> Result<Receipt, SendError> {
        Harness::new::<PushPlus>()
            .setting("token", "pp-token-1234")
            .reply(Reply::json(
                200,
                json!({"code": code, "msg": "said no", "data": null}),
            ))
            .send(&message("t", "b"))
    }

    /// PushPlus' codes: 999 (validation) and 900 (restricted) are final, 500
    /// (system error) is worth a retry.
    #[test]
    fn codes_map_to_retry_or_give_up() {
        assert!(answer(200).is_ok());
        assert!(
            matches!(answer(999), Err(SendError::Rejected(_))),
            "{:?}",
            answer(999)
        );
        assert!(matches!(answer(900), Err(SendError::Rejected(_))));
        assert!(
            matches!(answer(500), Err(SendError::Unavailable(_))),
            "{:?}",
            answer(500)
        );
    }

    /// The JSON body PushPlus documents: an HTML message keeps its HTML
    /// template, the group code is `topic`, the channel `wechat` by default;
    /// an invalid token (903) is refused with PushPlus' reason (moved from
    /// tests/channels_cn.rs).
    #[test]
    fn body_fields_and_a_refused_token() {
        let h = Harness::new::<PushPlus>()
            .setting("token", "pp-token-0123456789")
            .setting("topic", "team1")
            .reply(Reply::json(
                200,
                json!({"code": 200, "msg": "请求成功", "data": "f9c9d5bc0a1d4e8b"}),
            ))
            .reply(Reply::json(
                200,
                json!({"code": 903, "msg": "无效的用户token", "data": null}),
            ));
        let mut msg = message("日报", "<b>ok</b>");
        msg.format = Format::Html;
        h.send(&msg).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(h.requests()[0].url, "https://www.pushplus.plus/send");
        assert_eq!(b["title"], "日报");
        assert_eq!(b["content"], "<b>ok</b>");
        assert_eq!(b["template"], "html");
        assert_eq!(b["topic"], "team1");
        assert_eq!(b["channel"], "wechat");
        assert!(!h.requests()[0].text().contains("pp-token-0123456789"));
        assert_eq!(h.on_the_wire()[0].json()["token"], "pp-token-0123456789");
        let err = h.send(&message("T", "B")).unwrap_err();
        assert_eq!(err, SendError::Rejected("code 903: 无效的用户token".into()));
    }
}
