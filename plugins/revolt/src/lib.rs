//! Revolt messages from a bot (`REVOLT_BOT_TOKEN`, `REVOLT_CHANNELS`,
//! Apprise's `revolt://BOT_TOKEN/CHANNEL[/CHANNEL…]`).
//!
//! Sources: Revolt's API reference (developers.revolt.chat, the OpenAPI
//! document `DataMessageSend`: POST `/channels/{target}/messages` with the
//! bot's token in `x-bot-token`, JSON `content`, `embeds` (`SendableEmbed`:
//! `icon_url`, `url`, `title`, `description`, `colour`), an optional
//! `Idempotency-Key` header replacing the deprecated `nonce`; the posted
//! Message, its `_id`); its "Rate Limits" page (a fixed window, 10 message
//! posts per channel bucket each 10 seconds, 429 with a JSON body
//! `retry_after` in milliseconds and `X-RateLimit-Reset-After`); the
//! server's source (revoltchat/backend: errors are JSON `{"type": …}`,
//! `InvalidSession` 401, `MissingPermission` 403, `UnknownChannel` and
//! `NotFound` 404, `EmptyMessage` and `PayloadTooLarge` 422,
//! `FailedValidation` 400, `DuplicateNonce` 409, `InternalError` 500);
//! Apprise's `revolt.py` (the URL form, `?to=`/`?channel=`,
//! `?bot_token=`, `?icon_url=`, `?url=`; content `title\nbody`, an embed
//! instead when an icon or a link is given; 2,000 characters, embed titles
//! 100; one request per channel). Not in qinglong's notify.py: `REVOLT_*`
//! are mcp-push's own names.
//!
//! Where the sources differ: Apprise sends its own icon in every embed; an
//! embed is sent here only when `icon_url` or `embed_url` is set, as its
//! URL form implies. Apprise's self-hosted form (a host ending in `/`,
//! probed with a GET) is not read: set `api_url` for a server of one's own.
//! No `Idempotency-Key` is sent: the server records a key before it posts
//! (`util/idempotency.rs`), so a retry of an attempt that failed on the
//! server would be refused as `DuplicateNonce` although nothing was posted.
//! Written from memory: the embed limits beyond Apprise's title (a
//! description counts against the 2,000 characters of `content`).

use mcp_push_sdk::prelude::*;

struct Revolt;

const OFFICIAL: &str = "https://api.revolt.chat";

/// What a message's content (and an embed's description) holds.
const LIMIT: Limit = Limit::Chars(2000);
/// An embed's title, as Apprise cuts it.
const TITLE_CHARS: usize = 100;

