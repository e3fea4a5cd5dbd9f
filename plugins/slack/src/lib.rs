//! Slack incoming webhooks (`SLACK_WEBHOOK_URL`, Apprise's
//! `slack://TOKEN_A/TOKEN_B/TOKEN_C`).
//!
//! Sources: Slack's incoming webhooks (POST JSON `text` to the hook URL, 200
//! with the body `ok`, short error codes otherwise), Slack's changelog
//! api.slack.com/changelog/2018-04-truncating-really-long-messages (text beyond
//! 40,000 characters is truncated), Apprise's `slack://` form. Not in
//! qinglong's notify.py: `SLACK_WEBHOOK_URL` is mcp-push's own name.
//!
//! Formats (api.slack.com, "Formatting text for app surfaces"): a webhook's
//! `text` is mrkdwn, not CommonMark, so Markdown is translated
//! ([`mcp_push_sdk::markdown::slack`]: `**bold**` → `*bold*`, links →
//! `<url|label>`, headings → bold lines, lists → `• ` lines), and `&`, `<`,
//! `>` are sent as `&amp;`, `&lt;`, `&gt;` in every format, as Slack asks.

use mcp_push_sdk::markdown::slack as mrkdwn;
use mcp_push_sdk::prelude::*;

struct Slack;

/// Slack truncates a message's text beyond 40000 characters.
const LIMIT: Limit = Limit::Chars(40000);

impl Channel for Slack {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "slack",
            "Slack",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Slack channel through an incoming webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The incoming webhook's URL (https://hooks.slack.com/services/...)",
            )
            .env(&["SLACK_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .allow_host("hooks.slack.com")
        .allow_host("setting:webhook_url.origin")
        .schemes(&["slack"])
    }

    /// `slack://TOKEN_A/TOKEN_B/TOKEN_C` (the three parts of the hook URL).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["slack"])?;
        let tokens: Vec<&str> = std::iter::once(u.host.as_str())
            .chain(u.path.iter().map(String::as_str))
            .filter(|t| !t.starts_with('#'))
            .collect();
        let [a, b, c] = tokens.as_slice() else {
            return Err("slack:// needs the hook's three tokens: slack://T000/B000/XXXX".into());
        };
        Pairs::new()
            .set(
                "webhook_url",
                format!("https://hooks.slack.com/services/{a}/{b}/{c}"),
            )
            .done()
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let title = Bold::Mrkdwn.title_escaped(&msg.title, mrkdwn::escape);
        let body = if msg.is_markdown() {
            mrkdwn::from_markdown(&msg.body)
        } else {
            mrkdwn::escape(&msg.body)
        };
        let mut text = match (title.is_empty(), body.is_empty()) {
            (true, _) => body,
            (false, true) => title,
            (false, false) => format!("{title}\n{body}"),
        };
        if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&format!("<{}>", mrkdwn::link_target(link)));
        }
        let reply = Request::post(settings.require("webhook_url")?)
            .json(&json!({ "text": truncate(&text, LIMIT, CUT_MARKER) }))
            .send()?;
        // Success is 200 with the body `ok`; errors are short codes such as
        // `invalid_payload` (400), `no_service` (404), `channel_is_archived` (410).
        if reply.status == 200 && reply.text().trim() == "ok" {
            return Ok(Receipt::none());
        }
        Err(match reply.status {
            200 => SendError::Unavailable(format!("unexpected reply: {}", reply.snippet())),
            _ => reply.status_error(),
        })
    }
}

export_channel!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Slack>();
    }

    #[test]
    fn parses_slack_urls() {
        let s = Slack::parse_url("slack://T1/B2/C3").unwrap();
        assert_eq!(s[0].1, "https://hooks.slack.com/services/T1/B2/C3");
        assert!(Slack::parse_url("slack://T1/B2").is_err());
    }

    use mcp_push_sdk::testing::{Harness, Reply, message};

    const HOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXX";

    fn sent_text(msg: &Message) -> String {
        let h = Harness::new::<Slack>()
            .setting("webhook_url", HOOK)
            .reply(Reply::text(200, "ok"));
        h.send(msg).unwrap();
        h.requests()[0].json()["text"].as_str().unwrap().to_string()
    }

    #[test]
    fn markdown_is_translated_to_mrkdwn() {
        let mut msg = message(
            "Deploy <prod> & co",
            "## Result\n\n**passed**, _mostly_ ~~broken~~ fixed: \
             [run 7](https://ci.example/?run=7&job=2)\n\n\
             - `a < b && c`\n- snake_case_name in paths/with*stars\n\n\
             ```\nif a > b { x & y }\n```",
        );
        msg.format = Format::Markdown;
        assert_eq!(
            sent_text(&msg),
            "*Deploy &lt;prod&gt; &amp; co*\n*Result*\n\n\
             *passed*, _mostly_ ~broken~ fixed: <https://ci.example/?run=7&amp;job=2|run 7>\n\n\
             • `a &lt; b &amp;&amp; c`\n• snake_case_name in paths/with*stars\n\n\
             ```\nif a &gt; b { x &amp; y }\n```"
        );
    }

    #[test]
    fn plain_text_is_escaped_and_the_link_kept_whole() {
        let mut msg = message("", "1 < 2 & 3 > 2");
        msg.link = Some("https://x.example/?a=1&b=2".into());
        assert_eq!(
            sent_text(&msg),
            "1 &lt; 2 &amp; 3 &gt; 2\n\n<https://x.example/?a=1&amp;b=2>"
        );
    }

    /// A title, a body and a link in one text, and Markdown as mrkdwn with
    /// Slack's three escapes (moved from tests/channels_intl.rs).
    #[test]
    fn title_body_and_link_as_one_escaped_text() {
        let mut msg = message("Deploy <prod>", "a & b");
        msg.link = Some("https://x.example/1".into());
        assert_eq!(
            sent_text(&msg),
            "*Deploy &lt;prod&gt;*\na &amp; b\n\n<https://x.example/1>"
        );
        let mut md = message(
            "",
            "## Done\n**ok** & _fine_: [run](https://ci.example/?a=1&b=2)\n- `x < y`",
        );
        md.format = Format::Markdown;
        assert_eq!(
            sent_text(&md),
            "*Done*\n\n*ok* &amp; _fine_: <https://ci.example/?a=1&amp;b=2|run>\n\n• `x &lt; y`"
        );
    }

    /// Slack's short error codes and its rate limit, and the hook's token
    /// only on the wire (moved from tests/channels_intl.rs).
    #[test]
    fn refusals_and_rate_limits_map_to_kinds() {
        let h = Harness::new::<Slack>()
            .setting("webhook_url", HOOK)
            .reply(Reply::text(410, "channel_is_archived"))
            .reply(Reply::text(429, "rate_limited").header("retry-after", "12"));
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("HTTP 410: channel_is_archived".into())
        );
        assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(Some(12)));
        assert!(
            !h.requests()[0].url.contains("XXXX"),
            "{}",
            h.requests()[0].url
        );
        assert_eq!(h.on_the_wire()[0].url, HOOK);
    }
}
