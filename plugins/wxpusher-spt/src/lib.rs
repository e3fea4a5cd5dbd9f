//! WxPusher's simple push (notify.py's `WXPUSHER_SPT_LIST`: up to ten SPTs,
//! comma-separated).

use mcp_push_sdk::prelude::*;

struct WxPusherSpt;

const OFFICIAL: &str = "https://wxpusher.zjiecode.com";

impl Channel for WxPusherSpt {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "wxpusher-spt",
            "WxPusher SPT",
            env!("CARGO_PKG_VERSION"),
            "Pushes to WeChat with WxPusher simple-push tokens (no app needed)",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("spt_list", "SPT tokens, comma-separated (at most 10)")
                .env(&["WXPUSHER_SPT_LIST"])
                .required()
                .secret(),
        )
        .setting(Setting::api_url("WXPUSHER_API_URL", OFFICIAL))
        .allow_host("wxpusher.zjiecode.com")
        .allow_host("setting:api_url")
    }

    /// A list of SPTs: each item gets its own placeholder.
    fn shapes() -> Vec<Shape> {
        vec![Shape::new("spt_list").list(",")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // Each SPT is a placeholder of its own (see `shapes`).
        let spts: Vec<String> = settings
            .require("spt_list")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if spts.len() > 10 {
            return Err(SendError::Config(format!(
                "setting `spt_list` (WXPUSHER_SPT_LIST) holds {} SPTs; WxPusher takes at most 10",
                spts.len()
            )));
        }
        let mut body =
            json!({ "content": msg.html(), "summary": msg.headline(99), "contentType": 2 });
        match spts.as_slice() {
            [one] => body["spt"] = json!(one),
            many => body["sptList"] = json!(many),
        }
        Request::post(format!(
            "{}/api/send/message/simple-push",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .json(&body)
        .send()?
        .check(&Check::field("code").eq(1000).message("msg"))?;
        Ok(Receipt::none())
    }
}

export_channel!(WxPusherSpt);
