//! Zulip messages from a bot (`ZULIP_SITE`, `ZULIP_EMAIL`, `ZULIP_API_KEY`,
//! Apprise's `zulip://BOTNAME@ORGANIZATION/TOKEN[/TARGETS]`).
//!
//! Sources: Zulip's API docs (zulip.com/api/send-message: POST
//! `{site}/api/v1/messages` with HTTP Basic auth, the bot's e-mail address
//! and API key, a form `type`, `to`, `topic`, `content`; `type` `stream` for
//! a channel (a name or an id in `to`, the topic required) or `direct` for
//! direct messages (`to` a JSON list of e-mail addresses; `direct` since
//! Zulip 7.0, the older `private` deprecated); success is `result:
//! "success"` with the new message's `id`; refusals are `result: "error"`
//! with `msg` and often a `code`, e.g. 400 `STREAM_DOES_NOT_EXIST`,
//! `BAD_REQUEST` for an unknown user); zulip.com/api/rest-error-handling
//! (401 `Invalid API key`; 429 `RATE_LIMIT_HIT` with `retry-after` in
//! seconds in the body and the `Retry-After` header; 40x the caller's
//! error, 50x the server's); Apprise's `zulip.py` (the URL form, the bot's
//! address `{BOTNAME}-bot@{ORG}.{HOST}`, host `zulipchat.com` by default,
//! targets: channels, or e-mail addresses for direct messages, each sent
//! on its own, `general` when none is given). `ZULIP_SITE`, `ZULIP_EMAIL`
//! and `ZULIP_API_KEY` are the names Zulip's own Python bindings read
//! (`zulip.Client` falls back to them); `ZULIP_TO` and `ZULIP_TOPIC` are
//! mcp-push's own.
//!
//! Where the sources differ, Zulip's docs are followed: Apprise sends the
//! deprecated `subject` and `private`; this channel sends `topic` and
//! `direct` (so a direct message needs Zulip 7.0 or later).
//!
//! Length: a message holds 10,000 characters and a topic 60 (the defaults
//! of the server's `max_message_length` and `max_topic_length`, Apprise's
//! limits too); longer ones are cut with `…` here rather than by the
//! server.

use mcp_push_sdk::prelude::*;

struct Zulip;

/// The server's default `max_message_length`.
const LIMIT: Limit = Limit::Chars(10000);
/// The server's default `max_topic_length`.
const TOPIC_CHARS: usize = 60;
/// A topic for a message that has neither a title nor a `topic` setting
/// (Zulip refuses an empty one in most organizations).
const NO_TOPIC: &str = "mcp-push";
/// Apprise's host for an organization named without one.
const ZULIPCHAT: &str = "zulipchat.com";

