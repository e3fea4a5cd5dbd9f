//! Guilded webhooks (`GUILDED_WEBHOOK_URL`, Apprise's
//! `guilded://WEBHOOK_ID/WEBHOOK_TOKEN`).
//!
//! Sources: the Guilded API reference's webhook resource (guildedapi.com,
//! "Execute Webhook": POST `https://media.guilded.gg/webhooks/{id}/{token}`,
//! no authentication but the token in the path, JSON `content` (up to 2,000
//! characters) and/or up to 10 `embeds`, `username` (1 to 128 characters)
//! and `avatar_url` to override the webhook's own; returns the message
//! object, its `id`); Apprise's `guilded.py` (Discord's plugin pointed at
//! `media.guilded.gg/webhooks`, the same body: a Discord-compatible one) and
//! `discord.py` (`guilded://[BOTNAME@]ID/TOKEN`, `?botname=`, `?avatar_url=`;
//! 200 or 204 as success, 429 waits). Not in qinglong's notify.py:
//! `GUILDED_*` are mcp-push's own names.
//!
//! Where the sources differ: Apprise, as for Discord, sends a Markdown
//! message as embeds with its own colours and avatar; here the text goes in
//! `content` (Guilded renders Markdown), the title in bold, and no avatar is
//! sent unless one is set. The reference is community-written (Guilded's
//! own bot API docs do not describe webhook execution); written from
//! memory: the error body `{"code": …, "message": …}` of Guilded's API,
//! used to quote the reason.

use mcp_push_sdk::prelude::*;

struct Guilded;

const OFFICIAL: &str = "https://media.guilded.gg/webhooks";

/// A message's content holds 2,000 characters.
const LIMIT: Limit = Limit::Chars(2000);
/// A username override holds 128.
const USERNAME_CHARS: usize = 128;

impl Channel for Guilded {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "guilded",
            "Guilded",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Guilded channel through a webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The webhook's URL (https://media.guilded.gg/webhooks/ID/TOKEN)",
            )
            .env(&["GUILDED_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .setting(Setting::new("username", "Name shown as the sender").env(&["GUILDED_USERNAME"]))
        .setting(
            Setting::new("avatar_url", "Picture shown as the sender's")
                .env(&["GUILDED_AVATAR_URL"]),
        )
        .allow_host("media.guilded.gg")
        .allow_host("setting:webhook_url.origin")
        .schemes(&["guilded"])
    }

    /// `guilded://[BOTNAME@]WEBHOOK_ID/WEBHOOK_TOKEN`, with `?botname=` and
    /// `?avatar_url=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["guilded"])?;
        let ([token], false) = (u.path.as_slice(), u.host.is_empty()) else {
            return Err("guilded:// needs the webhook's id and token: guilded://ID/TOKEN".into());
        };
        Pairs::new()
            .set("webhook_url", format!("{OFFICIAL}/{}/{token}", u.host))
            .maybe(
                "username",
                u.user.clone().or(u.param("botname").map(String::from)),
            )
            .maybe("avatar_url", u.param("avatar_url"))
            .done()
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let hook = settings.require("webhook_url")?.trim_end_matches('/');
        let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
        let mut body = json!({ "content": truncate(&msg.with_link(text), LIMIT, CUT_MARKER) });
        if let Some(name) = settings.get("username") {
            body["username"] = json!(truncate(
                name.trim(),
                Limit::Chars(USERNAME_CHARS),
                CUT_MARKER
            ));
        }
        settings.copy_into(&mut body, &["avatar_url"]);
        // Success is the posted message with its `id`; a refusal says why
        // in `message`, a 429 how long to wait in `Retry-After`.
        let reply = Request::post(hook)
            .json(&body)
            .send()?
            .check(&Check::field("id").message("message"))?;
        Ok(Receipt::from_reply(&reply, "id"))
    }
}

