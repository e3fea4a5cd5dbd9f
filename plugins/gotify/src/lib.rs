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
}
