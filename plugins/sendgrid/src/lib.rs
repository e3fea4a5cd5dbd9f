//! SendGrid e-mail (`SENDGRID_API_KEY`, `SENDGRID_FROM`, `SENDGRID_TO`,
//! Apprise's `sendgrid://`).
//!
//! Sources: Twilio SendGrid's v3 Mail Send docs (POST
//! `https://api.sendgrid.com/v3/mail/send`, or `api.eu.sendgrid.com` for an
//! EU account, with `Authorization: Bearer <API key>` and JSON
//! `{personalizations: [{to, cc?, bcc?}], from: {email, name?}, subject,
//! content: [{type, value}]}`; "personalizations": each one is an e-mail of
//! its own, with at least one `to`, every address at most once across
//! `to`, `cc` and `bcc`; 202 Accepted with no body: queued); the v3 API's
//! errors page (400, 401, 403 "too many bad requests, temporary block",
//! 406, 429, 500, each with `{"errors": [{field, message, help?}]}`), the
//! Mail Send errors page (every validation error is a 400, e.g. "The
//! content value must be a string at least one character in length." for
//! `content.0.value`), the API overview's 413 and 503; Apprise's
//! `sendgrid.py` (the URL form `sendgrid://APIKEY:FROM_EMAIL[/TO...]` with
//! `?to=`, `?cc=`, `?bcc=`, mail to the sender when no one else is named,
//! `<no subject>` when there is no title, a 200 or a 202 as success).
//! `SENDGRID_API_KEY` is the name SendGrid's own docs and libraries read;
//! the other `SENDGRID_*` names are mcp-push's own.
//!
//! Where the sources differ: Apprise sends one request per recipient; one
//! request with one personalization per recipient is the same mail in the
//! docs' terms (each personalization is its own e-mail), so one request is
//! sent; `cc` and `bcc` go with the first one only, so that each copy goes
//! out once (Apprise copies them into every recipient's mail). Apprise's
//! `?template=` (a dynamic template) is not read: this channel sends the
//! message itself.

use mcp_push_sdk::mail::Recipients;
use mcp_push_sdk::prelude::*;

struct SendGrid;

const OFFICIAL: &str = "https://api.sendgrid.com";

impl Channel for SendGrid {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "sendgrid",
            "SendGrid",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail through Twilio SendGrid's Mail Send API",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("api_key", "An API key with the Mail Send permission")
                .env(&["SENDGRID_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("from", "The sender, an address of a verified sender or domain")
                .env(&["SENDGRID_FROM"])
                .required(),
        )
        .setting(Setting::new("from_name", "The sender's name").env(&["SENDGRID_FROM_NAME"]))
        .setting(
            Setting::new(
                "to",
                "Recipients, separated by `,` or `;`, each sent a mail of their own; default: the sender",
            )
            .env(&["SENDGRID_TO"]),
        )
        .setting(Setting::new("cc", "Carbon copies, separated by `,` or `;`").env(&["SENDGRID_CC"]))
        .setting(
            Setting::new("bcc", "Blind carbon copies, separated by `,` or `;`")
                .env(&["SENDGRID_BCC"]),
        )
        .setting(Setting::new(
            "api_url",
            "API base URL: https://api.eu.sendgrid.com for an EU account, else for a proxy or tests",
        )
        .env(&["SENDGRID_API_URL"])
        .default_value(OFFICIAL))
        .allow_host("api.sendgrid.com")
        .allow_host("api.eu.sendgrid.com")
        .allow_host("setting:api_url")
        .schemes(&["sendgrid"])
    }

