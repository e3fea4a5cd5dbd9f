//! Postmark e-mail (`POSTMARK_SERVER_TOKEN`, `POSTMARK_FROM`, Apprise's
//! `postmark://APIKEY:FROM_USER@FROM_DOMAIN[/TO]`).
//!
//! Sources: Postmark's API reference ("Email API", send a single email: POST
//! `https://api.postmarkapp.com/email` with `X-Postmark-Server-Token` and
//! `Accept: application/json`, JSON `From` ("Full Name <sender@domain.com>"
//! for a name), `To`, `Cc`, `Bcc` (comma-separated, at most 50 each),
//! `Subject`, `HtmlBody` and/or `TextBody`, `ReplyTo`, `MessageStream`; the
//! reply `{To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK"}`) and
//! its overview (HTTP 401 for a wrong or missing token, 422 with
//! `{ErrorCode, Message}`, 429 rate limited, 500 and 503 Postmark's own
//! trouble). Postmark's ErrorCode table (overview#error-codes), as the
//! client libraries quote it: 10 bad or missing API token, 100 maintenance,
//! 300 invalid email request, 400 sender signature not found, 401 sender
//! signature not confirmed, 402 invalid JSON, 403 incompatible JSON, 405 not
//! allowed to send, 406 inactive recipient, 409 JSON required, 412 account
//! pending. Apprise's `postmark.py`: `postmark://APIKEY:FROM_USER@FROM_DOMAIN
//! [/TO…]` with `?to=`, `?cc=`, `?bcc=`, `?reply=`, `?name=`, `?from=`,
//! `?apikey=`; no recipient: the sender. Not in qinglong's notify.py:
//! `POSTMARK_*` are mcp-push's own names.
//!
//! Where they differ: Apprise sends one request per recipient; Postmark takes
//! up to 50 in `To`, so one request carries them all. Apprise posts the body
//! as `HtmlBody` whatever its format; here plain text goes as `TextBody`.
//! Of the codes, only 100 (maintenance) is worth a retry; the others need
//! the account or the configuration changed.

use mcp_push_sdk::mail;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::text::escape_html;

struct Postmark;

const OFFICIAL: &str = "https://api.postmarkapp.com";

/// Postmark's cap on `To`, `Cc` and `Bcc`, each.
const MAX_TO: usize = 50;

impl Channel for Postmark {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "postmark",
            "Postmark",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail through Postmark's API with a server token",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("api_key", "Server API token (the server's API Tokens tab)")
                .env(&["POSTMARK_SERVER_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "Sender with a confirmed signature: addr or \"Name <addr>\"",
            )
            .env(&["POSTMARK_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients, `,` or `;`-separated (default: the sender)",
            )
            .env(&["POSTMARK_TO"]),
        )
        .setting(Setting::new("cc", "Cc recipients, `,` or `;`-separated").env(&["POSTMARK_CC"]))
        .setting(Setting::new("bcc", "Bcc recipients, `,` or `;`-separated").env(&["POSTMARK_BCC"]))
        .setting(
            Setting::new("reply_to", "Reply-to addresses, `,` or `;`-separated")
                .env(&["POSTMARK_REPLY_TO"]),
        )
        .setting(
            Setting::new(
                "message_stream",
                "Message stream (Postmark's default: outbound)",
            )
            .env(&["POSTMARK_MESSAGE_STREAM"]),
        )
        .setting(Setting::api_url("POSTMARK_API_URL", OFFICIAL))
        .allow_host("api.postmarkapp.com")
        .allow_host("setting:api_url")
        .schemes(&["postmark"])
    }

    /// `postmark://APIKEY:FROM_USER@FROM_DOMAIN[/TO…][?to=&cc=&bcc=&reply=&name=]`
    /// (the SDK's reading of Apprise's e-mail API form).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let pairs = OneLine::parse(url, &["postmark"])?.mail_api()?;
        mail::sender_and_recipients(&Settings::from(pairs.clone()), MAX_TO).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let (from, to) = mail::sender_and_recipients(settings, MAX_TO)?;
        let subject = mail::subject(msg, 200);
        let mut email = json!({ "From": from, "To": to.join(","), "Subject": subject });
        if msg.is_html() {
            let mut html = msg.body_html();
            if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
                let link = escape_html(link);
                html.push_str(&format!("<p><a href=\"{link}\">{link}</a></p>"));
            }
            email["HtmlBody"] = json!(html);
        } else {
            email["TextBody"] = json!(msg.body_with_link());
        }
        for (key, field) in [("cc", "Cc"), ("bcc", "Bcc"), ("reply_to", "ReplyTo")] {
            let list = settings.list(key, &[',', ';']);
            if list.len() > MAX_TO && key != "reply_to" {
                return Err(SendError::Config(format!(
                    "at most {MAX_TO} recipients in `{key}`, not {}",
                    list.len()
                )));
            }
            if !list.is_empty() {
                email[field] = json!(list.join(","));
            }
        }
        for (field, value) in settings.fields(&[("message_stream", "MessageStream")]) {
            email[field] = json!(value.trim());
        }
        let value = Request::post(format!("{}/email", settings.base_url("api_url", OFFICIAL)?))
            .header("Accept", "application/json")
            .header("X-Postmark-Server-Token", settings.require("api_key")?)
            .json(&email)
            .send()?
            // `ErrorCode` 0 is success; else `Message` says why. 100 is
            // Postmark's maintenance: worth a retry.
            .check(
                &Check::field("ErrorCode")
                    .eq(0)
                    .message("Message")
                    .unavailable(&[100]),
            )?;
        Ok(Receipt::from_reply(&value, "MessageID"))
    }
}

