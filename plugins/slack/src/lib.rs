//! Slack (`SLACK_WEBHOOK_URL`; or a bot token, `SLACK_BOT_TOKEN` and
//! `SLACK_CHANNEL`; Apprise's `slack://TOKEN_A/TOKEN_B/TOKEN_C` and its bot
//! form `slack://[BOTNAME@]xoxb-…/#CHANNEL`). One channel, two modes:
//!
//! - an incoming webhook posts to the channel the hook was made for, and
//!   reads nothing;
//! - a bot token posts with `chat.postMessage` and can read the thread under
//!   its own question, so its people answer in the chat (see [`replies`]).
//!
//! Why one plugin: Apprise's `slack://` is both, told apart by the token
//! (`xox…` is a bot), so one URL form keeps working unchanged. The plugin
//! exports `replies` for both modes; with a webhook, `ask` posts the plain
//! question (its reply link in the text, as any channel that cannot read
//! answers gets it) and `poll-replies` answers "nothing" without a request.
//!
//! Sources: Slack's incoming webhooks (POST JSON `text` to the hook URL, 200
//! with the body `ok`, short error codes otherwise); the Web API methods
//! (docs.slack.dev/reference/methods): `chat.postMessage` (POST JSON with
//! `Authorization: Bearer`, `channel`, `text`, `blocks`, `username`; the reply
//! `{"ok": true, "channel", "ts"}` or `{"ok": false, "error"}`, HTTP 200
//! either way, 429 `ratelimited` with `Retry-After`); Slack's changelog
//! api.slack.com/changelog/2018-04-truncating-really-long-messages (text
//! beyond 40,000 characters is truncated); Apprise's `slack.py` for the URL
//! forms (a bot token matches `xox[abp]-…`, targets `#channel`, `+ID`, or an
//! id; a `botname@` is the `username`). Not in qinglong's notify.py:
//! `SLACK_WEBHOOK_URL`, `SLACK_BOT_TOKEN`, `SLACK_CHANNEL` and
//! `SLACK_API_URL` are mcp-push's own names.
//!
//! Formats (api.slack.com, "Formatting text for app surfaces"): `text` is
//! mrkdwn, not CommonMark, so Markdown is translated
//! ([`mcp_push_sdk::markdown::slack`]: `**bold**` → `*bold*`, links →
//! `<url|label>`, headings → bold lines, lists → `• ` lines), and `&`, `<`,
//! `>` are sent as `&amp;`, `&lt;`, `&gt;` in every format, as Slack asks.

use mcp_push_sdk::markdown::slack as mrkdwn;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::Value;

mod replies;

struct Slack;

/// Slack truncates a message's text beyond 40000 characters.
const LIMIT: Limit = Limit::Chars(40000);
/// The Web API's home (Apprise's `api_url`).
const OFFICIAL_API: &str = "https://slack.com/api";

impl Channel for Slack {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "slack",
            "Slack",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Slack channel through an incoming webhook, or as a bot whose questions are answered in their thread",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The incoming webhook's URL (https://hooks.slack.com/services/...); or use a bot token",
            )
            .env(&["SLACK_WEBHOOK_URL"])
            .secret(),
        )
        .setting(
            Setting::new(
                "bot_token",
                "A bot token (xoxb-...) with chat:write, and channels:history (groups:history for a private channel) to read answers",
            )
            .env(&["SLACK_BOT_TOKEN"])
            .secret(),
        )
        .setting(
            Setting::new(
                "channel",
                "The channel the bot posts to: its id (C0123ABCD) or #name; the bot must be in it",
            )
            .env(&["SLACK_CHANNEL"]),
        )
        .setting(Setting::new(
            "botname",
            "Name shown as the sender (needs the chat:write.customize scope)",
        ))
        .setting(
            Setting::new("api_url", "The Web API's base URL")
                .env(&["SLACK_API_URL"])
                .default_value(OFFICIAL_API),
        )
        .allow_host("hooks.slack.com")
        .allow_host("setting:webhook_url.origin")
        .allow_host("slack.com")
        .allow_host("setting:api_url")
        .schemes(&["slack"])
    }

    /// `slack://[BOTNAME@]TOKEN_A/TOKEN_B/TOKEN_C` (the three parts of the
    /// hook URL), or `slack://[BOTNAME@]xoxb-…/#CHANNEL` for a bot (Apprise
    /// tells a bot by its token's `xo` start; its first target is the
    /// channel here).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["slack"])?;
        let botname = u.user.clone().or(u.param("botname").map(String::from));
        let token = u.param("token").unwrap_or(&u.host).to_string();
        if token.starts_with("xo") {
            let targets: Vec<&str> = match u.param("token") {
                Some(_) => std::iter::once(u.host.as_str())
                    .chain(u.path.iter().map(String::as_str))
                    .collect(),
                None => u.path.iter().map(String::as_str).collect(),
            };
            let targets: Vec<&str> = targets
                .into_iter()
                .chain(u.param("to"))
                .filter(|t| !t.is_empty())
                .collect();
            let Some(channel) = targets.first() else {
                return Err("a Slack bot needs a channel: slack://xoxb-TOKEN/#channel".into());
            };
            let channel = channel.strip_prefix('+').unwrap_or(channel);
            return Pairs::new()
                .set("bot_token", token)
                .set("channel", channel)
                .maybe("botname", botname)
                .done();
        }
        let tokens: Vec<&str> = std::iter::once(u.host.as_str())
            .chain(u.path.iter().map(String::as_str))
            .filter(|t| !t.starts_with('#'))
            .collect();
        let [a, b, c] = tokens.as_slice() else {
            return Err(
                "slack:// needs the hook's three tokens (slack://T000/B000/XXXX) or a bot token (slack://xoxb-…/#channel)"
                    .into(),
            );
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
        match Mode::of(settings)? {
            Mode::Webhook(hook) => post_to_hook(hook, &text).map(|()| Receipt::none()),
            Mode::Bot(bot) => {
                let posted = bot.post(json!({ "text": truncate(&text, LIMIT, CUT_MARKER) }))?;
                Ok(Receipt::maybe(id_at(&posted, "ts")))
            }
        }
    }
}

