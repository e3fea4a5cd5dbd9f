//! Feishu custom bots (notify.py's `FSKEY`/`FSSECRET`, Apprise's `feishu://`),
//! and the same bots on Lark, Feishu's international edition: the `lark` plugin
//! is this file built under another package name (see plugins/lark).
//!
//! Sources: Feishu's custom bot guide
//! (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot: POST
//! `/open-apis/bot/v2/hook/{key}`, `timestamp` + `sign` for signed bots) and its
//! frequency control page
//! (open.feishu.cn/document/server-docs/api-call-guide/frequency-control: a
//! custom bot takes 100 requests a minute and 5 a second,
//! error 11232 when limited; no lockout length is given, so the host's own
//! back-off applies); qinglong's sample/notify.py `feishu_bot` (`FSKEY`,
//! `StatusCode`), Apprise's `feishu.py`. The 20 KB body cap is unconfirmed.

use mcp_push_sdk::crypto::{feishu_sign, unix_millis};
use mcp_push_sdk::prelude::*;

struct Bot;

/// Which edition this build is.
struct Edition {
    id: &'static str,
    name: &'static str,
    host: &'static str,
    key_env: &'static str,
    secret_env: &'static str,
    api_env: &'static str,
}

const EDITION: Edition = if matches!(env!("CARGO_PKG_NAME").as_bytes(), b"mcp-push-lark") {
    Edition {
        id: "lark",
        name: "Lark bot",
        host: "open.larksuite.com",
        key_env: "LARK_KEY",
        secret_env: "LARK_SECRET",
        api_env: "LARK_API_URL",
    }
} else {
    Edition {
        id: "feishu",
        name: "Feishu bot",
        host: "open.feishu.cn",
        key_env: "FSKEY",
        secret_env: "FSSECRET",
        api_env: "FS_API_URL",
    }
};

/// A request body may not exceed 20 KB; leave room for the JSON around it.
const LIMIT: Limit = Limit::Bytes(18000);

impl Channel for Bot {
    fn info() -> ChannelInfo {
        let e = &EDITION;
        ChannelInfo::new(
            e.id,
            e.name,
            env!("CARGO_PKG_VERSION"),
            "A group's custom bot (webhook), signed when it has a secret",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("key", "The webhook's key (the last part of its URL)")
                .env(&[e.key_env])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("secret", "Signing secret, when the bot verifies signatures")
                .env(&[e.secret_env])
                .secret(),
        )
        .setting(Setting::api_url(e.api_env, &format!("https://{}", e.host)))
        .allow_host(e.host)
        .allow_host("setting:api_url")
        .schemes(&[e.id])
    }

