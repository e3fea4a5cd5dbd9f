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
        let bodies = match rest.first().map(|m| m.trim()).filter(|m| !m.is_empty()) {
            Some(media_id) => vec![json!({
                "touser": to_user.trim(), "msgtype": "mpnews", "agentid": agent_id, "safe": 0,
                "mpnews": { "articles": [{
                    "title": msg.headline(64), "thumb_media_id": media_id,
                    "author": "mcp-push", "content_source_url": msg.link.clone().unwrap_or_default(),
                    "content": msg.body_html(), "digest": truncate(&msg.body, Limit::Bytes(512), CUT_MARKER),
                }]},
            })],
            None => mcp_push_sdk::text::split_numbered(&text, Limit::Bytes(2048))
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