/// How this channel reaches Slack.
enum Mode<'s> {
    /// An incoming webhook's URL.
    Webhook(&'s str),
    Bot(Bot<'s>),
}

/// A bot token and the channel it posts to.
struct Bot<'s> {
    api: String,
    token: &'s str,
    channel: &'s str,
    botname: Option<&'s str>,
}

impl<'s> Mode<'s> {
    /// A bot token wins over a webhook: it can read answers.
    fn of(settings: &'s Settings) -> Result<Self, SendError> {
        if let Some(token) = settings.get("bot_token") {
            let channel = settings.get("channel").ok_or_else(|| {
                SendError::Config("a Slack bot token needs a channel (SLACK_CHANNEL)".into())
            })?;
            return Ok(Mode::Bot(Bot {
                api: settings.base_url("api_url", OFFICIAL_API)?,
                token,
                channel,
                botname: settings.get("botname"),
            }));
        }
        match settings.get("webhook_url") {
            Some(hook) => Ok(Mode::Webhook(hook)),
            None => Err(SendError::Config(
                "set a webhook URL (SLACK_WEBHOOK_URL), or a bot token and a channel (SLACK_BOT_TOKEN, SLACK_CHANNEL)".into(),
            )),
        }
    }
}

/// POST `text` to an incoming webhook. Success is 200 with the body `ok`;
/// errors are short codes such as `invalid_payload` (400), `no_service`
/// (404), `channel_is_archived` (410).
fn post_to_hook(hook: &str, text: &str) -> Result<(), SendError> {
    let reply = Request::post(hook)
        .json(&json!({ "text": truncate(text, LIMIT, CUT_MARKER) }))
        .send()?;
    if reply.status == 200 && reply.text().trim() == "ok" {
        return Ok(());
    }
    Err(match reply.status {
        200 => SendError::Unavailable(format!("unexpected reply: {}", reply.snippet())),
        _ => reply.status_error(),
    })
}

impl Bot<'_> {
    /// `chat.postMessage` of `message` (its `text`, `blocks`) to the channel.
    fn post(&self, mut message: Value) -> Result<Value, SendError> {
        message["channel"] = json!(self.channel);
        if let Some(name) = self.botname {
            message["username"] = json!(name);
        }
        let reply = Request::post(format!("{}/chat.postMessage", self.api))
            .bearer(self.token)
            .json(&message)
            .send()?;
        web_api(&reply)
    }

    /// A Web API method read with GET and its query.
    fn get(&self, method: &str, query: &[(&str, String)]) -> Result<Value, SendError> {
        let reply = Request::get(format!("{}/{method}", self.api))
            .query(query)
            .bearer(self.token)
            .send()?;
        web_api(&reply)
    }
}

/// The Web API's verdict: success is HTTP 200 and `"ok": true`; otherwise
/// `error` names why (each method's page lists its own, and the common ones
/// every method shares).
fn web_api(reply: &Response) -> Result<Value, SendError> {
    if reply.status == 429 {
        return Err(SendError::RateLimited(reply.retry_after()));
    }
    let value = match reply.json() {
        Ok(v) => v,
        Err(_) if !reply.is_success() => return Err(reply.status_error()),
        Err(e) => return Err(e),
    };
    if reply.status == 200 && value["ok"] == true {
        return Ok(value);
    }
    let error = value["error"].as_str().unwrap_or_default();
    if error.is_empty() {
        return Err(match reply.status {
            200 => SendError::Unavailable(format!("unexpected reply: {}", reply.snippet())),
            _ => reply.status_error(),
        });
    }
    Err(web_api_error(error, reply.retry_after()))
}