    /// `feishu://[SECRET@]KEY` (`lark://` likewise).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &[EDITION.id])?;
        if u.host.is_empty() {
            return Err(format!(
                "{0}:// needs the webhook key: {0}://[SECRET@]KEY",
                EDITION.id
            ));
        }
        Pairs::new()
            .set("key", u.host)
            .maybe("secret", u.user)
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", &format!("https://{}", EDITION.host))?;
        let mut body = if msg.is_markdown() {
            // A card renders Markdown; plain text messages do not.
            json!({ "msg_type": "interactive", "card": {
                "header": { "title": { "tag": "plain_text", "content": msg.headline(100) } },
                "elements": [{ "tag": "markdown",
                    "content": truncate(&msg.body_with_link(), LIMIT, CUT_MARKER) }],
            }})
        } else {
            json!({ "msg_type": "text", "content": {
                "text": truncate(&msg.text_with_link(), LIMIT, CUT_MARKER),
            }})
        };
        if let Some(secret) = settings.get("secret") {
            let now = unix_millis() / 1000;
            body["timestamp"] = json!(now.to_string());
            body["sign"] = json!(feishu_sign(secret, now));
        }
        Request::post(format!("{base}/open-apis/bot/v2/hook"))
            .segment(settings.require("key")?)
            .json(&body)
            .send()?
            .check(
                &Check::field("code")
                    .or_field("StatusCode")
                    .eq(0)
                    .message("msg")
                    .message("StatusMessage")
                    // 11232: frequency limited.
                    .rate_limited(&[11232]),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(Bot);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, hmac_sha256_base64, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Bot>();
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"code": 0, "msg": "success", "data": {}}))
    }

    #[test]
    fn posts_text_to_the_hook_without_the_key_in_clear() {
        let h = Harness::new::<Bot>()
            .setting("key", "hook-key-1")
            .reply(ok());
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains("hook-key-1"), "{}", req.url);
        assert_eq!(
            h.on_the_wire()[0].url,
            format!("https://{}/open-apis/bot/v2/hook/hook-key-1", EDITION.host)
        );
        let body = req.json();
        assert_eq!(body["msg_type"], "text");
        assert!(
            body["content"]["text"]
                .as_str()
                .unwrap()
                .contains("v2 is live")
        );
        assert!(body.get("sign").is_none());
    }

    #[test]
    fn signs_with_the_secret_without_seeing_it() {
        let h = Harness::new::<Bot>()
            .setting("key", "k")
            .setting("secret", "sec-xyz")
            .reply(ok());
        h.send(&message("t", "b")).unwrap();
        assert!(!h.requests()[0].text().contains("sec-xyz"));
        let wire = h.on_the_wire()[0].json();
        let ts = wire["timestamp"].as_str().unwrap();
        let expected = hmac_sha256_base64(&format!("{ts}\nsec-xyz"), b"");
        assert_eq!(wire["sign"], expected);
    }

    #[test]
    fn codes_map_to_their_kinds() {
        let h = Harness::new::<Bot>()
            .setting("key", "k")
            // Over 100 a minute or 5 a second.
            .reply(Reply::json(
                200,
                json!({"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}),
            ))
            .reply(Reply::json(
                200,
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}),
            ))
            // The older reply shape.
            .reply(Reply::json(
                200,
                json!({"StatusCode": 0, "StatusMessage": "success"}),
            ));
        let msg = message("t", "b");
        assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(None));
        assert!(
            matches!(h.send(&msg), Err(SendError::Rejected(m)) if m.contains("sign match fail"))
        );
        h.send(&msg).unwrap();
    }

    #[test]
    fn parses_urls() {
        let url = format!("{}://sec@key-1", EDITION.id);
        let s = Bot::parse_url(&url).unwrap();
        assert_eq!(s[0], ("key".to_string(), "key-1".to_string()));
        assert_eq!(s[1], ("secret".to_string(), "sec".to_string()));
    }

    /// Feishu's text body, the card a Markdown message becomes, and the
    /// signing timestamp in seconds (moved from tests/channels_cn.rs).
    #[test]
    fn text_and_card_bodies_and_a_timestamp_in_seconds() {
        let h = Harness::new::<Bot>()
            .setting("key", "k")
            .setting("secret", "sec")
            .reply(ok())
            .reply(ok());
        h.send(&message("任务", "完成")).unwrap();
        let body = h.on_the_wire()[0].json();
        assert_eq!(body["msg_type"], "text");
        assert_eq!(body["content"]["text"], "任务\n\n完成");
        let ts: u64 = body["timestamp"].as_str().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(ts) < 60, "{ts} is not {now} in seconds");
        let mut md = message("Card", "**bold**");
        md.format = Format::Markdown;
        h.send(&md).unwrap();
        let body = h.requests()[1].json();
        assert_eq!(body["msg_type"], "interactive");
        assert_eq!(body["card"]["header"]["title"]["content"], "Card");
        assert_eq!(body["card"]["elements"][0]["tag"], "markdown");
        assert_eq!(body["card"]["elements"][0]["content"], "**bold**");
    }

    /// A bad signature's refusal names Feishu's code (moved from
    /// tests/channels_cn.rs).
    #[test]
    fn a_bad_signature_is_refused_with_its_code() {
        let h = Harness::new::<Bot>()
            .setting("key", "k")
            .setting("secret", "not-the-secret")
            .reply(Reply::json(
                200,
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}}),
            ));
        let err = h.send(&message("T", "B")).unwrap_err();
        assert!(
            matches!(&err, SendError::Rejected(m) if m.starts_with("code 19021: sign match fail")),
            "{err:?}"
        );
    }
}
