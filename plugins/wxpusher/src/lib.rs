//! WxPusher (notify.py's `WXPUSHER_APP_TOKEN` with `WXPUSHER_TOPIC_IDS` and/or
//! `WXPUSHER_UIDS`).

use mcp_push_sdk::prelude::*;

struct WxPusher;

const OFFICIAL: &str = "https://wxpusher.zjiecode.com";

impl Channel for WxPusher {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "wxpusher",
            "WxPusher",
            env!("CARGO_PKG_VERSION"),
            "Pushes to WeChat through a WxPusher app, to topics and/or users",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("app_token", "App token (AT_...)")
                .env(&["WXPUSHER_APP_TOKEN"])
                .required()
                .secret(),
        )
        .setting(Setting::new("topic_ids", "Topic ids, `;`-separated").env(&["WXPUSHER_TOPIC_IDS"]))
        .setting(Setting::new("uids", "User ids (UID_...), `;`-separated").env(&["WXPUSHER_UIDS"]))
        .setting(Setting::api_url("WXPUSHER_API_URL", OFFICIAL))
        .allow_host("wxpusher.zjiecode.com")
        .allow_host("setting:api_url")
        .schemes(&["wxpusher"])
    }

    /// `wxpusher://APP_TOKEN/TARGET...`: `UID_...` targets are users, numbers
    /// are topics.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["wxpusher"])?;
        let (uids, topics): (Vec<&String>, Vec<&String>) =
            u.path.iter().partition(|t| t.starts_with("UID_"));
        let join = |v: Vec<&String>| {
            (!v.is_empty()).then(|| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(";"))
        };
        Pairs::new()
            .set("app_token", u.host.clone())
            .maybe("uids", join(uids))
            .maybe("topic_ids", join(topics))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let topics = settings
            .list("topic_ids", &[';', ','])
            .into_iter()
            .map(|t| {
                t.parse::<i64>().map_err(|_| {
                    SendError::Config(format!("setting `topic_ids` must hold numbers, not {t:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let uids = settings.list("uids", &[';', ',']);
        if topics.is_empty() && uids.is_empty() {
            return Err(SendError::Config(
                "set `topic_ids` (WXPUSHER_TOPIC_IDS) or `uids` (WXPUSHER_UIDS)".into(),
            ));
        }
        let body = json!({
            "appToken": settings.require("app_token")?,
            "content": msg.html(), "summary": msg.headline(99), "contentType": 2,
            "topicIds": topics, "uids": uids, "verifyPayType": 0,
        });
        Request::post(format!(
            "{}/api/send/message",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .json(&body)
        .send()?
        .check(&Check::field("code").eq(1000).message("msg"))?;
        Ok(Receipt::none())
    }
}

export_channel!(WxPusher);
