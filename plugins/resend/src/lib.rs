//! Resend e-mail (`RESEND_API_KEY`, `RESEND_FROM`, Apprise's
//! `resend://APIKEY:FROM_USER@FROM_DOMAIN[/TO]`).
//!
//! Sources: Resend's API reference ("Send Email": POST
//! `https://api.resend.com/emails` with `Authorization: Bearer re_…`, JSON
//! `from` ("Your Name <sender@domain.com>" for a name), `to` (a string or an
//! array, at most 50), `subject`, `cc`, `bcc`, `reply_to`, `html`, `text`;
//! the reply `{"id": …}`; the `Idempotency-Key` header, up to 256
//! characters, kept 24 hours; "Errors": `{statusCode, message, name}` with
//! 400 `validation_error` and `invalid_idempotency_key`, 401
//! `missing_api_key` and `restricted_api_key`, 403 `invalid_api_key` and the
//! unverified-domain `validation_error`, 404, 405, 409
//! `invalid_idempotent_request` and `concurrent_idempotent_requests` ("safe
//! to retry later"), 422, 429 `rate_limit_exceeded` and
//! `daily_quota_exceeded`, 500 `application_error`); Apprise's `resend.py`
//! (`resend://APIKEY:FROM_USER@FROM_DOMAIN/TO…`, `?to=`, `?cc=`, `?bcc=`,
//! `?reply=`, `?name=`, `?from=`, `?apikey=`; no recipient: the sender).
//! `RESEND_API_KEY` is the name Resend's own SDKs read; the other
//! `RESEND_*` are mcp-push's own.
//!
//! Every attempt of a delivery carries the same `Idempotency-Key`, so a
//! retry after a lost reply does not send the e-mail twice.
//!
//! Where they differ: Apprise sends one request per recipient; Resend takes
//! up to 50 in `to`, so one request carries them all (more is a
//! configuration error). Apprise posts the body as `html` whatever its
//! format; here plain text goes as `text` and HTML as `html`.

use mcp_push_sdk::mail;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::text::escape_html;

struct Resend;

const OFFICIAL: &str = "https://api.resend.com";

/// Resend's cap on `to`.
const MAX_TO: usize = 50;

impl Channel for Resend {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "resend",
            "Resend",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail through Resend's API",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("api_key", "API key (re_…) with sending access")
                .env(&["RESEND_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "Sender on a verified domain: addr or \"Name <addr>\"",
            )
            .env(&["RESEND_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients, `,` or `;`-separated (default: the sender)",
            )
            .env(&["RESEND_TO"]),
        )
        .setting(Setting::new("cc", "Cc recipients, `,` or `;`-separated").env(&["RESEND_CC"]))
        .setting(Setting::new("bcc", "Bcc recipients, `,` or `;`-separated").env(&["RESEND_BCC"]))
        .setting(
            Setting::new("reply_to", "Reply-to addresses, `,` or `;`-separated")
                .env(&["RESEND_REPLY_TO"]),
        )
        .setting(Setting::api_url("RESEND_API_URL", OFFICIAL))
        .allow_host("api.resend.com")
        .allow_host("setting:api_url")
        .schemes(&["resend"])
    }

    /// `resend://APIKEY:FROM_USER@FROM_DOMAIN[/TO…][?to=&cc=&bcc=&reply=&name=]`,
    /// or `?from=ADDR`, the host then a recipient; `?apikey=` for the key.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let pairs = OneLine::parse(url, &["resend"])?.mail_api()?;
        mail::sender_and_recipients(&Settings::from(pairs.clone()), MAX_TO).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let (from, to) = mail::sender_and_recipients(settings, MAX_TO)?;
        let subject = mail::subject(msg, 200);
        let mut email = json!({ "from": from, "to": to, "subject": subject });
        if msg.is_html() {
            let mut html = msg.body_html();
            if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
                let link = escape_html(link);
                html.push_str(&format!("<p><a href=\"{link}\">{link}</a></p>"));
            }
            email["html"] = json!(html);
        } else {
            email["text"] = json!(msg.body_with_link());
        }
        for key in ["cc", "bcc", "reply_to"] {
            let list = settings.list(key, &[',', ';']);
            if !list.is_empty() {
                email[key] = json!(list);
            }
        }
        let reply = Request::post(format!(
            "{}/emails",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .bearer(settings.require("api_key")?)
        // The same on every attempt: a retry after a lost reply is
        // answered with the first send's id, not sent again.
        .header("Idempotency-Key", &format!("mcp-push/{}", delivery::key()))
        .json(&email)
        .send()?;
        // Success is the created e-mail's `id`; a refusal says why in
        // `message` and names its kind in `name`.
        match reply.check(&Check::field("id").message("message")) {
            Ok(value) => Ok(Receipt::from_reply(&value, "id")),
            // The first attempt is still being processed: safe to retry.
            Err(SendError::Rejected(why))
                if reply.status == 409
                    && reply
                        .json()
                        .ok()
                        .and_then(|v| v["name"].as_str().map(String::from))
                        == Some("concurrent_idempotent_requests".into()) =>
            {
                Err(SendError::Unavailable(why))
            }
            Err(e) => Err(e),
        }
    }
}

