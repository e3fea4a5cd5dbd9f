//! WeCom (企业微信) application messages: notify.py's `QYWX_AM` =
//! `corpid,corpsecret,touser,agentid[,media_id]` (and `QYWX_ORIGIN`). Gets an
//! access token (kept for its `expires_in`, as WeCom asks: "开发者需要缓存
//! access_token"), then posts text (split at 2048 bytes, a retry resuming
//! after the parts already delivered), a text card or an mpnews article.
//!
//! Sources: WeCom's API reference, 获取access_token
//! (developer.work.weixin.qq.com/document/path/91039) and 发送应用消息
//! (/document/path/90236: text 2048 bytes, textcard, mpnews; errcode 40014 and
//! 42001 an invalid or expired token, 45009 and 45033 rate limits, -1 busy);
//! qinglong's sample/notify.py `wecom_app` and notify.js / config.sample.sh
//! for the fifth field, where they differ from notify.py (see below).

use mcp_push_sdk::prelude::*;

struct WeComApp;

const OFFICIAL: &str = "https://qyapi.weixin.qq.com";
/// Where the access token is kept between sends.
const TOKEN: &str = "access_token";
/// errcodes of a token that is no longer valid: 40014 invalid, 42001 expired,
/// 40001 a secret that no longer matches the token.
const STALE_TOKEN: [i64; 3] = [40014, 42001, 40001];

impl Channel for WeComApp {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "wecom-app",
            "WeCom app",
            env!("CARGO_PKG_VERSION"),
            "Sends as a WeCom application to its members",
        )
        .formats(&["text"])
        .setting(
            Setting::new("am", "corpid,corpsecret,touser,agentid[,media_id]")
                .env(&["QYWX_AM"])
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
    }

    /// QYWX_AM packs `corpid,corpsecret,touser,agentid[,media_id]`: the host
    /// hands over touser, agentid and media_id in clear (the JSON needs
    /// agentid as a number); corpid and corpsecret stay secret.
    fn shapes() -> Vec<Shape> {
        vec![Shape::new("am").form(
            "am",
            r"(?P<corpid>[^,]*),(?P<corpsecret>[^,]*),(?P<touser>[^,]*),(?P<agentid>[^,]*)(?:,(?P<media>.*))?",
            &["touser", "agentid", "media"],
        )]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let origin = settings.base_url("origin", OFFICIAL)?;
        settings.require("am")?;
        if settings.get("am.form").is_none() {
            return Err(SendError::Config(
                "setting `am` (QYWX_AM) must be corpid,corpsecret,touser,agentid[,media_id]".into(),
            ));
        }
        let part = |name: &str| settings.get(&format!("am.{name}")).unwrap_or_default();
        let (corp_id, corp_secret, to_user, agent_id) = (
            part("corpid"),
            part("corpsecret"),
            part("touser"),
            part("agentid"),
        );
        let rest: Vec<&str> = settings.get("am.media").into_iter().collect();
        let agent_id: i64 = agent_id.trim().parse().map_err(|_| {
            SendError::Config(format!(
                "setting `am` (QYWX_AM): agentid must be a number, not {agent_id:?}"
            ))
        })?;
        let check = Check::errcode()
            .rate_limited(&[45009, 45033])
            .unavailable(&[-1]);
        let get_token = || {
            let reply = Request::get(format!("{origin}/cgi-bin/gettoken"))
                .query(&[("corpid", corp_id), ("corpsecret", corp_secret)])
                .send()?
                .check(&check)?;
            cache::token_from(&reply, "access_token", "expires_in", 7200)
        };
        let send = format!("{origin}/cgi-bin/message/send");
        let text = msg.text_with_link();
        // The fifth field as qinglong's notify.js and config.sample.sh read it
        // (notify.py sends mpnews for any value; a thumb_media_id is never
        // `0` or `1`, so following the users' configuration loses nothing).
        let bodies = match rest.first().map(|m| m.trim()).filter(|m| !m.is_empty()) {
            Some("0") => vec![json!({
                "touser": to_user.trim(), "msgtype": "textcard", "agentid": agent_id, "safe": 0,
                "textcard": {
                    "title": msg.headline(128),
                    "description": truncate(&msg.text(), Limit::Bytes(512), CUT_MARKER),
                    // WeCom requires a URL on a card.
                    "url": msg.link.clone().unwrap_or_else(|| "https://work.weixin.qq.com/".into()),
                    "btntxt": "更多",
                },
            })],
            Some(media_id) if media_id != "1" => vec![json!({
                "touser": to_user.trim(), "msgtype": "mpnews", "agentid": agent_id, "safe": 0,
                "mpnews": { "articles": [{
                    "title": msg.headline(64), "thumb_media_id": media_id,
                    "author": "mcp-push", "content_source_url": msg.link.clone().unwrap_or_default(),
                    "content": msg.body_html(), "digest": truncate(&msg.body, Limit::Bytes(512), CUT_MARKER),
                }]},
            })],
            _ => mcp_push_sdk::text::split_numbered(&text, Limit::Bytes(2048))
                .into_iter()
                .map(|piece| {
                    json!({
                        "touser": to_user.trim(), "msgtype": "text", "agentid": agent_id,
                        "text": { "content": piece }, "safe": 0,
                    })
                })
                .collect(),
        };
        // One request for the token, and one more if a kept one went stale.
        delivery::send_parts(&bodies, 2, |body| {
            cache::post_with_access_token(TOKEN, &send, body, get_token, &STALE_TOKEN)?
                .check(&check)
                .map(drop)
        })?;
        Ok(Receipt::none())
    }
}

