//! Mailgun e-mail (`MAILGUN_API_KEY`, `MAILGUN_DOMAIN`, `MAILGUN_FROM`,
//! Apprise's `mailgun://`).
//!
//! Sources: Mailgun's API reference (documentation.mailgun.com, Messages,
//! "Send an email": POST `/v3/{domain_name}/messages` with HTTP Basic auth,
//! the user `api` and the API key as password; fields `from`, `to` (commas
//! between several), `cc`, `bcc`, `subject`, `text`, `html`; one of `text`,
//! `html`, `amp-html` or `template` is required; 200 with `{id, message:
//! "Queued. Thank you."}`); its EU region's host `api.eu.mailgun.net`; its
//! API response codes page (400 with a JSON `message` saying why, 403 an
//! auth error or access denied, 404 not found, 429 rate limited "retry as
//! defined in the response", 500 retried with backoff); Apprise's
//! `mailgun.py` (the URL form `mailgun://USER@DOMAIN/APIKEY[/TO...]` with
//! `?region=us|eu`, `?name=` or `?from=`, `?to=`, `?cc=`, `?bcc=`; the
//! sender `USER@DOMAIN`, who is also the recipient when no one else is
//! named; one message per recipient; 401 meaning "the provided API Key was
//! not valid"). Not in qinglong's notify.py: `MAILGUN_*` are mcp-push's
//! own names.
//!
//! Where the sources differ: the reference lists the body as
//! `multipart/form-data`, which its older pages require only for
//! attachments; Apprise, like this channel, sends no attachment and posts a
//! urlencoded form. Apprise puts `cc` and `bcc` on every recipient's
//! message; here they go with the first message only, so that each copy
//! goes out once. The reply to a wrong key, a 401 with the plain text
//! `Forbidden`, is written from memory (the docs' page names 403).

use mcp_push_sdk::mail::{Recipients, address_of};
use mcp_push_sdk::prelude::*;

struct Mailgun;

const US: &str = "https://api.mailgun.net";
const EU: &str = "https://api.eu.mailgun.net";

impl Channel for Mailgun {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "mailgun",
            "Mailgun",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail through Mailgun's Messages API",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("api_key", "A sending or account API key")
                .env(&["MAILGUN_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("domain", "The sending domain (mg.example.com)")
                .env(&["MAILGUN_DOMAIN"])
                .required(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender, `user@DOMAIN` or `Name <user@DOMAIN>`",
            )
            .env(&["MAILGUN_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients, separated by `,` or `;`, each sent a message of their own; default: the sender",
            )
            .env(&["MAILGUN_TO"]),
        )
        .setting(Setting::new("cc", "Carbon copies, separated by `,` or `;`").env(&["MAILGUN_CC"]))
        .setting(
            Setting::new("bcc", "Blind carbon copies, separated by `,` or `;`")
                .env(&["MAILGUN_BCC"]),
        )
        .setting(
            Setting::new("region", "us (api.mailgun.net, the default) or eu (api.eu.mailgun.net)")
                .env(&["MAILGUN_REGION"]),
        )
        .setting(
            Setting::new("api_url", "API base URL instead of the region's, for a proxy or tests")
                .env(&["MAILGUN_API_URL"]),
        )
        .allow_host("api.mailgun.net")
        .allow_host("api.eu.mailgun.net")
        .allow_host("setting:api_url")
        .schemes(&["mailgun"])
    }

    /// `mailgun://USER@DOMAIN/APIKEY[/TO[/TO...]][?region=&name=&to=&cc=&bcc=]`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["mailgun"])?;
        let (Some(user), false, Some(key)) = (u.user.clone(), u.host.is_empty(), u.path.first())
        else {
            return Err(
                "mailgun:// needs the sender and the API key: mailgun://USER@DOMAIN/APIKEY".into(),
            );
        };
        let address = format!("{user}@{}", u.host);
        let from = match u.param("from").or(u.param("name")) {
            Some(f) if f.contains('@') => f.to_string(),
            Some(name) => format!("{name} <{address}>"),
            None => address,
        };
        let mut to: Vec<String> = u.path[1..].to_vec();
        to.extend(u.param("to").map(String::from));
        Pairs::new()
            .set("api_key", key.clone())
            .set("domain", u.host.clone())
            .set("from", from)
            .maybe("to", (!to.is_empty()).then(|| to.join(",")))
            .maybe("cc", u.param("cc"))
            .maybe("bcc", u.param("bcc"))
            .maybe("region", u.param("region"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = match settings.get("api_url") {
            Some(_) => settings.base_url("api_url", US)?,
            None => match settings.choice("region", &["us", "eu"], "us")? {
                "eu" => EU.to_string(),
                _ => US.to_string(),
            },
        };
        let domain = settings.require("domain")?;
        if domain.contains(['/', '?', '#']) {
            return Err(SendError::Config(format!(
                "setting `domain` must be a domain name, not {domain:?}"
            )));
        }
        let key = settings.require("api_key")?;
        let from = settings.require("from")?;
        // An address written twice would get two messages.
        let Recipients { to, cc, bcc } = Recipients::of(settings, address_of(from));
        let cc = (!cc.is_empty()).then(|| cc.join(","));
        let bcc = (!bcc.is_empty()).then(|| bcc.join(","));
        let subject = msg.headline(200);
        let text = msg.body_with_link();
        let url = format!("{base}/v3/{domain}/messages");
        // One message per recipient (as Apprise sends them); a retry resumes
        // after the recipients already sent to.
        let parts: Vec<(usize, &str)> = to.into_iter().enumerate().collect();
        delivery::send_parts(&parts, 0, |&(i, recipient)| {
            let mut form = vec![
                ("from", from),
                ("to", recipient),
                ("subject", subject.as_str()),
                ("text", text.as_str()),
            ];
            if msg.is_html() {
                form.push(("html", msg.body.as_str()));
            }
            if i == 0 {
                form.extend(cc.as_deref().map(|c| ("cc", c)));
                form.extend(bcc.as_deref().map(|b| ("bcc", b)));
            }
            // Success is 200 with the queued message's `id`; a refusal says
            // why in `message`.
            Request::post(&url)
                .basic_auth("api", key)
                .header("Accept", "application/json")
                .form(&form)
                .send()?
                .check(&Check::field("id").non_empty().message("message"))?;
            Ok(())
        })?;
        Ok(Receipt::none())
    }
}

export_channel!(Mailgun);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Mailgun>();
    }

