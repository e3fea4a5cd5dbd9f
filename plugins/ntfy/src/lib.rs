//! ntfy (notify.py's `NTFY_*`, Apprise's `ntfy://` and `ntfys://`): ntfy.sh or a
//! self-hosted server. Sources: ntfy's publishing docs (docs.ntfy.sh/publish:
//! headers `Title`, `Priority`, `Tags`, `Click`, `Actions`, `Markdown`; a
//! message body of at most 4,096 bytes, beyond which a server turns it into an
//! attachment or refuses it), Apprise's `ntfy.py`.
//!
//! A run's later messages replace its first one through ntfy's sequence ids
//! (ntfy 2.16 and later), sent as the `X-Sequence-ID` header on the usual
//! `POST /{topic}`: the path form `/{topic}/{id}` is a 404 on older servers,
//! which ignore the header and show a new notification instead.
//!
//! Questions (`replies`): `ask` publishes the question as a send does (the
//! same `POST /{topic}` with headers), with action buttons in the `Actions`
//! header (docs.ntfy.sh/publish, "Action buttons": up to three actions per
//! notification; "Using a header": `;` between actions, `key=value` pairs
//! between commas, values quoted with `"` or `'`; "Send HTTP request": an
//! `http` action sends `method` to `url` with `headers.<name>` and `body`
//! when tapped, and `clear=true` dismisses the notification; "Open
//! website/app": a `view` action opens `url`). Each choice is an `http`
//! action that POSTs `answer=<choice>` (form-encoded) to the question's
//! reply link, whose query carries the channel and token `serve` checks, so
//! a tap answers without opening anything. More than three choices keep the
//! first two as buttons and a `view` action opening the reply page in the
//! last slot; a free-text question gets that `view` action only. A question
//! without a reply link (no `serve` to answer it) goes as plain text with
//! no buttons, answered over the CLI or the API. The `actions` setting is
//! not added to a question: its buttons take ntfy's three slots.
//!
//! `poll-replies` reads nothing: ntfy carries no answers back (an action's
//! request goes from the phone to the link, never through the topic), so
//! the answers arrive at `serve` through the link itself.

use mcp_push_sdk::encode::base64;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::replies::{Asked, Polled, Question, Replies};
use mcp_push_sdk::serde_json::Value;

struct Ntfy;

const OFFICIAL: &str = "https://ntfy.sh";

/// ntfy's `message-size-limit` is 4096 bytes (the default, ntfy.sh too), and
/// a body that reaches it (`util.Peek` counts `read == limit` as over) is
/// taken for a file: without an attachment cache the server answers 40014
/// "attachments not allowed". So one byte less.
const LIMIT: Limit = Limit::Bytes(4095);

impl Channel for Ntfy {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "ntfy",
            "ntfy",
            env!("CARGO_PKG_VERSION"),
            "Publishes to an ntfy topic; updates a run's notification in place",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("topic", "Topic name")
                .env(&["NTFY_TOPIC"])
                .required(),
        )
        .setting(
            Setting::new("url", "Server URL")
                .env(&["NTFY_URL"])
                .default_value(OFFICIAL),
        )
        .setting(
            Setting::new(
                "priority",
                "1 (min) to 5 (max); else the message's priority",
            )
            .env(&["NTFY_PRIORITY"]),
        )
        .setting(
            Setting::new("token", "Access token")
                .env(&["NTFY_TOKEN"])
                .secret(),
        )
        .setting(Setting::new("username", "User, for Basic auth").env(&["NTFY_USERNAME"]))
        .setting(
            Setting::new("password", "Password, for Basic auth")
                .env(&["NTFY_PASSWORD"])
                .secret(),
        )
        .setting(
            Setting::new("actions", "Action buttons, in ntfy's Actions header format")
                .env(&["NTFY_ACTIONS"]),
        )
        .allow_host("ntfy.sh")
        .allow_host("setting:url")
        .schemes(&["ntfy", "ntfys"])
        .can_edit()
    }

    /// `ntfy://TOPIC` (ntfy.sh), `ntfy[s]://[USER:PASSWORD@]HOST[:PORT]/TOPIC`,
    /// `?token=TOKEN&priority=N`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["ntfy", "ntfys"])?;
        let (server, topic) = match u.path.as_slice() {
            [] if !u.host.is_empty() => (OFFICIAL.to_string(), u.host.clone()),
            [topic] => {
                let host = OneLine {
                    path: Vec::new(),
                    ..u.clone()
                };
                (host.base_url(u.scheme == "ntfys"), topic.clone())
            }
            _ => return Err("ntfy:// takes one topic: ntfy://[HOST/]TOPIC".into()),
        };
        Pairs::new()
            .set("url", server)
            .set("topic", topic)
            .maybe("username", u.user.clone())
            .maybe("password", u.password.clone())
            .maybe("token", u.param("token"))
            .maybe("priority", u.param("priority"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let mut req = publish(settings)?;
        // Publishing under an earlier message's id replaces that notification.
        if let Some(previous) = msg.previous.as_deref() {
            req = req.header("X-Sequence-ID", previous);
        }
        let priority = match configured_priority(settings)? {
            Some(p) => p,
            None => msg.priority.on(["2", "3", "4", "5"]),
        };
        req = req.header("Priority", priority);
        if !msg.title.trim().is_empty() {
            req = req.header("Title", &header_text(&msg.title));
        }
        if !msg.tags.is_empty() {
            req = req.header("Tags", &header_text(&msg.tags.join(",")));
        }
        if let Some(link) = &msg.link {
            req = req.header("Click", link);
        }
        if let Some(actions) = settings.get("actions") {
            req = req.header("Actions", &header_text(actions));
        }
        if msg.is_markdown() {
            req = req.header("Markdown", "yes");
        }
        let reply = deliver(req, &msg.body)?;
        let id = msg
            .previous
            .clone()
            .or_else(|| id_at(&reply, "sequence_id"))
            .or_else(|| id_at(&reply, "id"));
        Ok(Receipt::maybe(id))
    }
}

