//! WxPusher's simple push (notify.py's `WXPUSHER_SPT_LIST`: up to ten SPTs,
//! comma-separated).
//!
//! Sources: WxPusher's API reference (wxpusher.zjiecode.com/docs, and the
//! openapi.yaml of github.com/wxpusher/wxpusher-docs: POST
//! `/api/send/message/simple-push` with `spt` or `sptList` of at most 10, the
//! same `code` 1000 reply and per-recipient `data` as the standard push);
//! qinglong's config.sample.sh / notify.py for the comma-separated
//! `WXPUSHER_SPT_LIST`.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::reply::refused_recipients;
use mcp_push_sdk::serde_json::Value;

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
        let reply = Request::post(format!(
            "{}/api/send/message/simple-push",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .json(&body)
        .send()?
        .check(&Check::field("code").eq(1000).message("msg"))?;
        per_recipient(&reply)?;
        Ok(Receipt::none())
    }
}

/// The simple push answers as the standard one does: `code: 1000` once
/// queued, and in `data` one entry per recipient with its own `code` (1000 =
/// ok) and `status`. Every recipient refused is a failure; some refused is a
/// delivery, with a warning. A recipient is named by its `uid` when the reply
/// has one, else by its place in the reply (never by its SPT, a secret).
fn per_recipient(reply: &Value) -> Result<(), SendError> {
    let Some(targets) = reply.get("data").and_then(Value::as_array) else {
        return Ok(());
    };
    let failed = refused_recipients(targets, 1000, |i, t| {
        match t.get("uid").and_then(Value::as_str) {
            Some(uid) => uid.to_string(),
            None => format!("recipient #{}", i + 1),
        }
    });
    mcp_push_sdk::reply::per_recipient("WxPusher", targets.len(), failed)
}

export_channel!(WxPusherSpt);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<WxPusherSpt>();
    }

    fn harness(spts: &str) -> Harness {
        Harness::new::<WxPusherSpt>().setting("spt_list", spts)
    }

    #[test]
    fn one_spt_goes_as_spt_and_is_never_in_clear() {
        let h = harness("SPT_only1").reply(Reply::json(
            200,
            json!({"code": 1000, "msg": "处理成功", "data": [
                {"uid": "UID_me", "code": 1000, "status": "创建发送任务成功"}
            ]}),
        ));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            "https://wxpusher.zjiecode.com/api/send/message/simple-push"
        );
        assert!(!req.text().contains("SPT_only1"));
        assert!(req.json().get("sptList").is_none());
        assert_eq!(h.on_the_wire()[0].json()["spt"], "SPT_only1");
    }

    #[test]
    fn several_spts_go_as_a_list() {
        let h = harness("SPT_a,SPT_b").reply(Reply::json(200, json!({"code": 1000, "msg": "ok"})));
        h.send(&message("t", "b")).unwrap();
        let req = &h.requests()[0];
        assert!(!req.text().contains("SPT_a") && !req.text().contains("SPT_b"));
        assert_eq!(
            h.on_the_wire()[0].json()["sptList"],
            json!(["SPT_a", "SPT_b"])
        );
    }

    #[test]
    fn every_recipient_refused_is_a_failure() {
        let h = harness("SPT_a,SPT_b").reply(Reply::json(
            200,
            json!({"code": 1000, "msg": "处理成功", "data": [
                {"code": 1001, "status": "SPT不存在"},
                {"uid": "UID_b", "code": 1001, "status": "用户已取消关注"},
            ]}),
        ));
        let err = h.send(&message("t", "b")).unwrap_err();
        let SendError::Rejected(why) = err else {
            panic!("{err:?}")
        };
        assert!(why.contains("recipient #1 (1001: SPT不存在)"), "{why}");
        assert!(why.contains("UID_b (1001: 用户已取消关注)"), "{why}");
    }

    #[test]
    fn some_recipients_refused_is_a_delivery_with_a_warning() {
        let h = harness("SPT_a,SPT_b").reply(Reply::json(
            200,
            json!({"code": 1000, "msg": "处理成功", "data": [
                {"uid": "UID_a", "code": 1000, "status": "创建发送任务成功"},
                {"uid": "UID_b", "code": 1001, "status": "用户已取消关注"},
            ]}),
        ));
        h.send(&message("t", "b")).unwrap();
        let warnings: Vec<String> = h
            .logs()
            .into_iter()
            .filter(|l| l.contains("Warn]"))
            .collect();
        assert_eq!(warnings.len(), 1, "{:?}", h.logs());
        assert!(warnings[0].contains("UID_b"), "{}", warnings[0]);
        assert!(!warnings[0].contains("UID_a"), "{}", warnings[0]);
    }

    #[test]
    fn more_than_ten_spts_is_a_config_error() {
        let spts: Vec<String> = (0..11).map(|i| format!("SPT_{i}")).collect();
        let h = harness(&spts.join(","));
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Config(_))
        ));
        assert!(h.requests().is_empty());
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = harness("SPT_bad").reply(Reply::json(
            200,
            json!({"code": 1001, "msg": "spt不正确", "data": null, "success": false}),
        ));
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("code 1001: spt不正确".into())
        );
        assert_eq!(
            h.requests()[0].url,
            "https://wxpusher.zjiecode.com/api/send/message/simple-push"
        );
    }
}