/// An `error` of the Web API as what to do next.
fn web_api_error(error: &str, retry_after: Option<u32>) -> SendError {
    match error {
        "ratelimited" | "rate_limited" => SendError::RateLimited(retry_after),
        // The token: wrong, revoked, of a deactivated account, or short of
        // a scope. The settings must change.
        "invalid_auth"
        | "not_authed"
        | "token_revoked"
        | "token_expired"
        | "account_inactive"
        | "missing_scope"
        | "no_permission"
        | "not_allowed_token_type"
        | "ekm_access_denied" => SendError::Config(format!("Slack refused the bot token: {error}")),
        // Slack's own trouble: try again later.
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            SendError::Unavailable(format!("Slack: {error}"))
        }
        // `channel_not_found`, `not_in_channel`, `is_archived`,
        // `msg_too_long`, `invalid_blocks`, `restricted_action`, ...
        _ => SendError::Rejected(format!("Slack: {error}")),
    }
}

export_channel!(Slack, replies);

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

    /// Apprise's bot form: the token starts with `xo`, the first target is
    /// the channel, a `botname@` the sender's name.
    #[test]
    fn parses_slack_bot_urls() {
        let s = Slack::parse_url("slack://ci@xoxb-1234-5678-abc/#ops/#dev").unwrap();
        assert_eq!(
            s,
            vec![
                ("bot_token".to_string(), "xoxb-1234-5678-abc".to_string()),
                ("channel".to_string(), "#ops".to_string()),
                ("botname".to_string(), "ci".to_string()),
            ]
        );
        let s = Slack::parse_url("slack://xoxb-1234-5678-abc/+C0OPS").unwrap();
        assert_eq!(s[1].1, "C0OPS");
        let s = Slack::parse_url("slack://xoxb-1/?to=C0OPS").unwrap();
        assert_eq!(s[1].1, "C0OPS");
        assert!(Slack::parse_url("slack://xoxb-1234-5678-abc").is_err());
        for url in ["slack://T1/B2/C3", "slack://ci@xoxb-1/#ops"] {
            let problems = mcp_push_sdk::testing::check_url::<Slack>(url);
            assert!(problems.is_empty(), "{problems:?}");
        }
    }

    /// A bot posts with `chat.postMessage`: the token as a bearer on the
    /// wire only, the channel, the sender's name, the same mrkdwn text as a
    /// webhook; the message's `ts` is the receipt.
    #[test]
    fn a_bot_posts_with_chat_post_message() {
        let h = Harness::new::<Slack>()
            .setting("bot_token", "xoxb-1234-5678-abc")
            .setting("channel", "C0OPS")
            .setting("botname", "ci")
            .reply(Reply::json(
                200,
                json!({"ok": true, "channel": "C0OPS", "ts": "1700000000.000100"}),
            ))
            .reply(Reply::json(
                200,
                json!({"ok": false, "error": "not_in_channel"}),
            ))
            .reply(Reply::json(
                200,
                json!({"ok": false, "error": "token_revoked"}),
            ));
        let mut msg = message("Deploy <prod>", "a & b");
        msg.link = Some("https://x.example/1".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("1700000000.000100"));
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.method, "POST");
        assert_eq!(wire.url, "https://slack.com/api/chat.postMessage");
        assert_eq!(
            wire.header("authorization"),
            Some("Bearer xoxb-1234-5678-abc")
        );
        assert!(
            wire.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(
            h.requests()[0].json(),
            json!({"channel": "C0OPS", "username": "ci",
                   "text": "*Deploy &lt;prod&gt;*\na &amp; b\n\n<https://x.example/1>"})
        );
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("Slack: not_in_channel".into())
        );
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Config("Slack refused the bot token: token_revoked".into())
        );
        assert!(
            !h.logs().iter().any(|l| l.contains("xoxb")),
            "{:?}",
            h.logs()
        );
    }

    /// Neither a webhook nor a bot: the settings must change.
    #[test]
    fn a_bot_without_a_channel_or_nothing_at_all_is_a_config_error() {
        let h = Harness::new::<Slack>().setting("bot_token", "xoxb-1");
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Config(_))
        ));
        let h = Harness::new::<Slack>();
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Config(_))
        ));
        assert!(h.requests().is_empty());
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
