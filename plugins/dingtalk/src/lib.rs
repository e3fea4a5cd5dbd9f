//! DingTalk group robots (notify.py's `DD_BOT_*`, Apprise's
//! `dingtalk://[SECRET@]TOKEN`), signed through the host so the secret never
//! enters the component.

use mcp_push_sdk::crypto::{dingtalk_sign, unix_millis};
use mcp_push_sdk::prelude::*;

struct DingTalk;

/// DingTalk caps a message at 20000 bytes.
const LIMIT: Limit = Limit::Bytes(20000);

impl Channel for DingTalk {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "dingtalk",
            "DingTalk robot",
            env!("CARGO_PKG_VERSION"),
            "A DingTalk group robot (custom webhook), signed when it has a secret",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("token", "The robot's access_token")
                .env(&["DD_BOT_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("secret", "Signing secret (SEC...), when the robot signs")
                .env(&["DD_BOT_SECRET"])
                .secret(),
        )
        .setting(Setting::api_url(
            "DD_BOT_API_URL",
            "https://oapi.dingtalk.com",
        ))
        .allow_host("oapi.dingtalk.com")
        .allow_host("setting:api_url")
        .schemes(&["dingtalk"])
    }

    /// `dingtalk://TOKEN` or `dingtalk://SECRET@TOKEN`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["dingtalk"])?;
        if u.host.is_empty() {
            return Err("dingtalk:// needs the robot's token: dingtalk://[SECRET@]TOKEN".into());
        }
        Pairs::new()
            .set("token", u.host)
            .maybe("secret", u.user)
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", "https://oapi.dingtalk.com")?;
        let mut query = vec![("access_token", settings.require("token")?.to_string())];
        if let Some(secret) = settings.get("secret") {
            let now = unix_millis();
            query.push(("timestamp", now.to_string()));
            query.push(("sign", dingtalk_sign(secret, now)));
        }
        let body = if msg.is_markdown() {
            json!({ "msgtype": "markdown", "markdown": {
                "title": msg.headline(64),
                "text": truncate(&msg.with_link(msg.markdown()), LIMIT, CUT_MARKER),
            }})
        } else {
            json!({ "msgtype": "text", "text": {
                "content": truncate(&msg.with_link(msg.text()), LIMIT, CUT_MARKER),
            }})
        };
        Request::post(format!("{base}/robot/send"))
            .query(&query)
            .json(&body)
            .send()?
            .check(
                &Check::errcode()
                    // 410100: sending too fast; 130101: over 20 a minute.
                    .rate_limited(&[410100, 130101])
                    .unavailable(&[-1]),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(DingTalk);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dingtalk_urls() {
        let s = DingTalk::parse_url("dingtalk://SECabc@tok123").unwrap();
        assert_eq!(
            s,
            vec![
                ("token".to_string(), "tok123".to_string()),
                ("secret".to_string(), "SECabc".to_string())
            ]
        );
        assert_eq!(DingTalk::parse_url("dingtalk://tok").unwrap().len(), 1);
    }
}