    #[test]
    fn parses_apprise_mailgun_urls() {
        assert_eq!(
            Mailgun::parse_url(&format!("mailgun://ci@mg.example.com/{KEY}")).unwrap(),
            pairs(&[
                ("api_key", KEY),
                ("domain", "mg.example.com"),
                ("from", "ci@mg.example.com"),
            ])
        );
        assert_eq!(
            Mailgun::parse_url(
                "mailgun://ci@mg.example.com/abcd/ops@example.com/dev@example.com\
                 ?region=eu&name=CI%20Bot&cc=lead@example.com&bcc=audit@example.com"
            )
            .unwrap(),
            pairs(&[
                ("api_key", "abcd"),
                ("domain", "mg.example.com"),
                ("from", "CI Bot <ci@mg.example.com>"),
                ("to", "ops@example.com,dev@example.com"),
                ("cc", "lead@example.com"),
                ("bcc", "audit@example.com"),
                ("region", "eu"),
            ])
        );
        assert!(Mailgun::parse_url("mailgun://mg.example.com/abcd").is_err());
        assert!(Mailgun::parse_url("mailgun://ci@mg.example.com").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Mailgun>()
            .setting("api_key", KEY)
            .setting("domain", "mg.example.com")
            .setting("from", "CI <ci@mg.example.com>")
    }

    fn queued(n: u32) -> Reply {
        Reply::json(
            200,
            json!({"id": format!("<20261204042000.{n}@mg.example.com>"), "message": "Queued. Thank you."}),
        )
    }

    /// The documented request: a form to `/v3/{domain}/messages` with Basic
    /// auth `api:KEY` (filled in by the host), one message per recipient,
    /// cc and bcc with the first; 200 with an id is success.
    #[test]
    fn posts_the_documented_form_per_recipient() {
        let h = harness()
            .setting("to", "ops@example.com; dev@example.com")
            .setting("cc", "lead@example.com")
            .setting("bcc", "audit@example.com")
            .reply(queued(1))
            .reply(queued(2));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].method, "POST");
        assert_eq!(
            reqs[0].url,
            "https://api.mailgun.net/v3/mg.example.com/messages"
        );
        assert_eq!(
            reqs[0].form("from").as_deref(),
            Some("CI <ci@mg.example.com>")
        );
        assert_eq!(reqs[0].form("to").as_deref(), Some("ops@example.com"));
        assert_eq!(reqs[0].form("subject").as_deref(), Some("Deploy"));
        assert_eq!(
            reqs[0].form("text").as_deref(),
            Some("v2 is live\n\nhttps://ci.example.com/7")
        );
        assert_eq!(reqs[0].form("html"), None);
        assert_eq!(reqs[0].form("cc").as_deref(), Some("lead@example.com"));
        assert_eq!(reqs[0].form("bcc").as_deref(), Some("audit@example.com"));
        assert_eq!(reqs[1].form("to").as_deref(), Some("dev@example.com"));
        assert_eq!(reqs[1].form("cc"), None);
        assert_eq!(reqs[1].form("bcc"), None);
        let wire = &h.on_the_wire()[0];
        let basic = format!(
            "Basic {}",
            mcp_push_sdk::encode::base64(format!("api:{KEY}").as_bytes())
        );
        assert_eq!(wire.header("authorization"), Some(basic.as_str()));
    }

    /// An address written twice (case aside, or in `to` and `cc`) gets one
    /// message, not two.
    #[test]
    fn an_address_written_twice_gets_one_message() {
        let h = harness()
            .setting("to", "ops@example.com; OPS@example.com")
            .setting("cc", "Ops@Example.com")
            .reply(queued(1));
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert_eq!(reqs[0].form("to").as_deref(), Some("ops@example.com"));
        assert_eq!(reqs[0].form("cc"), None);
    }

    #[test]
    fn to_the_sender_by_default_html_beside_the_text_and_the_eu_host() {
        let h = harness().setting("region", "EU").reply(queued(1));
        let mut msg = message("Report", "<b>3</b> failures");
        msg.format = Format::Html;
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            "https://api.eu.mailgun.net/v3/mg.example.com/messages"
        );
        assert_eq!(req.form("to").as_deref(), Some("ci@mg.example.com"));
        assert_eq!(req.form("html").as_deref(), Some("<b>3</b> failures"));
        let bad = harness().setting("region", "asia");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        let odd = harness().setting("domain", "mg.example.com/../x");
        assert!(matches!(
            odd.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(odd.requests().is_empty());
    }

    /// A failure part-way: the retry sends to the recipients not yet sent to.
    #[test]
    fn a_retry_resumes_after_the_recipients_sent_to() {
        let h = harness()
            .setting("to", "a@example.com, b@example.com")
            .reply(queued(1))
            .reply(Reply::json(
                500,
                json!({"message": "Internal Server Error"}),
            ));
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Unavailable(_))
        ));
        assert_eq!(h.parts_sent(), 1);
        let again = harness()
            .setting("to", "a@example.com, b@example.com")
            .parts_already_sent(1)
            .reply(queued(2));
        again.send(&message("T", "B")).unwrap();
        let reqs = again.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].form("to").as_deref(), Some("b@example.com"));
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"message": "'from' parameter is not a valid address. please check documentation"})
            )),
            SendError::Rejected(
                "HTTP 400: 'from' parameter is not a valid address. please check documentation"
                    .into()
            )
        );
        assert_eq!(
            outcome(Reply::text(401, "Forbidden")),
            SendError::Rejected("HTTP 401: Forbidden".into())
        );
        assert_eq!(
            outcome(Reply::json(403, json!({"message": "Domain mg.example.com is not allowed to send: Free accounts are for test purposes only."}))),
            SendError::Rejected("HTTP 403: Domain mg.example.com is not allowed to send: Free accounts are for test purposes only.".into())
        );
        assert_eq!(
            outcome(Reply::json(
                404,
                json!({"message": "Domain not found: mg.example.com"})
            )),
            SendError::Rejected("HTTP 404: Domain not found: mg.example.com".into())
        );
        assert_eq!(
            outcome(
                Reply::json(429, json!({"message": "Too many requests"}))
                    .header("retry-after", "60")
            ),
            SendError::RateLimited(Some(60))
        );
        assert_eq!(
            outcome(Reply::json(
                500,
                json!({"message": "Internal Server Error"})
            )),
            SendError::Unavailable("HTTP 500: Internal Server Error".into())
        );
    }
}
