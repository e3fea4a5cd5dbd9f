//! PushMe (notify.py's `PUSHME_KEY`, `PUSHME_URL` for a self-hosted server).
//!
//! Sources: qinglong's sample/notify.py `pushme` (form POST of `push_key`,
//! `title`, `content`, `type` to push.i-i.me or `PUSHME_URL`; success is the
//! plain body `success`); no PushMe limits were confirmed.

use mcp_push_sdk::prelude::*;

struct PushMe;

const OFFICIAL: &str = "https://push.i-i.me";

impl Channel for PushMe {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushme",
            "PushMe",
            env!("CARGO_PKG_VERSION"),
            "Pushes to the PushMe app",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("key", "push_key")
                .env(&["PUSHME_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("url", "Server URL")
                .env(&["PUSHME_URL"])
                .default_value(OFFICIAL),
        )
        .allow_host("push.i-i.me")
        .allow_host("setting:url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let content = msg.body_with_link();
        let kind = if msg.is_markdown() {
            "markdown"
        } else {
            "text"
        };
        let reply = Request::post(format!("{}/", settings.base_url("url", OFFICIAL)?))
            .form(&[
                ("push_key", settings.require("key")?),
                ("title", msg.title.as_str()),
                ("content", content.as_str()),
                ("type", kind),
            ])
            .send()?;
        // PushMe answers the plain word `success`; anything else is its reason.
        match (reply.is_success(), reply.text().trim()) {
            (true, "success") => Ok(Receipt::none()),
            (true, why) => Err(SendError::Rejected(why.to_string())),
            (false, _) => Err(reply.status_error()),
        }
    }
}

export_channel!(PushMe);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<PushMe>();
    }

    #[test]
    fn posts_a_form_without_the_key_in_clear() {
        let h = Harness::new::<PushMe>()
            .setting("key", "pm-key-1")
            .reply(Reply::text(200, "success"));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://push.i-i.me/");
        assert!(!req.text().contains("pm-key-1"));
        assert!(h.on_the_wire()[0].text().contains("push_key=pm-key-1"));
        assert!(req.text().contains("type=text"), "{}", req.text());
    }

    #[test]
    fn anything_but_success_is_the_reason() {
        let h = Harness::new::<PushMe>()
            .setting("key", "k")
            .reply(Reply::text(200, "push_key error"))
            .reply(Reply::text(503, "busy"));
        let msg = message("t", "b");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("push_key error".into())
        );
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<PushMe>()
            .setting("key", "pushmeKey01")
            .reply(Reply::text(200, "success"));
        h.send(&message("标题 Title", "正文 body")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("title").as_deref(), Some("标题 Title"));
        assert_eq!(wire.form("type").as_deref(), Some("text"));
    }
}
