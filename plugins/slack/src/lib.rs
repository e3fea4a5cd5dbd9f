//! Slack incoming webhooks (`SLACK_WEBHOOK_URL`, Apprise's
//! `slack://TOKEN_A/TOKEN_B/TOKEN_C`).

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
        // Slack's mrkdwn: *bold*, and links as <url|text>.
        let title = if msg.title.trim().is_empty() {
            String::new()
        } else {
            format!("*{}*", escape(msg.title.trim()))
        };
        let body = if msg.is_markdown() {
            msg.body.clone()
        } else {
            escape(&msg.body)
        };
        let mut text = match (title.is_empty(), body.is_empty()) {
            (true, _) => body,
            (false, true) => title,
            (false, false) => format!("{title}\n{body}"),
        };
        if let Some(link) = &msg.link {
            text = msg
                .with_link(text)
                .replace(link.as_str(), &format!("<{link}>"));
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

/// `&`, `<` and `>` are control characters in Slack text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

export_channel!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_slack_urls() {
        let s = Slack::parse_url("slack://T1/B2/C3").unwrap();
        assert_eq!(s[0].1, "https://hooks.slack.com/services/T1/B2/C3");
        assert!(Slack::parse_url("slack://T1/B2").is_err());
    }
}
