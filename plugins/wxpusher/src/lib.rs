//! WxPusher (notify.py's `WXPUSHER_APP_TOKEN` with `WXPUSHER_TOPIC_IDS` and/or
//! `WXPUSHER_UIDS`).
//!
//! Sources: WxPusher's API reference (wxpusher.zjiecode.com/docs, and the
//! openapi.yaml of github.com/wxpusher/wxpusher-docs: POST `/api/send/message`,
//! `code` 1000 on success, then per recipient in `data` a `uid` or `topicId`
//! with its own `code` and `status`; content at most 40000 characters, summary
//! 100, at most 2000 uids and 5 topics), qinglong's sample/notify.py
//! `wxpusher_bot` for the `;`-separated lists, Apprise's `wxpusher.py` for the
//! URL form.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::reply::refused_recipients;
use mcp_push_sdk::serde_json::Value;

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
        let reply = Request::post(format!(
            "{}/api/send/message",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .json(&body)
        .send()?
        .check(&Check::field("code").eq(1000).message("msg"))?;
        per_recipient(&reply)?;
        Ok(Receipt::none())
    }
}

/// WxPusher answers `code: 1000` once it has queued the message, and lists
/// each recipient in `data` (`uid` or `topicId`, its own `code`, 1000 = ok,
/// and a `status` text). Every recipient refused is a failure; some refused
/// is a delivery, with a warning naming the others.
fn per_recipient(reply: &Value) -> Result<(), SendError> {
    let Some(targets) = reply.get("data").and_then(Value::as_array) else {
        return Ok(());
    };
    let failed = refused_recipients(targets, 1000, |_, t| {
        match (t.get("uid").and_then(Value::as_str), t.get("topicId")) {
            (Some(uid), _) => uid.to_string(),
            (None, Some(topic)) if !topic.is_null() => format!("topic {topic}"),
            _ => "a recipient".to_string(),
        }
    });
    mcp_push_sdk::reply::per_recipient("WxPusher", targets.len(), failed)
}

export_channel!(WxPusher);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<WxPusher>();
    }

    fn harness() -> Harness {
        Harness::new::<WxPusher>()
            .setting("app_token", "AT_secret_123")
            .setting("uids", "UID_a;UID_b")
            .setting("topic_ids", "42")
    }

    fn target(who: Value, code: i64, status: &str) -> Value {
        let mut t =
            json!({ "messageContentId": 7, "sendRecordId": 8, "code": code, "status": status });
        for (k, v) in who.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    }

    #[test]
    fn posts_to_users_and_topics_without_the_token_in_clear() {
        let h = harness().reply(Reply::json(
            200,
            json!({"code": 1000, "msg": "处理成功", "data": [
                target(json!({"uid": "UID_a"}), 1000, "创建发送任务成功"),
                target(json!({"uid": "UID_b"}), 1000, "创建发送任务成功"),
                target(json!({"topicId": 42}), 1000, "创建发送任务成功"),
            ]}),
        ));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://wxpusher.zjiecode.com/api/send/message");
        let body = req.json();
        assert_eq!(body["uids"], json!(["UID_a", "UID_b"]));
        assert_eq!(body["topicIds"], json!([42]));
        assert_eq!(body["contentType"], 2);
        assert!(!req.text().contains("AT_secret_123"));
        assert_eq!(body["appToken"], h.placeholder("app_token"));
        assert_eq!(h.on_the_wire()[0].json()["appToken"], "AT_secret_123");
        assert!(
            h.logs().iter().all(|l| !l.contains("Warn]")),
            "{:?}",
            h.logs()
        );
    }

    #[test]
    fn every_recipient_refused_is_a_failure() {
        let h = harness().reply(Reply::json(
            200,
            json!({"code": 1000, "msg": "处理成功", "data": [
                target(json!({"uid": "UID_a"}), 1001, "用户已取消关注"),
                target(json!({"uid": "UID_b", "topicId": null}), 1001, "uid不存在"),
                target(json!({"topicId": 42}), 1001, "主题不存在"),
            ]}),
        ));
        let err = h.send(&message("t", "b")).unwrap_err();
        let SendError::Rejected(why) = err else {
            panic!("{err:?}")
        };
        for part in [
            "UID_a",
            "用户已取消关注",
            "UID_b",
            "uid不存在",
            "topic 42",
            "主题不存在",
        ] {
            assert!(why.contains(part), "{part} not in {why}");
        }
    }

    #[test]
    fn some_recipients_refused_is_a_delivery_with_a_warning() {
        let h = harness().reply(Reply::json(
            200,
            json!({"code": 1000, "msg": "处理成功", "data": [
                target(json!({"uid": "UID_a"}), 1000, "创建发送任务成功"),
                target(json!({"uid": "UID_b"}), 1001, "用户已取消关注"),
                target(json!({"topicId": 42}), 1000, "创建发送任务成功"),
            ]}),
        ));
        h.send(&message("t", "b")).unwrap();
        let warnings: Vec<String> = h
            .logs()
            .into_iter()
            .filter(|l| l.contains("Warn]"))
            .collect();
        assert_eq!(warnings.len(), 1, "{:?}", h.logs());
        assert!(warnings[0].contains("UID_b") && warnings[0].contains("用户已取消关注"));
        assert!(warnings[0].contains("2 of 3"), "{}", warnings[0]);
        assert!(!warnings[0].contains("UID_a"));
    }

    #[test]
    fn string_codes_count_too() {
        let h = harness().reply(Reply::json(
            200,
            json!({"code": "1000", "msg": "处理成功", "data": [
                {"uid": "UID_a", "code": "1000", "status": "创建发送任务成功"},
                {"uid": "UID_b", "code": "1001", "status": "用户已取消关注"},
            ]}),
        ));
        h.send(&message("t", "b")).unwrap();
        assert!(
            h.logs()
                .iter()
                .any(|l| l.contains("Warn]") && l.contains("UID_b"))
        );
    }

    #[test]
    fn top_level_codes_still_decide() {
        let h = harness()
            .reply(Reply::json(
                200,
                json!({"code": 1001, "msg": "appToken不正确"}),
            ))
            .reply(Reply::json(200, json!({"code": 1000, "msg": "处理成功"})));
        let msg = message("t", "b");
        assert!(
            matches!(h.send(&msg), Err(SendError::Rejected(m)) if m.contains("appToken不正确"))
        );
        // No per-recipient list: the top-level code is all there is.
        h.send(&msg).unwrap();
    }

    #[test]
    fn needs_a_target() {
        let h = Harness::new::<WxPusher>().setting("app_token", "AT_x");
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
        let h = Harness::new::<WxPusher>()
            .setting("app_token", "AT_wxpusherToken")
            .setting("uids", "UID_1;UID_2")
            .setting("topic_ids", "123")
            .reply(Reply::json(
                200,
                json!({"code": 1000, "msg": "处理成功", "data": []}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["uids"], json!(["UID_1", "UID_2"]));
        assert_eq!(b["topicIds"], json!([123]));
        assert_eq!(b["contentType"], 2);
        assert_eq!(b["content"], "<h4>标题 Title</h4>正文 body");
        let none = Harness::new::<WxPusher>().setting("app_token", "AT_x");
        assert!(matches!(
            none.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("WXPUSHER_TOPIC_IDS")
        ));
    }
}
