//! WeChat Official Account template messages (微信公众号模板消息:
//! `WECHAT_OA_APP_ID`, `WECHAT_OA_APP_SECRET`, `WECHAT_OA_TEMPLATE_ID`,
//! `WECHAT_OA_TO`; no one-line URL, and neither Apprise nor qinglong's
//! notify.py has it, so the names are mcp-push's own).
//!
//! Sources: WeChat's Official Account docs, 获取 Access token (`GET
//! /cgi-bin/token?grant_type=client_credential&appid&secret`; `{access_token,
//! expires_in: 7200}`, or `{errcode, errmsg}`; "需要中控服务器统一获取和刷新",
//! i.e. keep it), 模板消息接口 (`POST
//! /cgi-bin/message/template/send?access_token=` with `{touser (an openid),
//! template_id, url, data: {NAME: {value}}}`; the reply `{errcode: 0, errmsg:
//! "ok", msgid}`) and the global return codes (40001, 40014 and 42001 a
//! token that is invalid or expired; 40003 an openid, 40037 a template_id
//! the account does not have, 43004 a user who does not follow it; 45009
//! the daily quota; -1 busy). A template's variables are its own: `data`
//! comes from `WECHAT_OA_TEMPLATE_DATA`, a JSON object of names with `$title`
//! and `$content`, by default `{"title": "$title", "content": "$content"}`
//! (a test account's template `{{title.DATA}} {{content.DATA}}`). One
//! request per follower.
//!
//! Where sources disagree: since 2023 WeChat drops the `first` and
//! `remark` fields and cuts each value to the length its type allows (a
//! `thing` 20 characters); that cutting is WeChat's, so the values are sent
//! whole.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::{Map, Value};

struct WeChatOa;

const OFFICIAL: &str = "https://api.weixin.qq.com";
/// Where the access token is kept between sends.
const TOKEN: &str = "access_token";
/// errcodes of a token that is no longer valid: 40001 invalid credential,
/// 40014 invalid, 42001 expired.
const STALE_TOKEN: [i64; 3] = [40001, 40014, 42001];
const DEFAULT_DATA: &str = r#"{"title": "$title", "content": "$content"}"#;

