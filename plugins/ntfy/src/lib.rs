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

use mcp_push_sdk::encode::base64;
use mcp_push_sdk::prelude::*;

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
        let mut req =
            Request::post(settings.base_url("url", OFFICIAL)?).segment(settings.require("topic")?);
        // Publishing under an earlier message's id replaces that notification.
        if let Some(previous) = msg.previous.as_deref() {
            req = req.header("X-Sequence-ID", previous);
        }
        let priority = match settings.get("priority") {
            Some(p) => match p.trim() {
                "1" | "2" | "3" | "4" | "5" => p.trim(),
                "min" => "1",
                "low" => "2",
                "default" => "3",
                "high" => "4",
                "max" | "urgent" => "5",
                _ => {
                    return Err(SendError::Config(format!(
                        "setting `priority` must be 1 to 5, not {p:?}"
                    )));
                }
            },
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
        if let Some(token) = settings.get("token") {
            req = req.bearer(token);
        } else if let Some(user) = settings.get("username") {
            req = req.basic_auth(user, settings.get_or("password", ""));
        }
        let reply = req
            .body(
                "text/plain; charset=utf-8",
                truncate(&msg.body, LIMIT, CUT_MARKER),
            )
            .send()?
            .check(&Check::field("id").message("error"))?;
        let id = msg
            .previous
            .clone()
            .or_else(|| id_at(&reply, "sequence_id"))
            .or_else(|| id_at(&reply, "id"));
        Ok(Receipt::maybe(id))
    }
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

export_channel!(Ntfy);

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
}