/// `POST {url}/{topic}`, authenticated as the settings say.
fn publish(settings: &Settings) -> Result<Request, SendError> {
    let mut req =
        Request::post(settings.base_url("url", OFFICIAL)?).segment(settings.require("topic")?);
    if let Some(token) = settings.get("token") {
        req = req.bearer(token);
    } else if let Some(user) = settings.get("username") {
        req = req.basic_auth(user, settings.get_or("password", ""));
    }
    Ok(req)
}

/// Publish `body` (cut under ntfy's limit) with the request's headers.
fn deliver(req: Request, body: &str) -> Result<Value, SendError> {
    req.body(
        "text/plain; charset=utf-8",
        truncate(body, LIMIT, CUT_MARKER),
    )
    .send()?
    .check(&Check::field("id").message("error"))
}

/// The `priority` setting as ntfy's 1 to 5 (`None`: not set).
fn configured_priority(settings: &Settings) -> Result<Option<&'static str>, SendError> {
    let Some(p) = settings.get("priority") else {
        return Ok(None);
    };
    Ok(Some(match p.trim() {
        "1" | "min" => "1",
        "2" | "low" => "2",
        "3" | "default" => "3",
        "4" | "high" => "4",
        "5" | "max" | "urgent" => "5",
        _ => {
            return Err(SendError::Config(format!(
                "setting `priority` must be 1 to 5, not {p:?}"
            )));
        }
    }))
}

/// A header value: ASCII as it is, anything else as an RFC 2047 encoded word
/// (which ntfy decodes).
fn header_text(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        s.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", base64(s.as_bytes()))
    }
}

export_channel!(Ntfy, replies);

/// Actions a notification shows at most (docs: "up to three user actions").
const MAX_ACTIONS: usize = 3;

impl Replies for Ntfy {
    fn ask(settings: &Settings, q: &Question) -> Result<Asked, SendError> {
        // A question goes at high priority, as the host sends it elsewhere.
        let priority = configured_priority(settings)?.unwrap_or("4");
        let mut req = publish(settings)?.header("Priority", priority);
        if !q.title.trim().is_empty() {
            req = req.header("Title", &header_text(&q.title));
        }
        if let Some(link) = q.link.as_deref().filter(|l| !l.is_empty()) {
            // Tapping the notification opens the reply page too.
            req = req
                .header("Click", link)
                .header("Actions", &header_text(&actions(&q.choices, link)));
        }
        let reply = deliver(req, &q.text)?;
        Ok(Asked::maybe(id_at(&reply, "id")))
    }

    /// Nothing to read: ntfy hands no answer back to a publisher. A tapped
    /// `http` action posts the answer to the reply link, where `serve` takes
    /// it; the host's poll of this channel costs no request.
    fn poll_replies(_settings: &Settings, _cursor: Option<&str>) -> Result<Polled, SendError> {
        Ok(Polled::nothing())
    }
}

/// The `Actions` header of a question: an `http` action per choice, posting
/// `answer=<choice>` to the reply link, within ntfy's three; a `view`
/// action opening the reply page in the last slot when the choices do not
/// fit, or alone for a free-text answer.
fn actions(choices: &[String], link: &str) -> String {
    let buttons = if choices.len() <= MAX_ACTIONS {
        choices.len()
    } else {
        MAX_ACTIONS - 1
    };
    let mut all: Vec<String> = choices[..buttons]
        .iter()
        .map(|choice| {
            let body = form_encode(&[("answer", choice.as_str())]);
            format!(
                "action=http, label={}, url={}, method=POST, \
                 headers.Content-Type=application/x-www-form-urlencoded, body={}, clear=true",
                quoted(choice),
                quoted(link),
                quoted(&body)
            )
        })
        .collect();
    if buttons < choices.len() || choices.is_empty() {
        let label = if choices.is_empty() {
            "Answer"
        } else {
            "Other answers"
        };
        all.push(format!(
            "action=view, label={label}, url={}, clear=true",
            quoted(link)
        ));
    }
    all.join("; ")
}