export_channel!(WeComApp);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<WeComApp>();
    }

    fn sent(am: &str) -> mcp_push_sdk::serde_json::Value {
        let h = Harness::new::<WeComApp>()
            .setting("am", am)
            .reply(Reply::json(
                200,
                json!({"errcode": 0, "access_token": "AT"}),
            ))
            .reply(Reply::json(200, json!({"errcode": 0, "errmsg": "ok"})));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let wire = h.on_the_wire();
        assert!(wire[0].url.contains("corpsecret=s3cr3t"), "{}", wire[0].url);
        assert!(
            !h.requests()[0].url.contains("s3cr3t"),
            "the secret reached the channel"
        );
        wire[1].json()
    }

    /// QYWX_AM's fifth field as config.sample.sh documents it: `0` a text
    /// card, `1` plain text, anything else an mpnews thumb_media_id.
    #[test]
    fn the_fifth_field_picks_the_message_type() {
        let card = sent("wwcorp,s3cr3t,@all,1000002,0");
        assert_eq!(card["msgtype"], "textcard", "{card}");
        assert_eq!(card["textcard"]["title"], "Deploy");
        assert_eq!(card["agentid"], 1000002);
        let text = sent("wwcorp,s3cr3t,@all,1000002,1");
        assert_eq!(text["msgtype"], "text", "{text}");
        assert_eq!(text["touser"], "@all");
        let news = sent("wwcorp,s3cr3t,@all,1000002,2-MEDIA");
        assert_eq!(news["msgtype"], "mpnews", "{news}");
        assert_eq!(news["mpnews"]["articles"][0]["thumb_media_id"], "2-MEDIA");
        assert_eq!(sent("wwcorp,s3cr3t,@all,1000002")["msgtype"], "text");
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"errcode": 0, "errmsg": "ok"}))
    }

    fn token(t: &str) -> Reply {
        Reply::json(
            200,
            json!({"errcode": 0, "access_token": t, "expires_in": 7200}),
        )
    }

    /// WeCom asks that the token be kept for its 7,200 s: the second send
    /// asks for none, and a token WeCom calls invalid is fetched again once.
    #[test]
    fn the_token_is_kept_between_sends_and_fetched_again_when_stale() {
        let h = Harness::new::<WeComApp>()
            .setting("am", "wwcorp,s3cr3t,@all,1000002")
            .reply(token("AT1"))
            .reply(ok())
            .reply(ok());
        h.send(&message("one", "1")).unwrap();
        h.send(&message("two", "2")).unwrap();
        let urls: Vec<String> = h.requests().iter().map(|r| r.url.clone()).collect();
        assert_eq!(
            urls.iter().filter(|u| u.contains("gettoken")).count(),
            1,
            "{urls:?}"
        );
        assert!(urls[2].ends_with("access_token=AT1"), "{urls:?}");
        assert_eq!(h.kept(TOKEN), Some(("AT1".into(), 7140)));

        let h = h
            .reply(Reply::json(
                200,
                json!({"errcode": 42001, "errmsg": "access_token expired"}),
            ))
            .reply(token("AT2"))
            .reply(ok());
        h.send(&message("three", "3")).unwrap();
        let urls: Vec<String> = h.requests().iter().map(|r| r.url.clone()).collect();
        assert!(urls[3].ends_with("access_token=AT1"), "{urls:?}");
        assert!(urls[4].contains("gettoken"), "{urls:?}");
        assert!(urls[5].ends_with("access_token=AT2"), "{urls:?}");
    }

    /// 20 KB of text is 10+ parts: past the default budget of 8 requests,
    /// so the send reserves what it needs; a retry after part 4 failed
    /// starts at part 5.
    #[test]
    fn a_long_text_is_sent_whole_and_a_retry_resumes_after_the_parts_delivered() {
        let body = "0123456789 ".repeat(2000);
        let parts = mcp_push_sdk::text::split_numbered(&body, Limit::Bytes(2048));
        assert!(parts.len() > 10, "{}", parts.len());
        let mut h = Harness::new::<WeComApp>()
            .setting("am", "wwcorp,s3cr3t,@all,1000002")
            .reply(token("AT"));
        for _ in 0..4 {
            h = h.reply(ok());
        }
        h = h.reply(Reply::json(
            200,
            json!({"errcode": -1, "errmsg": "system busy"}),
        ));
        let err = h.send(&message("long", &body)).unwrap_err();
        assert!(matches!(err, SendError::Unavailable(_)), "{err:?}");
        assert_eq!(h.parts_sent(), 4);
        for _ in 4..parts.len() {
            h = h.reply(ok());
        }
        h.send(&message("long", &body)).unwrap();
        let texts: Vec<String> = h.requests()[1..]
            .iter()
            .map(|r| r.json()["text"]["content"].as_str().unwrap().to_string())
            .collect();
        // Parts 1-4, the failed 5th, then 5 to the end once each.
        assert_eq!(texts.len(), 5 + parts.len() - 4);
        assert_eq!(texts[4], texts[5]);
        assert_eq!(&texts[5..], &parts[4..]);
        assert!(h.denied().is_empty(), "{:?}", h.denied());
    }

    /// The token exchange (GET gettoken with the corp's secret), then 3900
    /// bytes of text as two numbered text messages to the agent; a wrong
    /// secret and a malformed agentid each say what is wrong (moved from
    /// tests/channels_cn.rs).
    #[test]
    fn token_then_numbered_texts_and_what_goes_wrong() {
        let long = "应用消息\n".repeat(300);
        let h = Harness::new::<WeComApp>()
            .setting("am", "ww0corp,corpSecretValue,@all,1000002")
            .reply(token("ACCESS_TOKEN_1"))
            .reply(ok())
            .reply(ok());
        h.send(&message("通知", &long)).unwrap();
        let wire = h.on_the_wire();
        assert_eq!(wire.len(), 3, "{wire:?}");
        assert_eq!(wire[0].method, "GET");
        assert!(
            wire[0].url.contains("corpsecret=corpSecretValue"),
            "{}",
            wire[0].url
        );
        let b = wire[1].json();
        assert_eq!(b["msgtype"], "text");
        assert_eq!(b["agentid"], 1000002);
        assert!(
            b["text"]["content"]
                .as_str()
                .unwrap()
                .starts_with("(1/2) 通知")
        );

        let bad = Harness::new::<WeComApp>()
            .setting("am", "ww0corp,wrong-secret,@all,1000002")
            .reply(Reply::json(
                200,
                json!({"errcode": 40001, "errmsg": "invalid credential, hint: [1700000000_1]"}),
            ));
        let err = bad.send(&message("T", "B")).unwrap_err();
        assert!(
            matches!(&err, SendError::Rejected(m) if m.starts_with("errcode 40001: invalid credential")),
            "{err:?}"
        );
        let malformed = Harness::new::<WeComApp>().setting("am", "ww0corp,secret,@all,notanumber");
        let err = malformed.send(&message("T", "B")).unwrap_err();
        assert!(
            matches!(&err, SendError::Config(m) if m.contains("agentid must be a number")),
            "{err:?}"
        );
    }
}
