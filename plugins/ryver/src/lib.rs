//! Ryver incoming webhooks (`RYVER_WEBHOOK_URL`, Apprise's
//! `ryver://[BOTNAME@]ORGANIZATION/TOKEN`).
//!
//! Sources: Ryver's API docs (api.ryver.com, "Creating simple incoming
//! webhooks", and support.ryver.com, "API: Incoming Webhooks" and "Custom
//! Webhooks": a webhook's URL `https://{org}.ryver.com/application/webhook/
//! {token}` takes a plain text or a Ryver JSON payload whose `body` is
//! Ryver-flavoured Markdown, or, for a webhook created with the Slack
//! format, a Slack incoming-webhook payload that Ryver converts; a display
//! name and avatar chosen in the UI are the defaults, a payload may
//! override them); Apprise's `ryver.py` (the URL form, `?mode=ryver|slack`,
//! `?image=`; the payload `{"body": "**title**\r\nbody", "createSource":
//! {"displayName", "avatar"}}`; success is 200). Not in qinglong's
//! notify.py: `RYVER_*` are mcp-push's own names.
//!
//! Where the sources differ: Apprise sends the Ryver payload in both modes
//! (only escaping `& < >` for Slack); the docs say a Slack-format webhook
//! takes a Slack payload, so a `slack` webhook gets `{"text": …}` in
//! Slack's mrkdwn here. Apprise cuts a body at 1,000 characters, which
//! Ryver's docs do not state; the text is sent whole. Apprise sends its
//! own icon as the avatar; here only an avatar that is set. The reply body
//! is not documented: any 2xx is success.

use mcp_push_sdk::markdown::slack as mrkdwn;
use mcp_push_sdk::prelude::*;

struct Ryver;

const MODES: &[&str] = &["ryver", "slack"];

impl Channel for Ryver {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "ryver",
            "Ryver",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Ryver forum or team through an incoming webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The webhook's URL (https://ORG.ryver.com/application/webhook/TOKEN)",
            )
            .env(&["RYVER_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new("mode", "The webhook's format: ryver (the default) or slack")
                .env(&["RYVER_MODE"]),
        )
        .setting(Setting::new("name", "Name shown as the sender").env(&["RYVER_NAME"]))
        .setting(
            Setting::new("avatar_url", "Picture shown as the sender's").env(&["RYVER_AVATAR_URL"]),
        )
        .allow_host("*.ryver.com")
        .allow_host("setting:webhook_url.origin")
        .schemes(&["ryver"])
    }

    /// `ryver://[BOTNAME@]ORGANIZATION/TOKEN`, with `?mode=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["ryver"])?;
        let ([token], false) = (u.path.as_slice(), u.host.is_empty()) else {
            return Err(
                "ryver:// needs the organization and the token: ryver://ORGANIZATION/TOKEN".into(),
            );
        };
        let pairs = Pairs::new()
            .set(
                "webhook_url",
                format!("https://{}.ryver.com/application/webhook/{token}", u.host),
            )
            .maybe("mode", u.param("mode"))
            .maybe("name", u.user.clone());
        let settings = Settings::from(pairs.clone().done()?);
        settings.choice("mode", MODES, "ryver").map_err(refusal)?;
        pairs.done()
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let hook = settings.require("webhook_url")?;
        let body = match settings.choice("mode", MODES, "ryver")? {
            "slack" => {
                let title = Bold::Mrkdwn.title_escaped(&msg.title, mrkdwn::escape);
                let body = if msg.is_markdown() {
                    mrkdwn::from_markdown(&msg.body)
                } else {
                    mrkdwn::escape(&msg.body)
                };
                let mut text = heading(&title, &body, "\n");
                if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
                    text = heading(&text, &format!("<{}>", mrkdwn::link_target(link)), "\n\n");
                }
                let mut payload = json!({ "text": text });
                for (field, value) in
                    settings.fields(&[("name", "username"), ("avatar_url", "icon_url")])
                {
                    payload[field] = json!(value);
                }
                payload
            }
            _ => {
                let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
                let mut payload = json!({ "body": msg.with_link(text) });
                let mut source = json!({});
                for (field, value) in
                    settings.fields(&[("name", "displayName"), ("avatar_url", "avatar")])
                {
                    source[field] = json!(value);
                }
                if source != json!({}) {
                    payload["createSource"] = source;
                }
                payload
            }
        };
        let reply = Request::post(hook).json(&body).send()?;
        // Success is the 2xx; the reply's body is not documented.
        if !reply.is_success() {
            return Err(reply.status_error());
        }
        Ok(Receipt::none())
    }
}

