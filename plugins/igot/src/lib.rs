//! iGot (notify.py's `IGOT_PUSH_KEY`).
//!
//! Sources: no iGot API reference was found; this follows qinglong's
//! sample/notify.py `iGot`: a form POST of `title` and `content` to
//! `push.hellyw.com/{IGOT_PUSH_KEY}`, `ret == 0` for success, the reason in
//! `errMsg`.

use mcp_push_sdk::prelude::*;

struct IGot;

const OFFICIAL: &str = "https://push.hellyw.com";

impl Channel for IGot {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "igot",
            "iGot",
            env!("CARGO_PKG_VERSION"),
            "Pushes through iGot",
        )
        .setting(
            Setting::new("key", "Push key")
                .env(&["IGOT_PUSH_KEY"])
                .required()
                .secret(),
        )
        .setting(Setting::api_url("IGOT_API_URL", OFFICIAL))
        .allow_host("push.hellyw.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let content = msg.body_with_link();
        Request::post(settings.base_url("api_url", OFFICIAL)?)
            .segment(settings.require("key")?)
            .form(&[("title", msg.title.as_str()), ("content", content.as_str())])
            .send()?
            .check(&Check::field("ret").eq(0).message("errMsg"))?;
        Ok(Receipt::none())
    }
}

export_channel!(IGot);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<IGot>();
    }

    #[test]
    fn posts_a_form_to_the_key_without_it_in_clear() {
        let h = Harness::new::<IGot>()
            .setting("key", "igot-key-1")
            .reply(Reply::json(200, json!({"ret": 0, "data": {}})));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains("igot-key-1"), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, "https://push.hellyw.com/igot-key-1");
        assert!(req.text().contains("title=Deploy"), "{}", req.text());
    }

    #[test]
    fn a_refusal_says_why() {
        let h = Harness::new::<IGot>()
            .setting("key", "k")
            .reply(Reply::json(200, json!({"ret": 201, "errMsg": "key无效"})));
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Rejected(ref m) if m.contains("key无效")),
            "{err:?}"
        );
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<IGot>()
            .setting("key", "igotKey01")
            .reply(Reply::json(
                200,
                json!({"ret": 0, "data": {"id": "5f0d8c0a"}, "errMsg": ""}),
            ))
            .reply(Reply::json(
                200,
                json!({"ret": 201, "data": {}, "errMsg": "key无效"}),
            ));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.url, "https://push.hellyw.com/igotKey01");
        assert_eq!(wire.form("title").as_deref(), Some("标题 Title"));
        assert_eq!(wire.form("content").as_deref(), Some("正文 body"));
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected("ret 201: key无效".into())
        );
    }
}