impl Channel for WeChatOa {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "wechat-oa",
            "WeChat Official Account",
            env!("CARGO_PKG_VERSION"),
            "Sends a template message from a WeChat Official Account to its followers",
        )
        .formats(&["text"])
        .setting(
            Setting::new("app_id", "The account's AppID")
                .env(&["WECHAT_OA_APP_ID"])
                .required(),
        )
        .setting(
            Setting::new("app_secret", "The account's AppSecret")
                .env(&["WECHAT_OA_APP_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("template_id", "The template's ID")
                .env(&["WECHAT_OA_TEMPLATE_ID"])
                .required(),
        )
        .setting(
            Setting::new("to", "Followers' openids, separated by `,` or `;`")
                .env(&["WECHAT_OA_TO"])
                .required(),
        )
        .setting(
            Setting::new(
                "template_data",
                "The template's variables as a JSON object with $title and $content",
            )
            .env(&["WECHAT_OA_TEMPLATE_DATA"])
            .default_value(DEFAULT_DATA),
        )
        .setting(Setting::api_url("WECHAT_OA_API_URL", OFFICIAL))
        .allow_host("api.weixin.qq.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let to = settings.list("to", &[',', ';']);
        if to.is_empty() {
            return Err(SendError::Config("setting `to` is missing".into()));
        }
        let data = template_data(settings, msg)?;
        let check = Check::errcode().rate_limited(&[45009]).unavailable(&[-1]);
        let (app_id, secret) = (settings.require("app_id")?, settings.require("app_secret")?);
        // The token's reply has an errcode only when it fails.
        let token_check = Check::field("access_token").non_empty();
        let get_token = || {
            let reply = Request::get(format!("{base}/cgi-bin/token"))
                .query(&[
                    ("grant_type", "client_credential"),
                    ("appid", app_id),
                    ("secret", secret),
                ])
                .send()?;
            let failed = reply.json().is_ok_and(|v| v.get("errcode").is_some());
            let reply = reply.check(if failed { &check } else { &token_check })?;
            cache::token_from(&reply, "access_token", "expires_in", 7200)
        };
        let url = format!("{base}/cgi-bin/message/template/send");
        let mut first = None;
        delivery::send_parts(&to, 2, |openid| {
            let mut body = json!({"touser": openid, "template_id": settings.require("template_id")?,
                                  "data": data});
            if let Some(link) = &msg.link {
                body["url"] = json!(link);
            }
            let reply = cache::post_with_access_token(TOKEN, &url, &body, get_token, &STALE_TOKEN)?
                .check(&check)?;
            first = first.take().or(id_at(&reply, "msgid"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// `data`: each name of `template_data` with its value filled from the
/// message (`$title`, `$content`), as `{NAME: {value}}`.
fn template_data(settings: &Settings, msg: &Message) -> Result<Value, SendError> {
    let template = settings.get_or("template_data", DEFAULT_DATA);
    let filled = fill(template, msg.title.trim(), &msg.body, Escape::Json);
    let Ok(Value::Object(vars)) = mcp_push_sdk::serde_json::from_str::<Value>(&filled) else {
        return Err(SendError::Config(
            "setting `template_data` must be a JSON object, like {\"thing1\": \"$title\"}".into(),
        ));
    };
    Ok(Value::Object(
        vars.into_iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, json!({ "value": value }))
            })
            .collect::<Map<String, Value>>(),
    ))
}

export_channel!(WeChatOa);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const SECRET: &str = "8f1c2e9d7a6b5c4d3e2f1a0b9c8d7e6f";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<WeChatOa>();
    }

    fn token(t: &str) -> Reply {
        Reply::json(200, json!({"access_token": t, "expires_in": 7200}))
    }

    fn sent(id: i64) -> Reply {
        Reply::json(200, json!({"errcode": 0, "errmsg": "ok", "msgid": id}))
    }

    fn harness() -> Harness {
        Harness::new::<WeChatOa>()
            .setting("app_id", "wx6f1a2b3c4d5e6f70")
            .setting("app_secret", SECRET)
            .setting("template_id", "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY")
            .setting("to", "OPENID1;OPENID2")
    }

    /// The documented exchange: the token from the account's AppID and
    /// secret (only on the wire), then one template message per follower,
    /// the link as its `url`; the first `msgid` is the receipt.
    #[test]
    fn gets_a_token_then_sends_to_each_follower() {
        let h = harness()
            .reply(token("ACCESS_TOKEN"))
            .reply(sent(200228332))
            .reply(sent(200228333));
        let mut msg = message("部署", "完成 \"v2\"");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("200228332")
        );
        let wire = h.on_the_wire();
        assert_eq!(
            wire[0].url,
            format!(
                "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential\
                 &appid=wx6f1a2b3c4d5e6f70&secret={SECRET}"
            )
        );
        assert!(!h.requests()[0].url.contains(SECRET));
        assert_eq!(
            wire[1].url,
            "https://api.weixin.qq.com/cgi-bin/message/template/send?access_token=ACCESS_TOKEN"
        );
        assert_eq!(
            wire[1].json(),
            json!({"touser": "OPENID1", "template_id": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
                   "url": "https://ci.example.com/7",
                   "data": {"title": {"value": "部署"}, "content": {"value": "完成 \"v2\""}}})
        );
        assert_eq!(wire[2].json()["touser"], "OPENID2");
    }

    /// `template_data` names the template's own variables; one that is not
    /// a JSON object is the user's to fix, before any request.
    #[test]
    fn template_variables_from_the_message() {
        let h = harness()
            .setting("to", "OPENID1")
            .setting(
                "template_data",
                r#"{"thing1": "$title", "time2": "2026-12-04", "thing3": "$content"}"#,
            )
            .reply(token("AT"))
            .reply(sent(1));
        h.send(&message("Backup", "ok")).unwrap();
        assert_eq!(
            h.requests()[1].json()["data"],
            json!({"thing1": {"value": "Backup"}, "time2": {"value": "2026-12-04"},
                   "thing3": {"value": "ok"}})
        );
        let h = harness().setting("template_data", "$title");
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(h.requests().is_empty());
    }

    /// WeChat asks that the token be kept; one it calls expired is fetched
    /// again, once.
    #[test]
    fn the_token_is_kept_and_fetched_again_when_stale() {
        let h = harness()
            .setting("to", "OPENID1")
            .reply(token("AT1"))
            .reply(sent(1))
            .reply(Reply::json(
                200,
                json!({"errcode": 42001, "errmsg": "access_token expired"}),
            ))
            .reply(token("AT2"))
            .reply(sent(2));
        h.send(&message("T", "1")).unwrap();
        h.send(&message("T", "2")).unwrap();
        let urls: Vec<String> = h.requests().iter().map(|r| r.url.clone()).collect();
        assert!(urls[2].ends_with("access_token=AT1"), "{urls:?}");
        assert!(urls[3].contains("/cgi-bin/token"), "{urls:?}");
        assert!(urls[4].ends_with("access_token=AT2"), "{urls:?}");
        assert_eq!(h.kept(TOKEN), Some(("AT2".into(), 7140)));
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        let outcome = |replies: Vec<Reply>| {
            let h = replies
                .into_iter()
                .fold(harness().setting("to", "OPENID1"), Harness::reply);
            h.send(&message("T", "B")).unwrap_err()
        };
        let err =
            |code: i64, text: &str| Reply::json(200, json!({"errcode": code, "errmsg": text}));
        assert_eq!(
            outcome(vec![err(40013, "invalid appid")]),
            SendError::Rejected("errcode 40013: invalid appid".into())
        );
        for (code, text) in [
            (40003, "invalid openid"),
            (40037, "invalid template_id"),
            (43004, "require subscribe"),
        ] {
            assert_eq!(
                outcome(vec![token("AT"), err(code, text)]),
                SendError::Rejected(format!("errcode {code}: {text}"))
            );
        }
        assert_eq!(
            outcome(vec![
                token("AT"),
                err(45009, "reach max api daily quota limit")
            ]),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(vec![token("AT"), err(-1, "system error")]),
            SendError::Unavailable("errcode -1: system error".into())
        );
    }
}
