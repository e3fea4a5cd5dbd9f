//! Gotify, the self-hosted push server (notify.py's `GOTIFY_*`, Apprise's
//! `gotify://` and `gotifys://`).
//!
//! Sources: Gotify's push message docs (gotify.net/docs/pushmsg: POST
//! `/message` with the application token, `title`, `message`, `priority`; the
//! created message's `id` on success); qinglong's sample/notify.py `gotify`
//! (`GOTIFY_PRIORITY` default 0); Apprise's `gotify://` plugin for the URL
//! form.

use mcp_push_sdk::prelude::*;

struct Gotify;

impl Channel for Gotify {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "gotify",
            "Gotify",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Gotify server with an application token",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("url", "Server URL")
                .env(&["GOTIFY_URL"])
                .required(),
        )
        .setting(
            Setting::new("token", "Application token")
                .env(&["GOTIFY_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("priority", "0 to 10; else from the message's priority")
                .env(&["GOTIFY_PRIORITY"]),
        )
        .allow_host("setting:url")
        .schemes(&["gotify", "gotifys"])
    }

    /// `gotify[s]://HOST[:PORT][/PATH]/TOKEN[?priority=N]`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let mut u = OneLine::parse(url, &["gotify", "gotifys"])?;
        let token = u
            .path
            .pop()
            .ok_or("gotify:// needs the app token: gotify://HOST/TOKEN")?;
        Pairs::new()
            .set("url", u.base_url(u.scheme == "gotifys"))
            .set("token", token)
            .maybe("priority", u.param("priority"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let priority: i64 = match settings.parse::<i64>("priority")? {
            Some(p) => p,
            // notify.py sends 0 when GOTIFY_PRIORITY is unset; a message
            // marked high or urgent still rises above it.
            None => msg.priority.on([0, 0, 8, 10]),
        };
        let mut extras = json!({});
        if msg.is_markdown() {
            extras["client::display"] = json!({ "contentType": "text/markdown" });
        }
        if let Some(link) = &msg.link {
            extras["client::notification"] = json!({ "click": { "url": link } });
        }
        let body = json!({
            "title": msg.title, "message": msg.body, "priority": priority, "extras": extras,
        });
        let reply = Request::post(format!("{}/message", settings.base_url("url", "")?))
            .header("X-Gotify-Key", settings.require("token")?)
            .json(&body)
            .send()?
            .check(
                &Check::field("id")
                    .message("errorDescription")
                    .message("error"),
            )?;
        Ok(Receipt::from_reply(&reply, "id"))
    }
}

export_channel!(Gotify);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Gotify>();
    }

    #[test]
    fn the_default_priority_is_notify_py_s_zero() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Gotify>()
            .setting("url", "https://push.example.com")
            .setting("token", "AbcToken123")
            .reply(Reply::json(200, json!({"id": 7})));
        h.send(&message("t", "b")).unwrap();
        assert_eq!(h.requests()[0].json()["priority"], 0);
    }

    #[test]
    fn parses_gotify_urls() {
        let s = Gotify::parse_url("gotifys://push.example.com/sub/Atoken?priority=7").unwrap();
        assert_eq!(s[0].1, "https://push.example.com/sub");
        assert_eq!(s[1].1, "Atoken");
        assert_eq!(s[2].1, "7");
    }

    /// `GOTIFY_PRIORITY` as the priority, Markdown as Gotify's display
    /// extra, POST to `/message` of a server under a path, the token only on
    /// the wire (moved from tests/channels_intl.rs).
    #[test]
    fn markdown_and_a_set_priority_as_documented() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Gotify>()
            .setting("url", "https://push.example.com/gotify/")
            .setting("token", "AzX1.token_value")
            .setting("priority", "7")
            .reply(Reply::json(200, json!({"id": 25, "appid": 5})));
        let mut msg = message("Backup", "# ok");
        msg.format = Format::Markdown;
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("25"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://push.example.com/gotify/message");
        assert_ne!(req.header("x-gotify-key"), Some("AzX1.token_value"));
        assert_eq!(
            h.on_the_wire()[0].header("x-gotify-key"),
            Some("AzX1.token_value")
        );
        let b = req.json();
        assert_eq!(b["title"], "Backup");
        assert_eq!(b["message"], "# ok");
        assert_eq!(b["priority"], 7);
        assert_eq!(
            b["extras"]["client::display"]["contentType"],
            "text/markdown"
        );
    }

    /// A wrong token in Gotify's words, and a priority that is not a number
    /// (moved from tests/channels_intl.rs).
    #[test]
    fn refusals_and_bad_settings_say_why() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Gotify>()
            .setting("url", "https://push.example.com/gotify")
            .setting("token", "nope")
            .reply(Reply::json(
                401,
                json!({"error": "Unauthorized", "errorCode": 401, "errorDescription": "you need to provide a valid access token or user credentials to access this api"}),
            ));
        assert_eq!(
            h.send(&message("T", "B")).unwrap_err(),
            SendError::Rejected(
                "HTTP 401: you need to provide a valid access token or user credentials to access this api"
                    .into()
            )
        );
        let odd = Harness::new::<Gotify>()
            .setting("url", "https://push.example.com/gotify")
            .setting("token", "AzX1.token_value")
            .setting("priority", "high");
        assert!(matches!(
            odd.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("setting `priority` has an invalid value")
        ));
        assert!(odd.requests().is_empty());
    }
}
