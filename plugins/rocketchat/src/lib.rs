//! Rocket.Chat incoming webhooks (`ROCKETCHAT_WEBHOOK_URL`, Apprise's
//! `rocket://` and `rockets://` in webhook mode).
//!
//! Sources: Rocket.Chat's integration docs (Administration > Integrations >
//! Incoming WebHook: POST the JSON of "Post a chat message", `text` with
//! optional `channel` (`#channel`, `@user` or a room id), `alias`, `avatar`,
//! to `/hooks/{integrationId}/{token}`); the server's webhook route
//! (apps/meteor/app/integrations/server/api/api.ts: 200 `{"success": true}`;
//! refusals `{"success": false, "error": …}`, 400 for a channel override the
//! integration does not allow, 404 (newer servers 401) for an unknown id or
//! token, 503 for a disabled integration, 429 from the API rate limiter);
//! the `Message_MaxAllowedSize` setting (5,000 characters by default);
//! Apprise's `rocket[s]://WEBHOOK@HOST[:PORT][/TARGET]` form (the webhook
//! `ID/TOKEN`, its slash as written or as `%2F`). Not in qinglong's
//! notify.py: `ROCKETCHAT_*` are mcp-push's own names.
//!
//! Length: Apprise cuts at 1,000 characters; the server's default limit is
//! 5,000, which is followed here. Apprise's user/password modes log in to
//! the REST API and are not offered: a webhook needs no account.

use mcp_push_sdk::prelude::*;

struct RocketChat;

/// `Message_MaxAllowedSize`'s default.
const LIMIT: Limit = Limit::Chars(5000);

impl Channel for RocketChat {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "rocketchat",
            "Rocket.Chat",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Rocket.Chat channel through an incoming webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The incoming webhook's URL (https://HOST/hooks/ID/TOKEN)",
            )
            .env(&["ROCKETCHAT_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "channel",
                "#channel, @user or a room id instead of the webhook's own",
            )
            .env(&["ROCKETCHAT_CHANNEL"]),
        )
        .setting(Setting::new("alias", "Name shown as the sender").env(&["ROCKETCHAT_ALIAS"]))
        .setting(
            Setting::new("avatar", "Picture (URL) shown for the sender")
                .env(&["ROCKETCHAT_AVATAR"]),
        )
        .allow_host("setting:webhook_url.origin")
        .schemes(&["rocket", "rockets"])
    }

    /// `rocket[s]://[USER:]ID/TOKEN@HOST[:PORT][/TARGET]` (the slash also as
    /// `%2F`), or the webhook in `?webhook=ID/TOKEN`; TARGET is `#channel`,
    /// `@user` or a room id, as in Apprise's webhook mode.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(&slash_in_webhook_escaped(url), &["rocket", "rockets"])?;
        let webhook = u
            .param("webhook")
            .map(String::from)
            .or(u.password.clone())
            .or(u.user.clone())
            .filter(|w| w.contains('/'))
            .ok_or(
                "rocket:// needs the webhook's ID/TOKEN: rockets://ID%2FTOKEN@HOST \
                 (the user/password modes are not supported)",
            )?;
        let mut targets: Vec<String> = u.path.clone();
        if let Some(to) = u.param("to") {
            targets.extend(to.split(',').map(|t| t.trim().to_string()));
        }
        targets.retain(|t| !t.is_empty());
        if targets.len() > 1 {
            return Err("rocket:// posts to one target; define a channel per target".into());
        }
        let base = format!(
            "{}://{}",
            if u.scheme == "rockets" {
                "https"
            } else {
                "http"
            },
            u.authority()
        );
        Pairs::new()
            .set(
                "webhook_url",
                format!("{base}/hooks/{}", webhook.trim_matches('/')),
            )
            .maybe("channel", targets.pop())
            .maybe(
                "avatar",
                u.param("avatar").filter(|a| a.starts_with("http")),
            )
            .done()
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // Rocket.Chat renders Markdown (`*bold*`); it has no title, so the
        // title leads as a bold line.
        let text = heading(&Bold::Mrkdwn.title(&msg.title), &msg.body, "\n");
        let mut body = json!({ "text": truncate(&msg.with_link(text), LIMIT, CUT_MARKER) });
        settings.copy_into(&mut body, &["channel", "alias", "avatar"]);
        // Success is `{"success": true}`; a refusal says why in `error`.
        Request::post(settings.require("webhook_url")?)
            .json(&body)
            .send()?
            .check(&Check::field("success").is_true().message("error"))?;
        Ok(Receipt::none())
    }
}

