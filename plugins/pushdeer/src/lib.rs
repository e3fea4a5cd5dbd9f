//! PushDeer (notify.py's `DEER_KEY`, `DEER_URL` for a self-hosted server).
//!
//! Sources: qinglong's sample/notify.py `pushdeer` (form POST of `text`,
//! `desp`, `type`, `pushkey` to api2.pushdeer.com/message/push or `DEER_URL`;
//! success is a non-empty `content.result`); no PushDeer limits were
//! confirmed. `DEER_URL` is read as notify.py users write it
//! (see `endpoint`).

use mcp_push_sdk::prelude::*;

struct PushDeer;

const OFFICIAL: &str = "https://api2.pushdeer.com/message/push";

impl Channel for PushDeer {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushdeer",
            "PushDeer",
            env!("CARGO_PKG_VERSION"),
            "Pushes to the PushDeer app (official or self-hosted server)",
        )
        .formats(&["markdown"])
        .setting(
            Setting::new("key", "Push key")
                .env(&["DEER_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("url", "Push endpoint of a self-hosted server")
                .env(&["DEER_URL"])
                .default_value(OFFICIAL),
        )
        .allow_host("api2.pushdeer.com")
        .allow_host("setting:url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let desp = msg.body_with_link();
        Request::post(endpoint(&settings.base_url("url", OFFICIAL)?))
            .form(&[
                ("text", msg.headline(100).as_str()),
                ("desp", desp.as_str()),
                ("type", "markdown"),
                ("pushkey", settings.require("key")?),
            ])
            .send()?
            // Success lists one result per device; errors say why in `error`.
            .check(&Check::field("content.result").non_empty().message("error"))?;
        Ok(Receipt::none())
    }
}

/// `DEER_URL` as users write it: the push endpoint, or the bare origin of a
/// self-hosted server, which takes `/message/push`.
fn endpoint(url: &str) -> String {
    let path = url
        .split_once("://")
        .map_or("", |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    if path.trim_matches('/').is_empty() {
        format!("{}/message/push", url.trim_end_matches('/'))
    } else {
        url.to_string()
    }
}

export_channel!(PushDeer);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<PushDeer>();
    }

    #[test]
    fn posts_markdown_without_the_key_in_clear() {
        let h = Harness::new::<PushDeer>()
            .setting("key", "PDU1key")
            .reply(Reply::json(
                200,
                json!({"code": 0, "content": {"result": ["{\"counts\":1}"]}}),
            ));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, OFFICIAL);
        assert!(!req.text().contains("PDU1key"));
        assert!(h.on_the_wire()[0].text().contains("pushkey=PDU1key"));
        assert!(req.text().contains("type=markdown"), "{}", req.text());
    }

    #[test]
    fn no_device_reached_is_a_refusal() {
        let h = Harness::new::<PushDeer>()
            .setting("key", "k")
            .reply(Reply::json(
                200,
                json!({"code": 0, "content": {"result": []}}),
            ))
            .reply(Reply::json(
                200,
                json!({"code": 80403, "error": "pushkey invalid"}),
            ));
        let msg = message("t", "b");
        assert!(matches!(h.send(&msg), Err(SendError::Rejected(_))));
        assert!(
            matches!(h.send(&msg), Err(SendError::Rejected(m)) if m.contains("pushkey invalid"))
        );
    }

    #[test]
    fn a_bare_origin_gets_the_push_path() {
        assert_eq!(
            endpoint("https://deer.example:8800"),
            "https://deer.example:8800/message/push"
        );
        assert_eq!(
            endpoint("https://deer.example/"),
            "https://deer.example/message/push"
        );
        assert_eq!(endpoint(OFFICIAL), OFFICIAL);
        assert_eq!(
            endpoint("http://h.example/custom/push"),
            "http://h.example/custom/push"
        );
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<PushDeer>()
            .setting("key", "PDU1TdeerKey")
            .reply(Reply::json(
                200,
                json!({"code": 0, "content": {"result": ["{}"]}}),
            ))
            .reply(Reply::json(
                200,
                json!({"code": 80501, "error": "key不存在或没有权限"}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("text").as_deref(), Some("标题 Title"));
        assert_eq!(wire.form("desp").as_deref(), Some("正文 body"));
        assert_eq!(wire.form("type").as_deref(), Some("markdown"));
        assert_eq!(wire.form("pushkey").as_deref(), Some("PDU1TdeerKey"));
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("HTTP 200: key不存在或没有权限".into())
        );
    }
}
