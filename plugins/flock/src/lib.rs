//! Flock messages (`FLOCK_TOKEN`, `FLOCK_TO`, Apprise's `flock://TOKEN`
//! and `flock://[BOTNAME@]TOKEN/TARGETS`).
//!
//! Sources: Flock's developer docs (docs.flock.com, "Create an Incoming
//! Webhook": POST JSON to `https://api.flock.com/hooks/sendMessage/{token}`
//! with a Message object, `text` or `flockml` (`<flockml>…</flockml>`);
//! FlockOS "Methods": `https://api.flock.co/v1/chat.sendMessage` with the
//! parameters `token` (a bot's token), `to` (`u:ID` a user, `g:ID` a
//! group) and the Message's, by GET or a form POST; 200 with `{"uid": …}`;
//! otherwise another status and `{"error": CODE, "description": …}`:
//! `InvalidRequestData`, `InvalidParameter`, `MissingUserToken` 400,
//! `InvalidToken` and `AppDisabled` 403, `TooManyRequests` 429,
//! `InternalServerError` 500, `ServiceUnavailable` 503); Apprise's
//! `flock.py` (the URL forms; a token alone is an incoming webhook, with
//! targets (`@ID` or `u:ID` users, `#ID` or `g:ID` groups) the bot API, one
//! request per target; FlockML `<b>title</b><br/>` and the escaped body;
//! `sendAs` with the bot's name; 401 an invalid token). Not in qinglong's
//! notify.py: `FLOCK_*` are mcp-push's own names.
//!
//! Where the sources differ: Apprise posts JSON to `chat.sendMessage`; the
//! docs show a form, which is sent here (`sendAs` in it as a JSON text,
//! which is written from memory). Apprise always sends `sendAs` with its
//! own name and icon; here only a name or icon that is set. Apprise keeps
//! the body's line breaks as they are; FlockML is HTML-like, so they become
//! `<br/>` here. The webhook's reply body is not documented: any 2xx is
//! success there.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::text::escape_html;

struct Flock;

const HOOKS: &str = "https://api.flock.com";
const METHODS: &str = "https://api.flock.co";

impl Channel for Flock {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "flock",
            "Flock",
            env!("CARGO_PKG_VERSION"),
            "Posts to Flock through an incoming webhook, or to users and groups as a bot",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new(
                "token",
                "The incoming webhook's token (the end of its URL), or a bot's token with `to`",
            )
            .env(&["FLOCK_TOKEN"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "to",
                "With a bot's token: users (@ID or u:ID) and groups (#ID or g:ID), comma or space separated",
            )
            .env(&["FLOCK_TO"]),
        )
        .setting(Setting::new("name", "Name shown as the sender").env(&["FLOCK_NAME"]))
        .setting(
            Setting::new("icon_url", "Picture shown as the sender's").env(&["FLOCK_ICON_URL"]),
        )
        .setting(
            Setting::new(
                "api_url",
                "Base URL of both APIs, for a proxy or tests (default: Flock's own)",
            )
            .env(&["FLOCK_API_URL"]),
        )
        .allow_host("api.flock.com")
        .allow_host("api.flock.co")
        .allow_host("setting:api_url")
        .schemes(&["flock"])
    }

    /// `flock://[BOTNAME@]TOKEN[/TARGET…]`, with `?to=` (more targets).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["flock"])?;
        if u.host.is_empty() {
            return Err("flock:// needs the token: flock://TOKEN or flock://TOKEN/TARGET".into());
        }
        let mut to = u.path.clone();
        if let Some(more) = u.param("to") {
            to.extend(
                more.split([',', ' '])
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
        }
        let pairs = Pairs::new()
            .set("token", u.host.clone())
            .maybe("to", (!to.is_empty()).then(|| to.join(",")))
            .maybe("name", u.user.clone())
            .done()?;
        // Refuse a target no send would take, now rather than at each send.
        targets(&to.join(",")).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let token = settings.require("token")?;
        let to = targets(settings.get_or("to", ""))?;
        let flockml = flockml(msg);
        let send_as = send_as(settings);
        if to.is_empty() {
            let base = settings.base_url("api_url", HOOKS)?;
            let mut body = json!({ "flockml": flockml });
            if let Some(send_as) = send_as {
                body["sendAs"] = send_as;
            }
            let reply = Request::post(format!("{base}/hooks/sendMessage"))
                .segment(token)
                .json(&body)
                .send()?;
            // The webhook's success is its 2xx; a refusal says why in
            // `description`, as the methods do.
            if !reply.is_success() {
                return Err(reply.status_error_at("description"));
            }
            return Ok(Receipt::none());
        }
        let base = settings.base_url("api_url", METHODS)?;
        let mut first_id = None;
        // One message per target, as Apprise sends them; a retry skips the
        // targets reached.
        delivery::send_parts(&to, 0, |target| {
            let mut form = vec![
                ("token", token.to_string()),
                ("to", target.clone()),
                ("flockml", flockml.clone()),
            ];
            if let Some(send_as) = &send_as {
                form.push(("sendAs", send_as.to_string()));
            }
            let reply = Request::post(format!("{base}/v1/chat.sendMessage"))
                .form(&form)
                .send()?;
            // Success is 200 with the message's `uid`; a refusal names its
            // `error` and says why in `description`.
            if !reply.is_success() {
                return Err(reply.status_error_at("description"));
            }
            let sent = reply.check(&Check::field("uid").message("description"))?;
            first_id = first_id.take().or(id_at(&sent, "uid"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first_id))
    }
}

/// Targets as the bot API names them: `@ID` or `u:ID` a user, `#ID` or
/// `g:ID` a group; a bare ID a user, as Apprise reads it.
fn targets(list: &str) -> Result<Vec<String>, SendError> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (kind, id) = if let Some(id) = t.strip_prefix('#').or(t.strip_prefix("g:")) {
                ("g", id)
            } else {
                (
                    "u",
                    t.strip_prefix('@').or(t.strip_prefix("u:")).unwrap_or(t),
                )
            };
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(SendError::Config(format!(
                    "Flock target {t:?} is neither a user (@ID, u:ID) nor a group (#ID, g:ID)"
                )));
            }
            Ok(format!("{kind}:{id}"))
        })
        .collect()
}