impl Channel for Revolt {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "revolt",
            "Revolt",
            env!("CARGO_PKG_VERSION"),
            "Posts to Revolt channels as a bot",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("bot_token", "The bot's token")
                .env(&["REVOLT_BOT_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "channels",
                "Channel ids the bot posts to, comma or space separated",
            )
            .env(&["REVOLT_CHANNELS"])
            .required(),
        )
        .setting(
            Setting::new("icon_url", "An icon shown in an embed (sends an embed)")
                .env(&["REVOLT_ICON_URL"]),
        )
        .setting(
            Setting::new("embed_url", "A link for the embed's title (sends an embed)")
                .env(&["REVOLT_EMBED_URL"]),
        )
        .setting(Setting::api_url("REVOLT_API_URL", OFFICIAL))
        .allow_host("api.revolt.chat")
        .allow_host("setting:api_url")
        .schemes(&["revolt"])
    }

    /// `revolt://BOT_TOKEN/CHANNEL[/CHANNEL…]`, with `?to=` or `?channel=`
    /// (more channels), `?bot_token=`, `?icon_url=` and `?url=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["revolt"])?;
        let token = u
            .param("bot_token")
            .map(String::from)
            .or_else(|| (!u.host.is_empty()).then(|| u.host.clone()));
        let mut channels = u.path.clone();
        for key in ["to", "channel"] {
            if let Some(more) = u.param(key) {
                channels.extend(
                    more.split([',', ' '])
                        .filter(|c| !c.is_empty())
                        .map(String::from),
                );
            }
        }
        let (Some(token), false) = (token, channels.is_empty()) else {
            return Err(
                "revolt:// needs the bot token and a channel: revolt://BOT_TOKEN/CHANNEL".into(),
            );
        };
        Pairs::new()
            .set("bot_token", token)
            .set("channels", channels.join(","))
            .maybe("icon_url", u.param("icon_url"))
            .maybe("embed_url", u.param("url"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let token = settings.require("bot_token")?;
        let channels = settings.list("channels", &[',', ' ']);
        if channels.is_empty() {
            return Err(SendError::Config(
                "setting `channels` (REVOLT_CHANNELS) names no channel".into(),
            ));
        }
        let body = if settings.get("icon_url").is_some() || settings.get("embed_url").is_some() {
            let mut embed = json!({
                "description": truncate(&msg.body_with_link(), LIMIT, CUT_MARKER),
            });
            if !msg.title.trim().is_empty() {
                embed["title"] = json!(truncate(
                    msg.title.trim(),
                    Limit::Chars(TITLE_CHARS),
                    CUT_MARKER
                ));
            }
            for (field, value) in settings.fields(&[("icon_url", "icon_url"), ("embed_url", "url")])
            {
                embed[field] = json!(value);
            }
            json!({ "embeds": [embed] })
        } else {
            // Revolt renders Markdown; the title leads in bold.
            let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
            json!({ "content": truncate(&msg.with_link(text), LIMIT, CUT_MARKER) })
        };
        let mut first_id = None;
        // One message per channel; a retry skips the channels reached.
        delivery::send_parts(&channels, 0, |channel| {
            // Success is the posted Message with its `_id`; a refusal names
            // its `type`, a rate limit its wait in `retry_after` (ms).
            let posted = Request::post(format!("{base}/channels"))
                .segment(channel)
                .segment("messages")
                .header("x-bot-token", token)
                .json(&body)
                .send()?
                .check(
                    &Check::field("_id")
                        .message("type")
                        .retry_after_ms("retry_after"),
                )?;
            first_id = first_id.take().or(id_at(&posted, "_id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first_id))
    }
}

export_channel!(Revolt);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const TOKEN: &str = "bW8aGz1x9Qp2Lr7Tk4Vn6Yc3Hs5Jd0Fe-Ku8Mw_Pt";
    const CHANNEL: &str = "01HZX7Q4K2M8N3P5R6S7T8V9W0";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Revolt>();
    }

    #[test]
    fn parses_apprises_revolt_urls() {
        assert_eq!(
            Revolt::parse_url(&format!(
                "revolt://{TOKEN}/{CHANNEL}/01HZX7Q4K2M8N3P5R6S7T8V9W1"
            ))
            .unwrap(),
            pairs(&[
                ("bot_token", TOKEN),
                ("channels", &format!("{CHANNEL},01HZX7Q4K2M8N3P5R6S7T8V9W1")),
            ])
        );
        assert_eq!(
            Revolt::parse_url(&format!(
                "revolt://?bot_token={TOKEN}&to={CHANNEL}&icon_url=https://x.example/i.png\
                 &url=https://ci.example.com"
            ))
            .unwrap(),
            pairs(&[
                ("bot_token", TOKEN),
                ("channels", CHANNEL),
                ("icon_url", "https://x.example/i.png"),
                ("embed_url", "https://ci.example.com"),
            ])
        );
        assert!(Revolt::parse_url(&format!("revolt://{TOKEN}")).is_err());
        assert!(Revolt::parse_url(&format!("revolt:///{CHANNEL}")).is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Revolt>()
            .setting("bot_token", TOKEN)
            .setting("channels", CHANNEL)
    }

    fn posted(id: &str) -> Reply {
        Reply::json(
            200,
            json!({"_id": id, "channel": CHANNEL, "author": "01HZBOT0000000000000000000",
                   "content": "T"}),
        )
    }

    /// The documented request: JSON `content` to the channel's messages,
    /// the token in `x-bot-token` (a placeholder until it is on the wire);
    /// the message's `_id` kept.
    #[test]
    fn posts_the_documented_request() {
        let h = harness().reply(posted("01J0MSG"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("01J0MSG"));
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            format!("https://api.revolt.chat/channels/{CHANNEL}/messages")
        );
        assert_eq!(
            req.json(),
            json!({"content": "**Deploy**\nv2 is live\n\nhttps://ci.example.com/7"})
        );
        assert_eq!(
            req.header("x-bot-token"),
            Some(h.placeholder("bot_token").as_str())
        );
        assert_eq!(h.on_the_wire()[0].header("x-bot-token"), Some(TOKEN));
        assert!(req.header("idempotency-key").is_none());
    }

    #[test]
    fn an_icon_or_a_link_sends_an_embed() {
        let h = harness()
            .setting("icon_url", "https://x.example/i.png")
            .setting("embed_url", "https://ci.example.com")
            .reply(posted("m"));
        h.send(&message(&"T".repeat(120), "disk full")).unwrap();
        let embed = &h.requests()[0].json()["embeds"][0];
        assert_eq!(embed["title"].as_str().unwrap().chars().count(), 100);
        assert_eq!(embed["description"], "disk full");
        assert_eq!(embed["icon_url"], "https://x.example/i.png");
        assert_eq!(embed["url"], "https://ci.example.com");
        assert!(h.requests()[0].json().get("content").is_none());
    }

    #[test]
    fn content_is_cut_at_2000_characters() {
        let h = harness().reply(posted("m"));
        h.send(&message("", &"é".repeat(2500))).unwrap();
        let content = h.requests()[0].json()["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(content.chars().count(), 2000);
        assert!(content.ends_with(CUT_MARKER));
    }

    /// One request per channel; a retry resumes after the channels reached.
    #[test]
    fn each_channel_in_turn_and_a_retry_resumes() {
        let h = harness()
            .setting("channels", "A1, B2 C3")
            .reply(posted("1"))
            .reply(Reply::json(500, json!({"type": "InternalError"})))
            .reply(posted("2"))
            .reply(posted("3"));
        let msg = message("T", "B");
        assert!(
            matches!(h.send(&msg), Err(SendError::Unavailable(m)) if m == "HTTP 500: InternalError")
        );
        h.send(&msg).unwrap();
        let paths: Vec<String> = h.requests().iter().map(|r| r.url.clone()).collect();
        assert_eq!(
            paths,
            ["A1", "B2", "B2", "C3"]
                .map(|c| format!("https://api.revolt.chat/channels/{c}/messages"))
        );
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, body, said) in [
            (
                401,
                json!({"type": "InvalidSession"}),
                "HTTP 401: InvalidSession",
            ),
            (
                403,
                json!({"type": "MissingPermission", "permission": "SendMessage"}),
                "HTTP 403: MissingPermission",
            ),
            (
                404,
                json!({"type": "UnknownChannel"}),
                "HTTP 404: UnknownChannel",
            ),
            (
                422,
                json!({"type": "PayloadTooLarge"}),
                "HTTP 422: PayloadTooLarge",
            ),
            (
                400,
                json!({"type": "FailedValidation", "error": "content"}),
                "HTTP 400: FailedValidation",
            ),
        ] {
            assert_eq!(
                outcome(Reply::json(status, body)),
                SendError::Rejected(said.into())
            );
        }
        assert_eq!(
            outcome(
                Reply::json(429, json!({"retry_after": 8500}))
                    .header("X-RateLimit-Reset-After", "8500")
            ),
            SendError::RateLimited(Some(9))
        );
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 502")
        ));
        // A 200 without a message id is no post.
        assert!(matches!(
            outcome(Reply::json(200, json!({}))),
            SendError::Rejected(m) if m == "HTTP 200: {}"
        ));
    }
}