export_channel!(Ryver);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const TOKEN: &str = "ckhrjW8w672m6HG";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Ryver>();
    }

    #[test]
    fn parses_apprises_ryver_urls() {
        let hook = format!("https://apprise.ryver.com/application/webhook/{TOKEN}");
        assert_eq!(
            Ryver::parse_url(&format!("ryver://apprise/{TOKEN}")).unwrap(),
            pairs(&[("webhook_url", &hook)])
        );
        assert_eq!(
            Ryver::parse_url(&format!("ryver://CI%20Bot@apprise/{TOKEN}/?mode=Slack")).unwrap(),
            pairs(&[
                ("webhook_url", &hook),
                ("mode", "Slack"),
                ("name", "CI Bot")
            ])
        );
        assert!(Ryver::parse_url("ryver://apprise").is_err());
        assert!(
            Ryver::parse_url(&format!("ryver://apprise/{TOKEN}?mode=teams"))
                .unwrap_err()
                .contains("mode")
        );
    }

    fn harness() -> Harness {
        Harness::new::<Ryver>().setting(
            "webhook_url",
            &format!("https://apprise.ryver.com/application/webhook/{TOKEN}"),
        )
    }

    /// The Ryver payload: `body` in Markdown, the title bold, the link
    /// last; `createSource` only with a name or an avatar; the token only
    /// on the wire.
    #[test]
    fn posts_the_ryver_payload() {
        let h = harness().reply(Reply::text(200, ""));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains(TOKEN));
        assert_eq!(
            h.on_the_wire()[0].url,
            format!("https://apprise.ryver.com/application/webhook/{TOKEN}")
        );
        assert_eq!(
            req.json(),
            json!({"body": "**Deploy**\nv2 is live\n\nhttps://ci.example.com/7"})
        );
        let named = harness()
            .setting("name", "CI")
            .setting("avatar_url", "https://x.example/a.png")
            .reply(Reply::text(200, ""));
        named.send(&message("", "B")).unwrap();
        assert_eq!(
            named.requests()[0].json(),
            json!({"body": "B", "createSource": {"displayName": "CI", "avatar": "https://x.example/a.png"}})
        );
    }

    /// A Slack-format webhook gets Slack's payload: mrkdwn with `& < >`
    /// escaped.
    #[test]
    fn a_slack_webhook_gets_a_slack_payload() {
        let h = harness()
            .setting("mode", "slack")
            .setting("name", "CI")
            .reply(Reply::text(200, "ok"));
        let mut msg = message("Deploy <prod>", "a & b");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        assert_eq!(
            h.requests()[0].json(),
            json!({"text": "*Deploy &lt;prod&gt;*\na &amp; b\n\n<https://ci.example.com/7>",
                   "username": "CI"})
        );
        let bad = harness().setting("mode", "teams");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(bad.requests().is_empty());
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn statuses_map_to_what_to_do_next() {
        assert!(matches!(
            outcome(Reply::text(404, "Not Found")),
            SendError::Rejected(m) if m == "HTTP 404: Not Found"
        ));
        assert!(matches!(
            outcome(Reply::text(400, "")),
            SendError::Rejected(_)
        ));
        assert_eq!(
            outcome(Reply::text(429, "").header("Retry-After", "5")),
            SendError::RateLimited(Some(5))
        );
        assert!(matches!(
            outcome(Reply::text(503, "<html>down</html>")),
            SendError::Unavailable(_)
        ));
    }
}