/// A value of the header format, quoted so that its commas and semicolons
/// are its own: in `"`, or in `'` when it holds a `"`. ntfy has no escape
/// inside quotes, so a value with both shows its `"` as `'`.
fn quoted(value: &str) -> String {
    match (value.contains('"'), value.contains('\'')) {
        (false, _) => format!("\"{value}\""),
        (true, false) => format!("'{value}'"),
        (true, true) => format!("\"{}\"", value.replace('"', "'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Ntfy>();
    }

    #[test]
    fn urls_and_headers() {
        let s = Ntfy::parse_url("ntfy://alerts").unwrap();
        assert_eq!(s[0].1, OFFICIAL);
        assert_eq!(s[1].1, "alerts");
        let s = Ntfy::parse_url("ntfys://me:pw@ntfy.example.com/ops?priority=5").unwrap();
        assert_eq!(s[0].1, "https://ntfy.example.com");
        assert_eq!(s[1].1, "ops");
        assert_eq!(header_text("héllo"), "=?UTF-8?B?aMOpbGxv?=");
        assert_eq!(header_text("plain"), "plain");
    }

    #[test]
    fn an_update_carries_its_sequence_id_as_a_header_on_the_topic() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Ntfy>()
            .setting("topic", "ops")
            .reply(Reply::json(200, json!({"id": "abc", "event": "message"})));
        let mut m = message("Run", &"x".repeat(10_000));
        m.previous = Some("seq-1".into());
        assert_eq!(h.send(&m).unwrap().remote_id.as_deref(), Some("seq-1"));
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://ntfy.sh/ops");
        assert_eq!(req.header("X-Sequence-ID"), Some("seq-1"));
        assert!(req.body.len() < 4096, "{} bytes", req.body.len());
    }

    fn harness() -> mcp_push_sdk::testing::Harness {
        mcp_push_sdk::testing::Harness::new::<Ntfy>()
            .setting("topic", "ops")
            .setting("token", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
    }

    /// The message in ntfy's headers: a title beyond ASCII as an encoded
    /// word, urgent as 5, tags, Markdown, and the token only on the wire
    /// (moved from tests/channels_intl.rs).
    #[test]
    fn the_message_goes_in_ntfys_headers() {
        use mcp_push_sdk::testing::{Reply, message};
        let h = harness().reply(Reply::json(200, json!({"id": "msg1", "event": "message"})));
        let mut m = message("Déploiement", "**done**");
        m.format = Format::Markdown;
        m.tags = vec!["rocket".into()];
        m.priority = Priority::Urgent;
        assert_eq!(h.send(&m).unwrap().remote_id.as_deref(), Some("msg1"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://ntfy.sh/ops");
        assert_eq!(req.text(), "**done**");
        assert_eq!(req.header("title"), Some("=?UTF-8?B?RMOpcGxvaWVtZW50?="));
        assert_eq!(req.header("priority"), Some("5"));
        assert_eq!(req.header("tags"), Some("rocket"));
        assert_eq!(req.header("markdown"), Some("yes"));
        assert!(!req.header("authorization").unwrap().contains("tk_Ag"));
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some("Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
        );
    }

    /// A body of 4096 bytes or more is a file to ntfy (40014 without an
    /// attachment cache): 10,000 bytes of two-byte characters are cut under
    /// it, on a character boundary, with a marker (moved from
    /// tests/channels_intl.rs).
    #[test]
    fn a_long_body_is_cut_under_the_attachment_limit() {
        use mcp_push_sdk::testing::{Reply, message};
        let h = harness().reply(Reply::json(200, json!({"id": "msg1", "event": "message"})));
        h.send(&message("Long", &"é".repeat(5000))).unwrap();
        let body = h.requests()[0].body.clone();
        let cut = String::from_utf8(body).expect("cut on a character boundary");
        assert!(
            cut.len() < 4096 && cut.ends_with('…'),
            "{} bytes",
            cut.len()
        );
    }

    /// A wrong token and ntfy's rate limit (moved from tests/channels_intl.rs).
    #[test]
    fn refusals_and_rate_limits_map_to_kinds() {
        use mcp_push_sdk::testing::{Reply, message};
        let h = harness()
            .reply(Reply::json(
                403,
                json!({"code": 40301, "http": 403, "error": "forbidden", "link": "https://ntfy.sh/docs/publish/#authentication"}),
            ))
            .reply(Reply::json(
                429,
                json!({"code": 42901, "http": 429, "error": "limit reached: too many requests"}),
            ));
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("HTTP 403: forbidden".into())
        );
        assert!(matches!(h.send(&msg), Err(SendError::RateLimited(_))));
    }

    fn replying() -> mcp_push_sdk::testing::Harness {
        mcp_push_sdk::testing::Harness::replying::<Ntfy>()
            .setting("topic", "ops")
            .setting("token", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
    }

    const LINK: &str = "http://127.0.0.1:8080/v1/asks/12/answer?channel=ntfy&token=abc_-1";

    fn question(choices: &[&str], link: Option<&str>) -> Question {
        Question {
            ask_id: "12".into(),
            title: "Question".into(),
            text: "Deploy?\n\nAnswer yes / no: link".into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            link: link.map(str::to_string),
        }
    }

    fn published() -> mcp_push_sdk::testing::Reply {
        mcp_push_sdk::testing::Reply::json(200, json!({"id": "q1", "event": "message"}))
    }

    /// One `http` action per choice in the `Actions` header, each POSTing
    /// `answer=<choice>` form-encoded to the reply link and clearing the
    /// notification; the notification opens the page when tapped.
    #[test]
    fn a_question_goes_with_an_http_action_per_choice() {
        let h = replying().reply(published());
        let asked = h.ask(&question(&["yes", "no, wait"], Some(LINK))).unwrap();
        assert_eq!(asked.remote_id.as_deref(), Some("q1"));
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://ntfy.sh/ops");
        assert_eq!(req.text(), "Deploy?\n\nAnswer yes / no: link");
        assert_eq!(req.header("title"), Some("Question"));
        assert_eq!(req.header("priority"), Some("4"));
        assert_eq!(req.header("click"), Some(LINK));
        assert_eq!(
            req.header("actions").unwrap(),
            format!(
                "action=http, label=\"yes\", url=\"{LINK}\", method=POST, \
                 headers.Content-Type=application/x-www-form-urlencoded, \
                 body=\"answer=yes\", clear=true; \
                 action=http, label=\"no, wait\", url=\"{LINK}\", method=POST, \
                 headers.Content-Type=application/x-www-form-urlencoded, \
                 body=\"answer=no%2C%20wait\", clear=true"
            )
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some("Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
        );
    }

    /// ntfy shows three actions: with four choices the first two are
    /// buttons and the third opens the reply page; a free-text question has
    /// only that; without a link there is nothing to tap.
    #[test]
    fn more_choices_than_three_or_none_open_the_page_and_no_link_no_buttons() {
        let h = replying()
            .reply(published())
            .reply(published())
            .reply(published());
        h.ask(&question(&["a", "b", "c", "d"], Some(LINK))).unwrap();
        h.ask(&question(&[], Some(LINK))).unwrap();
        h.ask(&question(&["a", "b"], None)).unwrap();
        let reqs = h.requests();
        let four = reqs[0].header("actions").unwrap();
        assert_eq!(four.split("; ").count(), 3, "{four}");
        assert!(four.contains("label=\"a\"") && four.contains("label=\"b\""));
        assert!(!four.contains("label=\"c\""), "{four}");
        assert!(
            four.ends_with(&format!(
                "action=view, label=Other answers, url=\"{LINK}\", clear=true"
            )),
            "{four}"
        );
        assert_eq!(
            reqs[1].header("actions").unwrap(),
            format!("action=view, label=Answer, url=\"{LINK}\", clear=true")
        );
        assert_eq!(reqs[2].header("actions"), None);
        assert_eq!(reqs[2].header("click"), None);
        assert_eq!(reqs[2].text(), "Deploy?\n\nAnswer yes / no: link");
    }

    /// Labels keep their quotes and commas; beyond ASCII the header goes as
    /// an encoded word (which ntfy decodes, "any header (including actions)").
    #[test]
    fn labels_are_quoted_and_non_ascii_headers_encoded() {
        assert_eq!(quoted("it's"), "\"it's\"");
        assert_eq!(quoted("say \"hi\""), "'say \"hi\"'");
        assert_eq!(quoted("\"it's\""), "\"'it's'\"");
        let h = replying().reply(published());
        h.ask(&question(&["oui", "non ✋"], Some(LINK))).unwrap();
        let header = h.requests()[0].header("actions").unwrap().to_string();
        assert!(header.starts_with("=?UTF-8?B?"), "{header}");
        assert_eq!(
            header_text(&actions(&["oui".into(), "non ✋".into()], LINK)),
            header
        );
    }

    /// Answers come through the link: a poll asks ntfy nothing.
    #[test]
    fn a_poll_reads_nothing() {
        let h = replying();
        assert_eq!(h.poll_replies(None).unwrap(), Polled::nothing());
        assert!(h.requests().is_empty());
    }
}