impl Channel for Zulip {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "zulip",
            "Zulip",
            env!("CARGO_PKG_VERSION"),
            "Posts to Zulip channels (or direct messages) as a bot",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "site",
                "The organization's URL (https://ORG.zulipchat.com or your server)",
            )
            .env(&["ZULIP_SITE"])
            .required(),
        )
        .setting(
            Setting::new(
                "email",
                "The bot's e-mail address (NAME-bot@ORG.zulipchat.com)",
            )
            .env(&["ZULIP_EMAIL"])
            .required(),
        )
        .setting(
            Setting::new("api_key", "The bot's API key")
                .env(&["ZULIP_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "to",
                "Channels, or e-mail addresses for direct messages, comma-separated",
            )
            .env(&["ZULIP_TO"])
            .default_value("general"),
        )
        .setting(
            Setting::new(
                "topic",
                "Topic of channel messages (else the message's title)",
            )
            .env(&["ZULIP_TOPIC"]),
        )
        .allow_host("setting:site")
        .schemes(&["zulip"])
    }

    /// `zulip://BOTNAME@ORGANIZATION/TOKEN[/TARGET...][?to=...&token=...]`:
    /// `ORGANIZATION` is `ORG` (on zulipchat.com) or `ORG.HOST`; the bot's
    /// address is `BOTNAME-bot@ORG.HOST`, as in Apprise.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["zulip"])?;
        let bot = u
            .user
            .as_deref()
            .map(|b| b.strip_suffix("-bot").unwrap_or(b))
            .filter(|b| !b.is_empty())
            .ok_or("zulip:// needs the bot's name: zulip://BOTNAME@ORGANIZATION/TOKEN")?;
        if u.host.is_empty() {
            return Err(
                "zulip:// needs the organization: zulip://BOTNAME@ORGANIZATION/TOKEN".into(),
            );
        }
        let (org, host) = u.host.split_once('.').unwrap_or((&u.host, ZULIPCHAT));
        let mut path = u.path.clone().into_iter();
        let token = match u.param("token") {
            Some(t) => t.to_string(),
            None => path
                .next()
                .ok_or("zulip:// needs the bot's API key: zulip://BOTNAME@ORGANIZATION/TOKEN")?,
        };
        // Apprise splits targets at spaces, commas, `#`, `\` and `/`.
        let split = |s: &str| -> Vec<String> {
            s.split([' ', '\t', '\r', '\n', ',', '#', '\\', '/'])
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        };
        let mut targets: Vec<String> = path.flat_map(|p| split(&p)).collect();
        if let Some(to) = u.param("to") {
            targets.extend(split(to));
        }
        let port = u.port.map(|p| format!(":{p}")).unwrap_or_default();
        Pairs::new()
            .set("site", format!("https://{org}.{host}{port}"))
            .set("email", format!("{bot}-bot@{org}.{host}"))
            .set("api_key", token)
            .maybe("to", (!targets.is_empty()).then(|| targets.join(",")))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = format!("{}/api/v1/messages", settings.base_url("site", "")?);
        let email = settings.require("email")?;
        let key = settings.require("api_key")?;
        let targets = settings.list("to", &[',']);
        if targets.is_empty() {
            return Err(SendError::Config(
                "setting `to` (ZULIP_TO) names no channel or address".into(),
            ));
        }
        let (topic, content) = topic_and_content(settings.get("topic"), msg);
        let content = truncate(&msg.with_link(content), LIMIT, CUT_MARKER);
        let mut first_id = None;
        // One message per target, as Apprise sends them; a retry skips the
        // targets already reached.
        delivery::send_parts(&targets, 0, |target| {
            let target = target.trim_start_matches('#');
            let mut form = vec![("content", content.clone())];
            if target.contains('@') {
                form.push(("type", "direct".into()));
                form.push(("to", json!([target]).to_string()));
            } else {
                form.push(("type", "stream".into()));
                form.push(("to", target.to_string()));
                form.push(("topic", topic.clone()));
            }
            // Success is `result: "success"` with the message's `id`; a
            // refusal says why in `msg`, a rate limit how long to wait in
            // `retry-after`.
            let reply = Request::post(&url)
                .basic_auth(email, key)
                .form(&form)
                .send()?
                .check(
                    &Check::field("result")
                        .eq_str("success")
                        .message("msg")
                        .retry_after("retry-after"),
                )?;
            first_id = first_id.take().or(id_at(&reply, "id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first_id))
    }
}

/// The topic and the text: with a `topic` setting the title leads the text
/// in bold; else the title is the topic (the text repeats it only when it
/// had to be cut to fit), and a message without a title takes a fixed one.
fn topic_and_content(topic: Option<&str>, msg: &Message) -> (String, String) {
    let bold = Bold::Markdown.title(&msg.title);
    let title = msg.title.trim();
    let topic = match topic {
        Some(t) => truncate(t.trim(), Limit::Chars(TOPIC_CHARS), CUT_MARKER),
        None if title.is_empty() => NO_TOPIC.into(),
        None => {
            let cut = truncate(title, Limit::Chars(TOPIC_CHARS), CUT_MARKER);
            if cut == title && !msg.body.trim().is_empty() {
                return (cut, msg.body.clone());
            }
            cut
        }
    };
    (topic, join_title(&bold, &msg.body, "\n"))
}

export_channel!(Zulip);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const SITE: &str = "https://apprise.zulipchat.com";
    const KEY: &str = "lqn6mpwpam6VZzbCW0o7olmk3hwbQSK";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Zulip>();
    }

    /// Apprise's own examples, with its bot address and host rules.
    #[test]
    fn parses_apprise_zulip_urls() {
        let want = |to: Option<&str>| {
            let mut v: Vec<(String, String)> = vec![
                ("site".into(), SITE.into()),
                ("email".into(), "goober-bot@apprise.zulipchat.com".into()),
                ("api_key".into(), KEY.into()),
            ];
            if let Some(to) = to {
                v.push(("to".into(), to.into()));
            }
            v
        };
        for url in [
            format!("zulip://goober-bot@apprise.zulipchat.com/{KEY}"),
            format!("zulip://goober-bot@apprise/{KEY}"),
            format!("zulip://goober@apprise/{KEY}"),
            format!("zulip://goober@apprise.zulipchat.com/?token={KEY}"),
        ] {
            assert_eq!(Zulip::parse_url(&url).unwrap(), want(None), "{url}");
        }
        assert_eq!(
            Zulip::parse_url(&format!(
                "zulip://goober@apprise/{KEY}/%23ops/me@example.com?to=alerts,%23dev"
            ))
            .unwrap(),
            want(Some("ops,me@example.com,alerts,dev"))
        );
        let own = Zulip::parse_url(&format!("zulip://ci@chat.example.org:8443/{KEY}")).unwrap();
        assert_eq!(own[0].1, "https://chat.example.org:8443");
        assert_eq!(own[1].1, "ci-bot@chat.example.org");
        assert!(Zulip::parse_url("zulip://goober@apprise").is_err());
        assert!(Zulip::parse_url(&format!("zulip://apprise/{KEY}")).is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Zulip>()
            .setting("site", SITE)
            .setting("email", "goober-bot@apprise.zulipchat.com")
            .setting("api_key", KEY)
    }

    fn sent(id: u64) -> Reply {
        Reply::json(200, json!({"id": id, "msg": "", "result": "success"}))
    }

    /// The documented request: a form to `/api/v1/messages`, Basic auth of
    /// the bot's address and key (the key only on the wire), the title as
    /// the topic; the new message's id is the receipt.
    #[test]
    fn posts_the_documented_form() {
        let h = harness().reply(sent(42));
        let receipt = h.send(&message("Backup", "done in **3 min**")).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("42"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, format!("{SITE}/api/v1/messages"));
        let (user, password) = req.basic_auth.clone().unwrap();
        assert_eq!(user, "goober-bot@apprise.zulipchat.com");
        assert_ne!(password, KEY);
        let wire = &h.on_the_wire()[0];
        let basic = format!(
            "Basic {}",
            mcp_push_sdk::encode::base64(
                format!("goober-bot@apprise.zulipchat.com:{KEY}").as_bytes()
            )
        );
        assert_eq!(wire.header("authorization"), Some(basic.as_str()));
        assert!(
            req.header("content-type")
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        );
        assert_eq!(req.form("type").as_deref(), Some("stream"));
        assert_eq!(req.form("to").as_deref(), Some("general"));
        assert_eq!(req.form("topic").as_deref(), Some("Backup"));
        assert_eq!(req.form("content").as_deref(), Some("done in **3 min**"));
    }

    /// A `topic` setting keeps the title in the text, bold; a link follows.
    #[test]
    fn a_set_topic_keeps_the_title_in_the_text() {
        let h = harness().setting("topic", "deploys").reply(sent(7));
        let mut msg = message("Deploy", "done");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.form("topic").as_deref(), Some("deploys"));
        assert_eq!(
            req.form("content").as_deref(),
            Some("**Deploy**\ndone\n\nhttps://ci.example.com/7")
        );
        // No title and no topic: the fixed topic; a title without a body
        // is the text as well as the topic.
        let h = harness().reply(sent(8)).reply(sent(9));
        h.send(&message("", "just text")).unwrap();
        h.send(&message("Only a title", "")).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs[0].form("topic").as_deref(), Some(NO_TOPIC));
        assert_eq!(reqs[0].form("content").as_deref(), Some("just text"));
        assert_eq!(reqs[1].form("topic").as_deref(), Some("Only a title"));
        assert_eq!(reqs[1].form("content").as_deref(), Some("**Only a title**"));
    }

    /// A channel message and a direct one, each its own request; a retry
    /// after the second failed reaches only the second.
    #[test]
    fn each_target_gets_its_own_message_once() {
        let h = harness()
            .setting("to", "#ops, me@example.com")
            .reply(sent(1))
            .reply(Reply::text(502, "<html>Bad Gateway</html>"));
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Unavailable(_))
        ));
        let h = h.reply(sent(2));
        h.send(&message("T", "B")).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].form("to").as_deref(), Some("ops"));
        assert_eq!(reqs[0].form("type").as_deref(), Some("stream"));
        for direct in &reqs[1..] {
            assert_eq!(direct.form("type").as_deref(), Some("direct"));
            assert_eq!(direct.form("to").as_deref(), Some(r#"["me@example.com"]"#));
            assert_eq!(direct.form("topic"), None);
        }
    }

    /// Over 10,000 characters the text is cut, and a topic over 60 too (the
    /// full title then leads the text).
    #[test]
    fn long_texts_and_titles_are_cut_to_the_servers_limits() {
        let h = harness().reply(sent(1));
        let title = "t".repeat(80);
        h.send(&message(&title, &"x".repeat(12000))).unwrap();
        let req = &h.requests()[0];
        let topic = req.form("topic").unwrap();
        assert_eq!(topic.chars().count(), 60);
        assert!(topic.ends_with(CUT_MARKER));
        let content = req.form("content").unwrap();
        assert_eq!(content.chars().count(), 10000);
        assert!(content.starts_with(&format!("**{title}**\nxxx")));
        assert!(content.ends_with(CUT_MARKER));
    }

    fn error(status: u16, code: Option<&str>, text: &str) -> Reply {
        let mut body = json!({"msg": text, "result": "error"});
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        Reply::json(status, body)
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(error(
                400,
                Some("STREAM_DOES_NOT_EXIST"),
                "Channel 'nonexistent' does not exist"
            )),
            SendError::Rejected("result error: Channel 'nonexistent' does not exist".into())
        );
        assert_eq!(
            outcome(error(
                400,
                Some("BAD_REQUEST"),
                "Invalid email 'eeshan@zulip.com'"
            )),
            SendError::Rejected("result error: Invalid email 'eeshan@zulip.com'".into())
        );
        assert_eq!(
            outcome(error(401, None, "Invalid API key")),
            SendError::Rejected("result error: Invalid API key".into())
        );
        assert_eq!(
            outcome(Reply::json(
                429,
                json!({"code": "RATE_LIMIT_HIT", "msg": "API usage exceeded rate limit",
                       "result": "error", "retry-after": 28.706807374954224})
            )),
            SendError::RateLimited(Some(29))
        );
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "5")),
            SendError::RateLimited(Some(5))
        );
        assert!(matches!(
            outcome(error(500, None, "Internal server error")),
            SendError::Unavailable(m) if m == "result error: Internal server error"
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>login</html>")),
            SendError::Unavailable(m) if m.contains("expected a JSON reply")
        ));
    }
}