export_channel!(Resend);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const KEY: &str = "re_123456789abcdef";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Resend>();
    }

    #[test]
    fn parses_apprise_resend_urls() {
        assert_eq!(
            Resend::parse_url(&format!("resend://{KEY}:noreply@example.com")).unwrap(),
            vec![
                ("api_key".into(), KEY.into()),
                ("from".into(), "noreply@example.com".into()),
            ]
        );
        let s = Resend::parse_url(&format!(
            "resend://{KEY}:noreply@example.com/ops@example.com?to=dev@example.com&cc=a@example.com;b@example.com&reply=help@example.com&name=CI%20Bot"
        ))
        .unwrap();
        assert_eq!(
            s,
            vec![
                ("api_key".into(), KEY.into()),
                ("from".into(), "CI Bot <noreply@example.com>".into()),
                ("to".into(), "ops@example.com,dev@example.com".into()),
                ("cc".into(), "a@example.com,b@example.com".into()),
                ("reply_to".into(), "help@example.com".into()),
            ]
        );
        // The `?from=` form: the host is a recipient.
        let f = Resend::parse_url(&format!(
            "resend://{KEY}@ops%40example.com?from=noreply@example.com"
        ))
        .unwrap();
        assert_eq!(
            f,
            vec![
                ("api_key".into(), KEY.into()),
                ("from".into(), "noreply@example.com".into()),
                ("to".into(), "ops@example.com".into()),
            ]
        );
        assert!(Resend::parse_url("resend://example.com").is_err());
        assert!(
            Resend::parse_url(&format!(
                "resend://{KEY}:noreply@example.com/not-an-address"
            ))
            .is_err()
        );
    }

    fn harness() -> Harness {
        Harness::new::<Resend>()
            .setting("api_key", KEY)
            .setting("from", "CI <noreply@example.com>")
    }

    fn sent() -> Reply {
        Reply::json(200, json!({"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}))
    }

    /// The documented request: Bearer key (only on the wire), the same
    /// idempotency key on every attempt, plain text as `text`.
    #[test]
    fn posts_the_documented_email() {
        let h = harness()
            .setting("to", "ops@example.com; dev@example.com")
            .setting("bcc", "audit@example.com")
            .reply(Reply::text(502, "bad gateway"))
            .reply(sent());
        let mut msg = message("Backup", "done");
        msg.link = Some("https://ci.example.com/7".into());
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("49a3999c-0ce1-4ea6-ab68-afcd6dc2e794")
        );
        let reqs = h.requests();
        assert_eq!(reqs[0].url, "https://api.resend.com/emails");
        assert_eq!(reqs[0].method, "POST");
        assert_ne!(
            reqs[0].header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        let key = reqs[0].header("idempotency-key").unwrap();
        assert!(key.starts_with("mcp-push/") && key.len() <= 256);
        assert_eq!(reqs[1].header("idempotency-key"), Some(key));
        assert_eq!(
            reqs[0].json(),
            json!({
                "from": "CI <noreply@example.com>",
                "to": ["ops@example.com", "dev@example.com"],
                "subject": "Backup",
                "text": "done\n\nhttps://ci.example.com/7",
                "bcc": ["audit@example.com"],
            })
        );
    }

    #[test]
    fn html_goes_as_html_and_no_recipient_means_the_sender() {
        let h = harness().reply(sent());
        let mut msg = message("Report", "<b>3</b> failures");
        msg.format = Format::Html;
        msg.link = Some("https://ci.example.com/?a=1&b=2".into());
        h.send(&msg).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["to"], json!(["noreply@example.com"]));
        assert_eq!(
            b["html"],
            "<b>3</b> failures<p><a href=\"https://ci.example.com/?a=1&amp;b=2\">https://ci.example.com/?a=1&amp;b=2</a></p>"
        );
        assert!(b.get("text").is_none());
    }

    #[test]
    fn more_than_fifty_recipients_is_a_configuration_error() {
        let many: Vec<String> = (0..51).map(|i| format!("u{i}@example.com")).collect();
        let h = harness().setting("to", &many.join(",")).reply(sent());
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("at most 50")
        ));
    }

    fn error(status: u16, name: &str, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"statusCode": status, "message": text, "name": name}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, name, text) in [
            (400, "validation_error", "Invalid `to` field."),
            (
                401,
                "missing_api_key",
                "Missing API key in the authorization header.",
            ),
            (
                401,
                "restricted_api_key",
                "This API key is restricted to only send emails.",
            ),
            (403, "invalid_api_key", "API key is invalid."),
            (
                403,
                "validation_error",
                "You can only send testing emails to your own email address (you@example.com).",
            ),
            (404, "not_found", "The requested endpoint does not exist."),
            (
                409,
                "invalid_idempotent_request",
                "Same idempotency key used with a different request payload.",
            ),
            (
                422,
                "missing_required_field",
                "The request body is missing one or more required fields.",
            ),
        ] {
            assert_eq!(
                outcome(error(status, name, text)),
                SendError::Rejected(format!("HTTP {status}: {text}")),
                "{name}"
            );
        }
        assert!(matches!(
            outcome(error(409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress.")),
            SendError::Unavailable(m) if m.contains("still in progress")
        ));
        assert_eq!(
            outcome(
                error(429, "rate_limit_exceeded", "Too many requests.").header("retry-after", "1")
            ),
            SendError::RateLimited(Some(1))
        );
        assert_eq!(
            outcome(error(
                429,
                "daily_quota_exceeded",
                "You have reached your daily email sending quota."
            )),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(error(500, "application_error", "An unexpected error occurred.")),
            SendError::Unavailable(m) if m == "HTTP 500: An unexpected error occurred."
        ));
    }
}