    /// `sendgrid://APIKEY:FROM_USER@FROM_DOMAIN[/TO[/TO...]][?to=&cc=&bcc=]`:
    /// the sender's address is the password and host together.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["sendgrid"])?;
        let (Some(key), Some(local)) = (u.user.clone(), u.password.clone()) else {
            return Err(
                "sendgrid:// needs the API key and the sender: sendgrid://APIKEY:USER@DOMAIN"
                    .into(),
            );
        };
        if u.host.is_empty() {
            return Err(
                "sendgrid:// needs the sender's domain: sendgrid://APIKEY:USER@DOMAIN".into(),
            );
        }
        let mut to: Vec<String> = u.path.clone();
        to.extend(u.param("to").map(String::from));
        Pairs::new()
            .set("api_key", key)
            .set("from", format!("{local}@{}", u.host))
            .maybe("to", (!to.is_empty()).then(|| to.join(",")))
            .maybe("cc", u.param("cc"))
            .maybe("bcc", u.param("bcc"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let from = settings.require("from")?;
        // SendGrid refuses an address twice in one personalization.
        let Recipients { to, cc, bcc } = Recipients::of(settings, from);
        let mut personalizations: Vec<mcp_push_sdk::serde_json::Value> = to
            .iter()
            .map(|a| json!({ "to": [{ "email": a }] }))
            .collect();
        if !cc.is_empty() {
            personalizations[0]["cc"] = addresses(&cc);
        }
        if !bcc.is_empty() {
            personalizations[0]["bcc"] = addresses(&bcc);
        }
        let mut sender = json!({ "email": from });
        if let Some(name) = settings.get("from_name") {
            sender["name"] = json!(name);
        }
        // The plain text first, as the docs order them; HTML beside it when
        // the message is HTML.
        let mut content = vec![json!({ "type": "text/plain", "value": msg.body_with_link() })];
        if msg.is_html() {
            content.push(json!({ "type": "text/html", "value": msg.body }));
        }
        let subject = match msg.headline(200) {
            s if s.is_empty() => "<no subject>".to_string(),
            s => s,
        };
        let reply = Request::post(format!(
            "{}/v3/mail/send",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .bearer(settings.require("api_key")?)
        .json(&json!({
            "personalizations": personalizations,
            "from": sender,
            "subject": subject,
            "content": content,
        }))
        .send()?;
        // Success is 202 Accepted (queued); a refusal names the field and
        // why in `errors`.
        if reply.is_success() {
            Ok(Receipt::none())
        } else {
            Err(reply.status_error_at("errors.0.message"))
        }
    }
}

fn addresses(list: &[&str]) -> mcp_push_sdk::serde_json::Value {
    list.iter().map(|a| json!({ "email": a })).collect()
}

export_channel!(SendGrid);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "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";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<SendGrid>();
    }

    #[test]
    fn parses_apprise_sendgrid_urls() {
        assert_eq!(
            SendGrid::parse_url(&format!("sendgrid://{KEY}:noreply@example.com")).unwrap(),
            pairs(&[("api_key", KEY), ("from", "noreply@example.com")])
        );
        assert_eq!(
            SendGrid::parse_url(
                "sendgrid://abcd:ci@example.com/ops@example.com/dev@example.com\
                 ?cc=lead@example.com&bcc=audit@example.com"
            )
            .unwrap(),
            pairs(&[
                ("api_key", "abcd"),
                ("from", "ci@example.com"),
                ("to", "ops@example.com,dev@example.com"),
                ("cc", "lead@example.com"),
                ("bcc", "audit@example.com"),
            ])
        );
        assert!(SendGrid::parse_url("sendgrid://abcd@example.com").is_err());
        assert!(SendGrid::parse_url("sendgrid://abcd:ci@").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<SendGrid>()
            .setting("api_key", KEY)
            .setting("from", "ci@example.com")
    }

    /// The documented request: JSON to `/v3/mail/send` with the key as
    /// Bearer (only on the wire), a personalization per recipient, the
    /// sender, the title as subject and the text; 202 is success.
    #[test]
    fn posts_the_documented_json() {
        let h = harness()
            .setting("from_name", "CI")
            .setting("to", "ops@example.com; dev@example.com")
            .setting("cc", "lead@example.com, ops@example.com")
            .setting("bcc", "audit@example.com")
            .reply(Reply::text(202, ""));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert!(h.send(&msg).unwrap().remote_id.is_none());
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://api.sendgrid.com/v3/mail/send");
        assert_eq!(
            req.json(),
            json!({
                "personalizations": [
                    {"to": [{"email": "ops@example.com"}],
                     "cc": [{"email": "lead@example.com"}],
                     "bcc": [{"email": "audit@example.com"}]},
                    {"to": [{"email": "dev@example.com"}]},
                ],
                "from": {"email": "ci@example.com", "name": "CI"},
                "subject": "Deploy",
                "content": [{"type": "text/plain", "value": "v2 is live\n\nhttps://ci.example.com/7"}],
            })
        );
        assert!(!req.header("authorization").unwrap().contains(KEY));
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }

    #[test]
    fn to_the_sender_by_default_and_html_beside_the_text() {
        let h = harness().reply(Reply::text(202, ""));
        let mut msg = message("", "<b>3</b> failures");
        msg.format = Format::Html;
        h.send(&msg).unwrap();
        let body = h.requests()[0].json();
        assert_eq!(
            body["personalizations"],
            json!([{"to": [{"email": "ci@example.com"}]}])
        );
        assert_eq!(body["subject"], "<b>3</b> failures");
        assert_eq!(
            body["content"],
            json!([{"type": "text/plain", "value": "<b>3</b> failures"},
                   {"type": "text/html", "value": "<b>3</b> failures"}])
        );
        let blank = harness().reply(Reply::text(202, ""));
        blank.send(&message("", "")).unwrap();
        assert_eq!(blank.requests()[0].json()["subject"], "<no subject>");
    }

    #[test]
    fn an_eu_account_posts_to_the_eu_host() {
        let h = harness()
            .setting("api_url", "https://api.eu.sendgrid.com")
            .reply(Reply::text(202, ""));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(
            h.requests()[0].url,
            "https://api.eu.sendgrid.com/v3/mail/send"
        );
    }

    fn error(status: u16, field: Option<&str>, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"errors": [{"message": text, "field": field, "help": null}]}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, field, text) in [
            (
                400,
                Some("from"),
                "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.",
            ),
            (
                400,
                Some("content.0.value"),
                "The content value must be a string at least one character in length.",
            ),
            (
                401,
                None,
                "The provided authorization grant is invalid, expired, or revoked",
            ),
            (403, None, "access forbidden"),
            (
                413,
                None,
                "The JSON payload you have included in your request is too large.",
            ),
        ] {
            assert_eq!(
                outcome(error(status, field, text)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(error(429, None, "too many requests").header("retry-after", "30")),
            SendError::RateLimited(Some(30))
        );
        assert_eq!(
            outcome(error(500, None, "internal server error")),
            SendError::Unavailable("HTTP 500: internal server error".into())
        );
        assert!(matches!(
            outcome(Reply::text(503, "")),
            SendError::Unavailable(m) if m == "HTTP 503: an empty body"
        ));
    }
}
