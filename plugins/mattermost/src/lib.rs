//! Mattermost incoming webhooks (`MATTERMOST_WEBHOOK_URL`, Apprise's
//! `mmost://` and `mmosts://`).
//!
//! Sources: Mattermost's incoming webhook docs
//! (developers.mattermost.com/integrate/webhooks/incoming: POST JSON `text`
//! with optional `channel`, `username`, `icon_url` to `/hooks/{key}`; 200
//! with the body `ok`; `text` longer than a post holds, 16,383 characters
//! since server 5.0, is split by the server into consecutive posts); the
//! server's error replies (its AppError JSON `{id, message, detailed_error,
//! request_id, status_code}`: 400 for an unknown hook or a missing text, 403,
//! 404 for a channel it cannot find, 501 when an admin has turned incoming
//! webhooks off; 429 with `Retry-After` under its rate limiting); Apprise's
//! `mmost://[BOTNAME@]HOST[:PORT][/PATH]/TOKEN[?channel=NAME]` form. Not in
//! qinglong's notify.py: `MATTERMOST_*` are mcp-push's own names.
//!
//! Length: Apprise cuts at 4,000 characters (the limit before server 5.0);
//! Mattermost's docs say the server splits a longer text itself, so a
//! message is sent whole and the server does the splitting.

use mcp_push_sdk::prelude::*;

struct Mattermost;

impl Channel for Mattermost {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "mattermost",
            "Mattermost",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Mattermost channel through an incoming webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The incoming webhook's URL (https://HOST/hooks/KEY)",
            )
            .env(&["MATTERMOST_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "channel",
                "Channel name (or @user) instead of the webhook's own",
            )
            .env(&["MATTERMOST_CHANNEL"]),
        )
        .setting(Setting::new("username", "Name shown as the sender").env(&["MATTERMOST_USERNAME"]))
        .setting(
            Setting::new("icon_url", "Picture shown for the sender").env(&["MATTERMOST_ICON_URL"]),
        )
        .allow_host("setting:webhook_url.origin")
        .schemes(&["mmost", "mmosts"])
    }

    /// `mmost[s]://[BOTNAME@]HOST[:PORT][/PATH]/TOKEN[?channel=NAME]`; the
    /// webhook URL is Apprise's: the server's `/PATH/hooks/TOKEN`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let mut u = OneLine::parse(url, &["mmost", "mmosts"])?;
        let token = u
            .path
            .pop()
            .ok_or("mmost:// needs the webhook's key: mmost://HOST/TOKEN")?;
        let channel = u
            .param("channel")
            .or(u.param("to"))
            .or(u.param("channels"))
            .map(|c| c.trim_start_matches('#').to_string());
        if channel.as_deref().is_some_and(|c| c.contains(',')) {
            return Err(
                "mmost:// posts to one channel; define a channel per Mattermost channel".into(),
            );
        }
        Pairs::new()
            .set(
                "webhook_url",
                format!("{}/hooks/{token}", u.base_url(u.scheme == "mmosts")),
            )
            .maybe("username", u.user.clone())
            .maybe("channel", channel)
            .done()
    }

    /// The URL is a secret (its path holds the key); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // Mattermost renders Markdown; it has no title, so the title leads
        // as a bold line.
        let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
        let mut body = json!({ "text": msg.with_link(text) });
        settings.copy_into(&mut body, &["channel", "username", "icon_url"]);
        let reply = Request::post(settings.require("webhook_url")?)
            .json(&body)
            .send()?;
        // Success is 200 with the body `ok`; a refusal is the server's
        // AppError, its reason in `message`.
        if reply.status == 200 && reply.text().trim() == "ok" {
            return Ok(Receipt::none());
        }
        if reply.is_success() {
            return Err(SendError::Unavailable(format!(
                "unexpected reply: {}",
                reply.snippet()
            )));
        }
        match reply.check(&Check::field("status_code").eq(200).message("message")) {
            // 501: incoming webhooks are turned off on the server; only an
            // admin can change that, so a retry would not help.
            Err(SendError::Unavailable(why)) if reply.status == 501 => {
                Err(SendError::Rejected(why))
            }
            Err(e) => Err(e),
            Ok(_) => Err(reply.status_error()),
        }
    }
}

