//! Discord webhooks (`DISCORD_WEBHOOK_URL`, Apprise's `discord://ID/TOKEN`):
//! posts with `?wait=true` to get the message id, and edits a run's earlier
//! message with PATCH `…/messages/{id}`.
//!
//! Sources: Discord's webhook resource
//! (discord.com/developers/docs/resources/webhook: Execute Webhook with
//! `wait=true` for the message object, Edit Webhook Message for the PATCH;
//! `content` at most 2000 characters; error 10008 "Unknown Message"; HTTP 429
//! with `retry_after` in seconds); Apprise's `discord://ID/TOKEN` form. Not in
//! qinglong's notify.py: `DISCORD_*` are mcp-push's own names.

use mcp_push_sdk::prelude::*;

struct Discord;

/// A message's content holds 2000 characters.
const LIMIT: Limit = Limit::Chars(2000);

impl Channel for Discord {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "discord",
            "Discord",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Discord channel through a webhook; edits a run's earlier message",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The webhook's URL (https://discord.com/api/webhooks/ID/TOKEN)",
            )
            .env(&["DISCORD_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .setting(Setting::new("username", "Name shown as the sender").env(&["DISCORD_USERNAME"]))
        .allow_host("discord.com")
        .allow_host("setting:webhook_url.origin")
        .schemes(&["discord"])
        .can_edit()
    }

    /// `discord://WEBHOOK_ID/WEBHOOK_TOKEN`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["discord"])?;
        let [token] = u.path.as_slice() else {
            return Err("discord:// needs the webhook's id and token: discord://ID/TOKEN".into());
        };
        Pairs::new()
            .set(
                "webhook_url",
                format!("https://discord.com/api/webhooks/{}/{token}", u.host),
            )
            .maybe(
                "username",
                u.user.clone().or(u.param("botname").map(String::from)),
            )
            .done()
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let hook = settings.require("webhook_url")?.trim_end_matches('/');
        // Discord renders Markdown; a plain text is sent as it is.
        let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
        let content = truncate(&msg.with_link(text), LIMIT, CUT_MARKER);
        let check = Check::field("id")
            .message("message")
            .retry_after("retry_after");
        if let Some(id) = msg.previous.as_deref() {
            let edited = Request::patch(format!("{hook}/messages"))
                .segment(id)
                .json(&json!({ "content": content }))
                .send()?;
            // A message deleted since (404, Discord's code 10008 "Unknown
            // Message") is posted anew, as Telegram's channel does, rather
            // than losing the update.
            if edited.status != 404 {
                edited.check(&check)?;
                return Ok(Receipt::id(id));
            }
        }
        let mut body = json!({ "content": content });
        if let Some(name) = settings.get("username") {
            body["username"] = json!(name);
        }
        let reply = Request::post(hook)
            .query(&[("wait", "true")])
            .json(&body)
            .send()?
            .check(&check)?;
        Ok(Receipt::from_reply(&reply, "id"))
    }
}

export_channel!(Discord);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Discord>();
    }

    #[test]
    fn parses_discord_urls() {
        let s = Discord::parse_url("discord://123/abc-DEF").unwrap();
        assert_eq!(s[0].1, "https://discord.com/api/webhooks/123/abc-DEF");
        assert!(Discord::parse_url("discord://123").is_err());
    }

    const HOOK: &str = "https://discord.com/api/webhooks/123/tok-abc?thread_id=9";

    /// A webhook URL with a query (threads and forum posts) keeps it valid,
    /// for posts and for edits.
    #[test]
    fn a_thread_id_in_the_webhook_url_stays_a_valid_query() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Discord>()
            .setting("webhook_url", HOOK)
            .reply(Reply::json(200, json!({"id": "m1"})))
            .reply(Reply::json(200, json!({"id": "m1"})));
        h.send(&message("t", "b")).unwrap();
        let mut update = message("t", "c");
        update.previous = Some("m1".into());
        h.send(&update).unwrap();
        let wire = h.on_the_wire();
        assert_eq!(
            wire[0].url,
            "https://discord.com/api/webhooks/123/tok-abc?wait=true&thread_id=9"
        );
        assert_eq!(
            wire[1].url,
            "https://discord.com/api/webhooks/123/tok-abc/messages/m1?thread_id=9"
        );
    }

    #[test]
    fn an_edit_of_a_deleted_message_posts_a_new_one() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Discord>()
            .setting("webhook_url", HOOK)
            .reply(Reply::json(
                404,
                json!({"message": "Unknown Message", "code": 10008}),
            ))
            .reply(Reply::json(200, json!({"id": "m2"})));
        let mut update = message("t", "c");
        update.previous = Some("m1".into());
        assert_eq!(h.send(&update).unwrap().remote_id.as_deref(), Some("m2"));
        assert_eq!(h.on_the_wire()[1].method, "POST");
    }

    /// The post as Discord takes it: `?wait=true`, the sender's name, the
    /// title in bold and the content cut at 2000 characters with a marker,
    /// the token only on the wire (moved from tests/channels_intl.rs).
    #[test]
    fn a_post_names_its_sender_and_is_cut_at_2000_characters() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Discord>()
            .setting("webhook_url", HOOK)
            .setting("username", "ci")
            .reply(Reply::json(200, json!({"id": "1100000000000000001"})));
        let receipt = h.send(&message("Build", &"x".repeat(2500))).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("1100000000000000001"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains("tok-abc"), "{}", req.url);
        assert_eq!(req.query("wait").as_deref(), Some("true"));
        let body = req.json();
        assert_eq!(body["username"], "ci");
        let content = body["content"].as_str().unwrap();
        assert_eq!(content.chars().count(), 2000);
        assert!(content.starts_with("**Build**\nxxx") && content.ends_with('…'));
    }

    /// An edit is a PATCH of the message with the new content, and keeps the
    /// message's id (moved from tests/channels_intl.rs).
    #[test]
    fn an_edit_patches_the_message_with_the_new_content() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Discord>()
            .setting("webhook_url", HOOK)
            .reply(Reply::json(
                200,
                json!({"id": "m1", "content": "**Run**\nend"}),
            ));
        let mut update = message("Run", "end");
        update.previous = Some("m1".into());
        assert_eq!(h.send(&update).unwrap().remote_id.as_deref(), Some("m1"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "PATCH");
        assert_eq!(req.json()["content"], "**Run**\nend");
    }

    /// A webhook that is gone and Discord's rate limit (moved from
    /// tests/channels_intl.rs).
    #[test]
    fn refusals_and_rate_limits_map_to_kinds() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Discord>()
            .setting("webhook_url", HOOK)
            .reply(Reply::json(
                404,
                json!({"message": "Unknown Webhook", "code": 10015}),
            ))
            .reply(
                Reply::json(
                    429,
                    json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
                )
                .header("retry-after", "2"),
            );
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("HTTP 404: Unknown Webhook".into())
        );
        assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(Some(2)));
    }
}
