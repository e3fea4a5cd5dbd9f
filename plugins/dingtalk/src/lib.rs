//! DingTalk group robots (notify.py's `DD_BOT_*`, Apprise's
//! `dingtalk://[SECRET@]TOKEN`), signed through the host so the secret never
//! enters the component.
//!
//! Sources: DingTalk's custom robot guide
//! (open.dingtalk.com/document/app/custom-robot-access: POST `/robot/send`,
//! `timestamp` + `sign` = base64(HMAC-SHA256) for signed robots; 20 messages a
//! minute per robot, beyond which it is throttled for 10 minutes, errcode
//! 130101 "send too fast"), qinglong's sample/notify.py `dingding_bot` for the
//! `DD_BOT_*` names, Apprise's `dingtalk.py` for the URL form. The 20000-byte
//! cap and errcode 410100 (also read as "too fast") are this file's earlier
//! assumptions, not confirmed in DingTalk's pages.

use mcp_push_sdk::crypto::{dingtalk_sign, unix_millis};
use mcp_push_sdk::prelude::*;

struct DingTalk;

/// DingTalk caps a message at 20000 bytes.
const LIMIT: Limit = Limit::Bytes(20000);

/// errcode 130101, "send too fast, exceed 20 times per minute".
const THROTTLED: i64 = 130101;
/// errcode 410100, also read as "sending too fast" (no lockout length known).
const SEND_TOO_FAST: i64 = 410100;
/// How long DingTalk refuses a robot that went over 20 messages a minute.
const LOCKOUT_SECS: u32 = 600;

fn errcode(resp: &Response) -> Option<i64> {
    mcp_push_sdk::serde_json::from_slice::<mcp_push_sdk::serde_json::Value>(&resp.body)
        .ok()?
        .get("errcode")?
        .as_i64()
}

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
                "content": truncate(&msg.text_with_link(), LIMIT, CUT_MARKER),
            }})
        };
        let resp = Request::post(format!("{base}/robot/send"))
            .query(&query)
            .json(&body)
            .send()?;
        match resp.check(
            &Check::errcode()
                .rate_limited(&[SEND_TOO_FAST, THROTTLED])
                .unavailable(&[-1]),
        ) {
            // Over 20 a minute, the robot is refused for 10 minutes: a retry
            // before then only prolongs the lockout.
            Err(SendError::RateLimited(None)) if errcode(&resp) == Some(THROTTLED) => {
                Err(SendError::RateLimited(Some(LOCKOUT_SECS)))
            }
            other => other.map(|_| Receipt::none()),
        }
    }
}

export_channel!(DingTalk);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, hmac_sha256_base64, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<DingTalk>();
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"errcode": 0, "errmsg": "ok"}))
    }

    #[test]
    fn posts_text_with_the_token_as_a_placeholder() {
        let h = Harness::new::<DingTalk>()
            .setting("token", "tok-secret-1")
            .reply(ok());
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(req.url.starts_with("https://oapi.dingtalk.com/robot/send?"));
        assert_eq!(req.json()["msgtype"], "text");
        assert!(
            req.json()["text"]["content"]
                .as_str()
                .unwrap()
                .contains("v2 is live")
        );
        assert!(!req.url.contains("tok-secret-1"), "{}", req.url);
        assert!(h.on_the_wire()[0].url.contains("access_token=tok-secret-1"));
    }

    #[test]
    fn signs_with_the_secret_without_seeing_it() {
        let h = Harness::new::<DingTalk>()
            .setting("token", "tok")
            .setting("secret", "SECxyz")
            .reply(ok());
        h.send(&message("t", "b")).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains("SECxyz"), "{}", req.url);
        let wire = &h.on_the_wire()[0].url;
        let param = |name: &str| {
            wire.split(['?', '&'])
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {wire}"))
                .to_string()
        };
        let sign = hmac_sha256_base64(
            "SECxyz",
            format!("{}\nSECxyz", param("timestamp")).as_bytes(),
        );
        assert_eq!(param("sign"), url_encode(&sign));
    }

    /// Over 20 a minute DingTalk locks the robot out for 10 minutes: the
    /// host is told to wait that long rather than retry at once.
    #[test]
    fn throttled_robot_waits_out_the_lockout() {
        let h = Harness::new::<DingTalk>()
            .setting("token", "tok")
            .reply(Reply::json(
                200,
                json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            ));
        let err = h.send(&message("t", "b")).unwrap_err();
        assert_eq!(err, SendError::RateLimited(Some(600)));
    }

    #[test]
    fn other_codes_map_to_their_kinds() {
        let h = Harness::new::<DingTalk>()
            .setting("token", "tok")
            .reply(Reply::json(
                200,
                json!({"errcode": 410100, "errmsg": "too fast"}),
            ))
            .reply(Reply::json(200, json!({"errcode": -1, "errmsg": "busy"})))
            .reply(Reply::json(
                200,
                json!({"errcode": 310000, "errmsg": "sign not match"}),
            ));
        let msg = message("t", "b");
        assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(None));
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        assert!(
            matches!(h.send(&msg), Err(SendError::Rejected(m)) if m.contains("sign not match"))
        );
    }

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

    fn now_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    /// DingTalk's text and markdown bodies as its robot API documents them,
    /// and the signing timestamp in milliseconds of the sender's clock
    /// (moved from tests/channels_cn.rs).
    #[test]
    fn text_and_markdown_bodies_and_a_millisecond_timestamp() {
        let h = Harness::new::<DingTalk>()
            .setting("token", "tok")
            .setting("secret", "SECxyz")
            .reply(ok())
            .reply(ok());
        let before = now_ms();
        h.send(&message("构建完成", "全部通过")).unwrap();
        let after = now_ms();
        let wire = &h.on_the_wire()[0];
        let ts: u64 = wire
            .url
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("timestamp="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (before - 1000..=after + 1000).contains(&ts),
            "{ts} not in {before}..{after}"
        );
        assert_eq!(
            wire.json(),
            json!({"msgtype": "text", "text": {"content": "构建完成\n\n全部通过"}})
        );
        let mut md = message("Report", "list:\n- a\n- b");
        md.format = Format::Markdown;
        h.send(&md).unwrap();
        let body = h.requests()[1].json();
        assert_eq!(body["msgtype"], "markdown");
        assert_eq!(body["markdown"]["title"], "Report");
        assert_eq!(body["markdown"]["text"], "**Report**\n\nlist:\n- a\n- b");
    }

    /// A signature DingTalk does not accept is a refusal, reason and code
    /// kept (moved from tests/channels_cn.rs).
    #[test]
    fn a_bad_signature_is_refused_with_its_code() {
        let h = Harness::new::<DingTalk>()
            .setting("token", "tok")
            .setting("secret", "SECwrong")
            .reply(Reply::json(
                200,
                json!({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}),
            ));
        let err = h.send(&message("T", "B")).unwrap_err();
        assert!(
            matches!(&err, SendError::Rejected(m) if m.starts_with("errcode 310000: sign not match")),
            "{err:?}"
        );
    }
}
