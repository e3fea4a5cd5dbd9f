//! WeCom (企业微信) application messages: notify.py's `QYWX_AM` =
//! `corpid,corpsecret,touser,agentid[,media_id]` (and `QYWX_ORIGIN`). Each send
//! gets an access token, then posts text (split at 2048 bytes) or, with a
//! media_id, an mpnews article.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::reply::{lookup, text_of};

struct WeComApp;

const OFFICIAL: &str = "https://qyapi.weixin.qq.com";

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
        let token = Request::get(format!("{origin}/cgi-bin/gettoken"))
            .query(&[("corpid", corp_id), ("corpsecret", corp_secret)])
            .send()?
            .check(&check)?;
        let token = lookup(&token, "access_token")
            .map(text_of)
            .ok_or_else(|| SendError::Unavailable("gettoken gave no access_token".into()))?;
        let send = format!("{origin}/cgi-bin/message/send");
        let text = msg.with_link(msg.text());
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
        for body in bodies {
            Request::post(&send)
                .query(&[("access_token", token.as_str())])
                .json(&body)
                .send()?
                .check(&check)?;
        }
        Ok(Receipt::none())
    }
}

export_channel!(WeComApp);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

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
}