export_channel!(Postmark);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const TOKEN: &str = "b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Postmark>();
    }

    #[test]
    fn parses_apprise_postmark_urls() {
        assert_eq!(
            Postmark::parse_url(&format!(
                "postmark://{TOKEN}:noreply@example.com/ops@example.com?bcc=audit@example.com&name=CI"
            ))
            .unwrap(),
            vec![
                ("api_key".into(), TOKEN.into()),
                ("from".into(), "CI <noreply@example.com>".into()),
                ("to".into(), "ops@example.com".into()),
                ("bcc".into(), "audit@example.com".into()),
            ]
        );
        assert!(Postmark::parse_url("postmark://example.com").is_err());
        assert!(
            Postmark::parse_url(&format!("postmark://{TOKEN}:noreply@example.com/nobody")).is_err()
        );
    }

    fn harness() -> Harness {
        Harness::new::<Postmark>()
            .setting("api_key", TOKEN)
            .setting("from", "CI <noreply@example.com>")
    }

    fn sent() -> Reply {
        Reply::json(
            200,
            json!({
                "To": "ops@example.com", "SubmittedAt": "2014-02-17T07:25:01.4178645-05:00",
                "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d", "ErrorCode": 0, "Message": "OK",
            }),
        )
    }

    /// The documented request: the server token in its header (only on the
    /// wire), `Accept: application/json`, the recipients comma-separated.
    #[test]
    fn posts_the_documented_email() {
        let h = harness()
            .setting("to", "ops@example.com; dev@example.com")
            .setting("reply_to", "help@example.com")
            .setting("message_stream", "alerts")
            .reply(sent());
        let mut msg = message("Backup", "done");
        msg.link = Some("https://ci.example.com/7".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("0a129aee-e1cd-480d-b08d-4f48548ff48d")
        );
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://api.postmarkapp.com/email");
        assert_eq!(req.header("accept"), Some("application/json"));
        assert_ne!(req.header("x-postmark-server-token"), Some(TOKEN));
        assert_eq!(
            h.on_the_wire()[0].header("x-postmark-server-token"),
            Some(TOKEN)
        );
        assert_eq!(
            req.json(),
            json!({
                "From": "CI <noreply@example.com>",
                "To": "ops@example.com,dev@example.com",
                "Subject": "Backup",
                "TextBody": "done\n\nhttps://ci.example.com/7",
                "ReplyTo": "help@example.com",
                "MessageStream": "alerts",
            })
        );
    }

    #[test]
    fn html_goes_as_html_and_no_recipient_means_the_sender() {
        let h = harness().reply(sent());
        let mut msg = message("", "<b>3</b> failures\nsee CI");
        msg.format = Format::Html;
        h.send(&msg).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["To"], "noreply@example.com");
        assert_eq!(b["Subject"], "3 failures");
        assert_eq!(b["HtmlBody"], "<b>3</b> failures\nsee CI");
        assert!(b.get("TextBody").is_none());
        let many: Vec<String> = (0..51).map(|i| format!("u{i}@example.com")).collect();
        let h = harness().setting("cc", &many.join(",")).reply(sent());
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("`cc`")
        ));
    }

    fn error(status: u16, code: i64, text: &str) -> Reply {
        Reply::json(status, json!({"ErrorCode": code, "Message": text}))
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_code_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(error(
                401,
                10,
                "No Account or Server API tokens were supplied in the HTTP headers."
            )),
            SendError::Rejected(
                "ErrorCode 10: No Account or Server API tokens were supplied in the HTTP headers."
                    .into()
            )
        );
        for (code, text) in [
            (300, "Invalid email request"),
            (400, "Sender signature not found"),
            (401, "Sender signature not confirmed"),
            (402, "Invalid JSON"),
            (403, "Incompatible JSON"),
            (405, "Not allowed to send"),
            (406, "Inactive recipient"),
            (409, "JSON required"),
            (412, "Account is pending"),
        ] {
            assert_eq!(
                outcome(error(422, code, text)),
                SendError::Rejected(format!("ErrorCode {code}: {text}")),
                "{code}"
            );
        }
        assert!(matches!(
            outcome(error(422, 100, "Maintenance")),
            SendError::Unavailable(m) if m == "ErrorCode 100: Maintenance"
        ));
        assert_eq!(
            outcome(Reply::text(429, "Too Many Requests").header("retry-after", "5")),
            SendError::RateLimited(Some(5))
        );
        assert!(matches!(
            outcome(Reply::text(503, "Service Unavailable")),
            SendError::Unavailable(m) if m.contains("503")
        ));
        assert!(matches!(
            outcome(error(500, 0, "Internal Server Error")),
            SendError::Unavailable(_)
        ));
    }
}