/// The message as FlockML: the title in bold, the body escaped (or as
/// written when it is HTML) with its line breaks kept, then the link.
fn flockml(msg: &Message) -> String {
    let body = if msg.is_html() {
        msg.body.clone()
    } else {
        escape_html(&msg.body).replace('\n', "<br/>")
    };
    let title = escape_html(msg.title.trim());
    let mut text = heading(&Bold::Html.title(&title), &body, "<br/>");
    if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
        let link = escape_html(link);
        text.push_str(&format!("<br/><a href=\"{link}\">{link}</a>"));
    }
    format!("<flockml>{text}</flockml>")
}

/// `sendAs` with the name and icon that are set, if any.
fn send_as(settings: &Settings) -> Option<mcp_push_sdk::serde_json::Value> {
    let mut send_as = json!({});
    for (field, value) in settings.fields(&[("name", "name"), ("icon_url", "profileImage")]) {
        send_as[field] = json!(value);
    }
    (send_as != json!({})).then_some(send_as)
}

export_channel!(Flock);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const TOKEN: &str = "134b8gh0-eba0-4fa9-ab9c-257ced0e8221";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Flock>();
    }

    #[test]
    fn parses_apprises_flock_urls() {
        assert_eq!(
            Flock::parse_url(&format!("flock://{TOKEN}")).unwrap(),
            pairs(&[("token", TOKEN)])
        );
        assert_eq!(
            Flock::parse_url(&format!("flock://CI@{TOKEN}/@u1/g:grp_2?to=%23g3")).unwrap(),
            pairs(&[("token", TOKEN), ("to", "@u1,g:grp_2,#g3"), ("name", "CI")])
        );
        assert!(Flock::parse_url("flock://").is_err());
        let bad = Flock::parse_url(&format!("flock://{TOKEN}/x:y!")).unwrap_err();
        assert!(bad.contains("neither a user"), "{bad}");
    }

    fn hook() -> Harness {
        Harness::new::<Flock>().setting("token", TOKEN)
    }

    /// The incoming webhook: JSON `flockml` to `/hooks/sendMessage/TOKEN`
    /// (the token only on the wire); the title bold, the text escaped, its
    /// line breaks kept, the link last.
    #[test]
    fn posts_flockml_to_the_incoming_webhook() {
        let h = hook().reply(Reply::json(200, json!({})));
        let mut msg = message("Deploy <prod>", "v2 & v3\nlive");
        msg.link = Some("https://ci.example.com/7?a=1&b=2".into());
        assert_eq!(h.send(&msg).unwrap().remote_id, None);
        let req = &h.requests()[0];
        assert!(!req.url.contains(TOKEN));
        assert_eq!(
            h.on_the_wire()[0].url,
            format!("https://api.flock.com/hooks/sendMessage/{TOKEN}")
        );
        assert_eq!(
            req.json(),
            json!({"flockml": "<flockml><b>Deploy &lt;prod&gt;</b><br/>v2 &amp; v3<br/>live\
                <br/><a href=\"https://ci.example.com/7?a=1&amp;b=2\">https://ci.example.com/7?a=1&amp;b=2</a></flockml>"})
        );
    }

    #[test]
    fn html_is_sent_as_written_and_the_sender_named() {
        let h = hook()
            .setting("name", "CI")
            .setting("icon_url", "https://x.example/i.png")
            .reply(Reply::json(200, json!({})));
        let mut msg = message("", "<i>done</i>");
        msg.format = Format::Html;
        h.send(&msg).unwrap();
        assert_eq!(
            h.requests()[0].json(),
            json!({"flockml": "<flockml><i>done</i></flockml>",
                   "sendAs": {"name": "CI", "profileImage": "https://x.example/i.png"}})
        );
    }

    /// With targets: a form to `chat.sendMessage` per target, the bot's
    /// token in it, `u:`/`g:` ids; a retry resumes after the targets
    /// reached.
    #[test]
    fn a_bot_posts_to_each_target() {
        let uid = |id: &str| Reply::json(200, json!({"uid": id}));
        let h = hook()
            .setting("to", "@alice, #ops")
            .setting("name", "CI")
            .reply(uid("m1"))
            .reply(Reply::json(
                503,
                json!({"error": "ServiceUnavailable",
                "description": "The API service is unavailable at this time"}),
            ))
            .reply(uid("m2"));
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Unavailable("HTTP 503: The API service is unavailable at this time".into())
        );
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("m2"));
        let reqs = h.requests();
        assert_eq!(
            reqs.iter()
                .map(|r| r.form("to").unwrap())
                .collect::<Vec<_>>(),
            ["u:alice", "g:ops", "g:ops"]
        );
        assert_eq!(reqs[0].url, "https://api.flock.co/v1/chat.sendMessage");
        assert_eq!(
            reqs[0].form("flockml").unwrap(),
            "<flockml><b>T</b><br/>B</flockml>"
        );
        assert_eq!(reqs[0].form("sendAs").unwrap(), r#"{"name":"CI"}"#);
        assert_eq!(h.on_the_wire()[0].form("token").as_deref(), Some(TOKEN));
    }

    fn outcome(h: Harness, reply: Reply) -> SendError {
        h.reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        let bot = || hook().setting("to", "u:alice");
        let error = |status: u16, code: &str, why: &str| {
            Reply::json(status, json!({"error": code, "description": why}))
        };
        assert_eq!(
            outcome(
                bot(),
                error(
                    403,
                    "InvalidToken",
                    "An invalid user authentication token was sent with the request"
                )
            ),
            SendError::Rejected(
                "HTTP 403: An invalid user authentication token was sent with the request".into()
            )
        );
        assert_eq!(
            outcome(
                bot(),
                error(
                    400,
                    "InvalidParameter",
                    "A parameter for the method call is missing or invalid"
                )
            ),
            SendError::Rejected(
                "HTTP 400: A parameter for the method call is missing or invalid".into()
            )
        );
        assert_eq!(
            outcome(bot(), error(429, "TooManyRequests", "Rate limit reached")),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(
                bot(),
                error(
                    500,
                    "InternalServerError",
                    "An unexpected condition was encountered"
                )
            ),
            SendError::Unavailable(_)
        ));
        // A 200 without the message's uid is no delivery.
        assert!(matches!(
            outcome(bot(), Reply::json(200, json!({}))),
            SendError::Rejected(_)
        ));
        assert!(matches!(
            outcome(hook(), Reply::text(401, "Unauthorized")),
            SendError::Rejected(m) if m == "HTTP 401: Unauthorized"
        ));
        assert!(matches!(
            outcome(hook(), Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(_)
        ));
        let bad = hook().setting("to", "x:1!");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(bad.requests().is_empty());
    }
}