export_channel!(Guilded);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const ID: &str = "5b3723f8-c82e-404d-bb56-02bbfb242e47";
    const TOKEN: &str =
        "yXEUjW1HskqGwsCWZBqGiYW4MGWAWq0sqCp8igYgQWcgNmYMu6gswa24CgoE2Akqk00YS8GYMkeqKUKKlAUYua";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Guilded>();
    }

    #[test]
    fn parses_apprises_guilded_urls() {
        let hook = format!("https://media.guilded.gg/webhooks/{ID}/{TOKEN}");
        assert_eq!(
            Guilded::parse_url(&format!("guilded://{ID}/{TOKEN}")).unwrap(),
            pairs(&[("webhook_url", &hook)])
        );
        assert_eq!(
            Guilded::parse_url(&format!(
                "guilded://CI%20Bot@{ID}/{TOKEN}?avatar_url=https://x.example/a.png"
            ))
            .unwrap(),
            pairs(&[
                ("webhook_url", &hook),
                ("username", "CI Bot"),
                ("avatar_url", "https://x.example/a.png"),
            ])
        );
        assert_eq!(
            Guilded::parse_url(&format!("guilded://{ID}/{TOKEN}?botname=CI")).unwrap()[1],
            ("username".to_string(), "CI".to_string())
        );
        assert!(Guilded::parse_url(&format!("guilded://{ID}")).is_err());
        assert!(Guilded::parse_url(&format!("guilded://{ID}/{TOKEN}/more")).is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Guilded>().setting(
            "webhook_url",
            &format!("https://media.guilded.gg/webhooks/{ID}/{TOKEN}"),
        )
    }

    fn posted() -> Reply {
        Reply::json(
            200,
            json!({"id": "9f2c0b7e-0d1a-4f4e-9a55-2b7d3c1e8f00",
                   "channelId": "b1b9451a-f758-4e49-aa81-0b148939ffeb",
                   "content": "T", "createdAt": "2026-12-04T05:00:00.000Z"}),
        )
    }

    /// The documented request: JSON `content` to the webhook's URL (the
    /// token only on the wire), the title in bold; the message's id kept.
    #[test]
    fn posts_the_documented_request() {
        let h = harness().reply(posted());
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("9f2c0b7e-0d1a-4f4e-9a55-2b7d3c1e8f00")
        );
        let req = &h.requests()[0];
        assert!(!req.url.contains(TOKEN));
        assert_eq!(
            h.on_the_wire()[0].url,
            format!("https://media.guilded.gg/webhooks/{ID}/{TOKEN}")
        );
        assert_eq!(
            req.json(),
            json!({"content": "**Deploy**\nv2 is live\n\nhttps://ci.example.com/7"})
        );
    }

    #[test]
    fn sender_overrides_and_the_2000_character_cut() {
        let h = harness()
            .setting("username", &"n".repeat(200))
            .setting("avatar_url", "https://x.example/a.png")
            .reply(posted());
        h.send(&message("", &"é".repeat(2500))).unwrap();
        let body = h.requests()[0].json();
        assert_eq!(body["username"].as_str().unwrap().chars().count(), 128);
        assert_eq!(body["avatar_url"], "https://x.example/a.png");
        let content = body["content"].as_str().unwrap();
        assert_eq!(content.chars().count(), 2000);
        assert!(content.ends_with(CUT_MARKER));
    }

    /// A webhook URL on another origin (a proxy, a test server) is reached
    /// there: its origin is allowed, its token still a secret.
    #[test]
    fn a_webhook_on_another_origin_is_reached_there() {
        let h = Harness::new::<Guilded>()
            .setting(
                "webhook_url",
                &format!("http://127.0.0.1:9/webhooks/{ID}/{TOKEN}"),
            )
            .reply(posted());
        h.send(&message("T", "B")).unwrap();
        assert_eq!(h.on_the_wire()[0].host(), "127.0.0.1");
        assert!(!h.requests()[0].url.contains(TOKEN));
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn refusals_and_rate_limits_map_to_kinds() {
        assert_eq!(
            outcome(Reply::json(
                404,
                json!({"code": "NotFoundError", "message": "Webhook not found"})
            )),
            SendError::Rejected("HTTP 404: Webhook not found".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"code": "BadRequestError", "message": "content is too long"})
            )),
            SendError::Rejected("HTTP 400: content is too long".into())
        );
        assert_eq!(
            outcome(
                Reply::json(429, json!({"code": "TooManyRequestsError"}))
                    .header("Retry-After", "12")
            ),
            SendError::RateLimited(Some(12))
        );
        assert!(matches!(
            outcome(Reply::text(503, "<html>Service Unavailable</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 503")
        ));
        assert!(matches!(
            outcome(Reply::text(200, "")),
            SendError::Unavailable(_)
        ));
    }
}