export_channel!(Mattermost);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const HOOK: &str = "https://chat.example.com/hooks/xx7key";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Mattermost>();
    }

    #[test]
    fn parses_apprise_mmost_urls() {
        let s =
            Mattermost::parse_url("mmosts://ci-bot@chat.example.com:8443/mm/xx7key?channel=%23ops")
                .unwrap();
        assert_eq!(
            s,
            vec![
                (
                    "webhook_url".into(),
                    "https://chat.example.com:8443/mm/hooks/xx7key".into()
                ),
                ("username".into(), "ci-bot".into()),
                ("channel".into(), "ops".into()),
            ]
        );
        let plain = Mattermost::parse_url("mmost://localhost:8065/yobjmukpaw3r").unwrap();
        assert_eq!(plain[0].1, "http://localhost:8065/hooks/yobjmukpaw3r");
        assert_eq!(plain.len(), 1);
        assert!(Mattermost::parse_url("mmost://chat.example.com").is_err());
        assert!(Mattermost::parse_url("mmost://h/k?channel=a,b").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Mattermost>().setting("webhook_url", HOOK)
    }

    /// The documented request: POST to the hook, JSON `text` (Markdown, the
    /// title bold), the optional overrides only when set, the key only on
    /// the wire.
    #[test]
    fn posts_the_documented_json() {
        let h = harness()
            .setting("channel", "town-square")
            .setting("username", "ci")
            .setting("icon_url", "https://example.com/i.png")
            .reply(Reply::text(200, "ok"));
        let mut msg = message("Deploy", "**done** in 3 min");
        msg.format = Format::Markdown;
        msg.link = Some("https://ci.example.com/7".into());
        assert!(h.send(&msg).unwrap().remote_id.is_none());
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains("xx7key"), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, HOOK);
        assert_eq!(
            req.json(),
            json!({
                "text": "**Deploy**\n**done** in 3 min\n\nhttps://ci.example.com/7",
                "channel": "town-square", "username": "ci",
                "icon_url": "https://example.com/i.png",
            })
        );
        let bare = harness().reply(Reply::text(200, "ok"));
        bare.send(&message("", "just text")).unwrap();
        assert_eq!(bare.requests()[0].json(), json!({"text": "just text"}));
    }

    /// Mattermost splits a text over 16,383 characters into posts itself.
    #[test]
    fn a_long_text_is_sent_whole_for_the_server_to_split() {
        let h = harness().reply(Reply::text(200, "ok"));
        let long = "word ".repeat(8000);
        h.send(&message("", &long)).unwrap();
        assert_eq!(h.requests().len(), 1);
        assert_eq!(h.requests()[0].json()["text"], long.as_str());
    }

    fn app_error(status: u16, id: &str, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"id": id, "message": text, "detailed_error": "", "request_id": "r1", "status_code": status}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_refusal_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(app_error(
                400,
                "web.incoming_webhook.invalid.app_error",
                "Invalid webhook."
            )),
            SendError::Rejected("status_code 400: Invalid webhook.".into())
        );
        assert_eq!(
            outcome(app_error(
                404,
                "web.incoming_webhook.channel.app_error",
                "Couldn't find the channel."
            )),
            SendError::Rejected("status_code 404: Couldn't find the channel.".into())
        );
        assert!(matches!(
            outcome(app_error(403, "api.context.permissions.app_error", "You do not have the appropriate permissions.")),
            SendError::Rejected(m) if m.contains("appropriate permissions")
        ));
        assert_eq!(
            outcome(app_error(
                501,
                "web.incoming_webhook.disabled.app_error",
                "Incoming webhooks have been disabled by the system admin."
            )),
            SendError::Rejected(
                "status_code 501: Incoming webhooks have been disabled by the system admin.".into()
            )
        );
        assert_eq!(
            outcome(Reply::text(429, "limit exceeded\n").header("retry-after", "4")),
            SendError::RateLimited(Some(4))
        );
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 502")
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>login</html>")),
            SendError::Unavailable(m) if m.contains("unexpected reply")
        ));
    }
}