/// Apprise accepts the webhook's `ID/TOKEN` (after an optional `USER:`)
/// before the `@` with its slash as written; escape it so the URL's user
/// part holds it.
fn slash_in_webhook_escaped(url: &str) -> String {
    let Some((scheme, rest)) = url.trim().split_once("://") else {
        return url.to_string();
    };
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    let head = &rest[..at];
    let webhook_like = head.matches('/').count() == 1
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/:_-".contains(c));
    if webhook_like {
        format!("{scheme}://{}{}", head.replace('/', "%2F"), &rest[at..])
    } else {
        url.to_string()
    }
}

export_channel!(RocketChat);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const HOOK: &str = "https://chat.example.com/hooks/D2oXe5wZ/eQJ2dyMq6yPv";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<RocketChat>();
    }

    #[test]
    fn parses_apprise_webhook_mode_urls() {
        let s = RocketChat::parse_url("rockets://D2oXe5wZ%2FeQJ2dyMq6yPv@chat.example.com/%23ops")
            .unwrap();
        assert_eq!(
            s,
            vec![
                ("webhook_url".into(), HOOK.into()),
                ("channel".into(), "#ops".into()),
            ]
        );
        let slash =
            RocketChat::parse_url("rocket://D2oXe5wZ/eQJ2dyMq6yPv@10.0.0.2:3000/@alice").unwrap();
        assert_eq!(
            slash[0].1,
            "http://10.0.0.2:3000/hooks/D2oXe5wZ/eQJ2dyMq6yPv"
        );
        assert_eq!(slash[1].1, "@alice");
        let user = RocketChat::parse_url("rockets://bot:D2oXe5wZ%2FeQJ2dyMq6yPv@chat.example.com")
            .unwrap();
        assert_eq!(user, vec![("webhook_url".into(), HOOK.into())]);
        let query =
            RocketChat::parse_url("rockets://chat.example.com/?webhook=D2oXe5wZ/eQJ2dyMq6yPv")
                .unwrap();
        assert_eq!(query[0].1, HOOK);
        // Apprise's basic mode (user:password) and two targets are refused.
        assert!(RocketChat::parse_url("rockets://user:pass@chat.example.com/%23ops").is_err());
        assert!(RocketChat::parse_url("rockets://a%2Fb@chat.example.com/%23x/%23y").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<RocketChat>().setting("webhook_url", HOOK)
    }

    /// The documented request: POST JSON `text` (the title as a `*bold*`
    /// line, the link after) and the overrides when set; the token only on
    /// the wire.
    #[test]
    fn posts_the_documented_json() {
        let h = harness()
            .setting("channel", "#ops")
            .setting("alias", "CI")
            .setting("avatar", "https://example.com/ci.png")
            .reply(Reply::json(200, json!({"success": true})));
        let mut msg = message("Deploy", "done");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains("eQJ2dyMq6yPv"), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, HOOK);
        assert_eq!(
            req.json(),
            json!({
                "text": "*Deploy*\ndone\n\nhttps://ci.example.com/7",
                "channel": "#ops", "alias": "CI", "avatar": "https://example.com/ci.png",
            })
        );
    }

    #[test]
    fn text_is_cut_at_the_servers_5000_characters() {
        let h = harness().reply(Reply::json(200, json!({"success": true})));
        h.send(&message("", &"ü".repeat(6000))).unwrap();
        let text = h.requests()[0].json()["text"].as_str().unwrap().to_string();
        assert_eq!(text.chars().count(), 5000);
        assert!(text.ends_with(CUT_MARKER));
    }

    fn failure(status: u16, error: &str) -> Reply {
        Reply::json(status, json!({"success": false, "error": error}))
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_refusal_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(failure(404, "Invalid integration id or token provided.")),
            SendError::Rejected("success false: Invalid integration id or token provided.".into())
        );
        assert_eq!(
            outcome(failure(
                400,
                "overriding destination channel is disabled for this integration"
            )),
            SendError::Rejected(
                "success false: overriding destination channel is disabled for this integration"
                    .into()
            )
        );
        // A disabled integration answers 503, as an outage does.
        assert!(matches!(
            outcome(failure(503, "Service Unavailable")),
            SendError::Unavailable(m) if m.contains("Service Unavailable")
        ));
        assert_eq!(
            outcome(
                failure(
                    429,
                    "Error, too many requests. Please slow down. [error-too-many-requests]"
                )
                .header("retry-after", "10")
            ),
            SendError::RateLimited(Some(10))
        );
        // 200 without `success: true` is not a delivery.
        assert!(matches!(
            outcome(failure(200, "unknown-error")),
            SendError::Rejected(m) if m.contains("unknown-error")
        ));
    }
}
