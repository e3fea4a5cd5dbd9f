//! Amazon SES e-mail (`SES_ACCESS_KEY_ID`, `SES_SECRET_ACCESS_KEY`,
//! `SES_REGION`, `SES_FROM`, `SES_TO`; Apprise's
//! `ses://FROM/ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION[/TO…]`).
//!
//! Sources: the SES API v2 reference, SendEmail (POST
//! `https://email.{region}.amazonaws.com/v2/email/outbound-emails`, JSON
//! `{FromEmailAddress, Destination: {ToAddresses, CcAddresses,
//! BccAddresses}, ReplyToAddresses, Content: {Simple: {Subject: {Data,
//! Charset}, Body: {Text | Html: {Data, Charset}}}}}`; the reply `{MessageId}`;
//! its errors `MessageRejected`, `MailFromDomainNotVerifiedException`,
//! `AccountSuspendedException`, `SendingPausedException`,
//! `BadRequestException`, `NotFoundException`, `LimitExceededException`
//! (400/404) and `TooManyRequestsException` (429)); AWS's common errors
//! (`AccessDeniedException`, `IncompleteSignature`, `InvalidClientTokenId`,
//! `SignatureDoesNotMatch` need the user, `ThrottlingException` waits,
//! `InternalFailure` and `ServiceUnavailable` are AWS's); SES's quotas
//! page (at most 50 recipients a message across To, Cc and Bcc); the
//! request signed with Signature Version 4, service `ses`, by the SDK's
//! `aws` module, the secret access key never in the component; Apprise's
//! `ses.py` for the URL (the sender in the authority, the secret running
//! up to the path segment that looks like a region, the recipients after
//! it; `?to=`, `?from=`, `?name=`, `?cc=`, `?bcc=`, `?reply=`, `?access=`,
//! `?secret=`, `?region=`; no recipient: the sender).
//!
//! Where the sources differ: Apprise sends SES v1's `SendRawEmail` (Query
//! API, a MIME message it builds), one request per recipient; this
//! channel sends v2's `SendEmail` with a Simple message, SES building the
//! MIME, every recipient in one request (more than 50 is a configuration
//! error). The `SES_*` names are mcp-push's own: AWS's SDKs read
//! `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, but a channel turns
//! itself on when any of its names is set, and those are set for every
//! AWS user, whether they mean to e-mail or not.

use mcp_push_sdk::aws;
use mcp_push_sdk::mail;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::Value;
use mcp_push_sdk::text::escape_html;

struct Ses;

/// Across To, Cc and Bcc (SES's quotas page).
const MAX_RECIPIENTS: usize = 50;

const PATH: &str = "/v2/email/outbound-emails";

impl Channel for Ses {
    fn info() -> ChannelInfo {
        let info = ChannelInfo::new(
            "ses",
            "Amazon SES",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail through Amazon SES's v2 SendEmail API",
        )
        .formats(&["text", "html"]);
        let info = aws::key_settings(info, "SES", "ses:SendEmail")
            .setting(
                Setting::new("from", "A verified sender: addr or \"Name <addr>\"")
                    .env(&["SES_FROM"])
                    .required(),
            )
            .setting(
                Setting::new(
                    "to",
                    "Recipients, `,` or `;`-separated (default: the sender)",
                )
                .env(&["SES_TO"]),
            )
            .setting(Setting::new("cc", "Cc recipients, `,` or `;`-separated").env(&["SES_CC"]))
            .setting(Setting::new("bcc", "Bcc recipients, `,` or `;`-separated").env(&["SES_BCC"]))
            .setting(
                Setting::new("reply_to", "Reply-to addresses, `,` or `;`-separated")
                    .env(&["SES_REPLY_TO"]),
            );
        aws::endpoint_settings(info, "SES").schemes(&["ses"])
    }

    /// `ses://USER@DOMAIN/ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION[/TO…]`
    /// with `?to=`, `?from=`, `?name=`, `?cc=`, `?bcc=`, `?reply=`,
    /// `?access=`, `?secret=`, `?region=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        const FORM: &str = "ses://USER@DOMAIN/ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION";
        let u = OneLine::parse(url, &["ses"])?;
        let access = u
            .param("access")
            .map(String::from)
            .or(u.path.first().cloned());
        // The path after the key: the secret, the region, the recipients.
        let (secret, region, mut to) =
            aws::path_keys(&u, u.path.get(1..).unwrap_or_default(), |s| s.contains('@'));
        let from = match (u.param("from"), &u.user) {
            (Some(from), _) => from.to_string(),
            (None, Some(user)) if !u.host.is_empty() => format!("{user}@{}", u.host),
            _ => return Err(format!("ses:// needs the sender: {FORM}")),
        };
        let from = match u.param("name") {
            Some(name) => format!("{name} <{from}>"),
            None => from,
        };
        let (Some(access), Some(secret), Some(region)) = (access, secret, region) else {
            return Err(format!(
                "ses:// needs the access key ID, the secret access key and the region: {FORM}"
            ));
        };
        if let Some(more) = u.param("to") {
            to.extend(
                more.split([',', ';', ' '])
                    .filter(|a| !a.is_empty())
                    .map(String::from),
            );
        }
        let list = |key: &str| {
            u.param(key).map(|v| {
                v.split([',', ';', ' '])
                    .filter(|a| !a.is_empty())
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        let pairs = Pairs::new()
            .set("access_key_id", access)
            .set("secret_access_key", secret)
            .set("region", region)
            .set("from", from)
            .maybe("to", (!to.is_empty()).then(|| to.join(",")))
            .maybe("cc", list("cc"))
            .maybe("bcc", list("bcc"))
            .maybe("reply_to", list("reply"))
            .done()?;
        recipients(&Settings::from(pairs.clone())).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let (creds, base) = aws::endpoint(settings, "ses", "email")?;
        let (from, destination) = recipients(settings)?;
        let data = |text: String| json!({ "Data": text, "Charset": "UTF-8" });
        let body = if msg.is_html() {
            let mut html = msg.body_html();
            if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
                let link = escape_html(link);
                html.push_str(&format!("<p><a href=\"{link}\">{link}</a></p>"));
            }
            json!({ "Html": data(html) })
        } else {
            json!({ "Text": data(msg.body_with_link()) })
        };
        let mut email = json!({
            "FromEmailAddress": from,
            "Destination": destination,
            "Content": { "Simple": { "Subject": data(mail::subject(msg, 200)), "Body": body } },
        });
        let reply_to = settings.list("reply_to", &[',', ';']);
        if !reply_to.is_empty() {
            email["ReplyToAddresses"] = json!(reply_to);
        }
        let payload = mcp_push_sdk::serde_json::to_vec(&email).unwrap_or_default();
        let reply = aws::post(&creds, &base, PATH, "application/json", payload)?;
        // Success is a 2xx with the accepted message's `MessageId`; a
        // failure names its kind in `X-Amzn-ErrorType`.
        if !reply.is_success() {
            return Err(aws::json_error(&reply));
        }
        let value = reply.json()?;
        match id_at(&value, "MessageId") {
            Some(id) => Ok(Receipt::maybe(Some(id))),
            None => Err(SendError::Unavailable(format!(
                "HTTP {}: expected MessageId, got {}",
                reply.status,
                reply.snippet()
            ))),
        }
    }
}

/// The sender and the `Destination` object: `to` (the sender when empty),
/// `cc`, `bcc`, at most [`MAX_RECIPIENTS`] in all, each an address.
fn recipients(settings: &Settings) -> Result<(String, Value), SendError> {
    let (from, to) = mail::sender_and_recipients(settings, MAX_RECIPIENTS)?;
    let cc = settings.list("cc", &[',', ';']);
    let bcc = settings.list("bcc", &[',', ';']);
    let total = to.len() + cc.len() + bcc.len();
    if total > MAX_RECIPIENTS {
        return Err(SendError::Config(format!(
            "SES takes at most {MAX_RECIPIENTS} recipients a message across to, cc and bcc, not {total}"
        )));
    }
    if let Some(bad) = cc
        .iter()
        .chain(&bcc)
        .find(|a| !mail::address_of(a).contains('@'))
    {
        return Err(SendError::Config(format!(
            "{bad:?} is not an e-mail address"
        )));
    }
    let mut destination = json!({ "ToAddresses": to });
    if !cc.is_empty() {
        destination["CcAddresses"] = json!(cc);
    }
    if !bcc.is_empty() {
        destination["BccAddresses"] = json!(bcc);
    }
    Ok((from, destination))
}

export_channel!(Ses);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Ses>();
    }

    #[test]
    fn parses_apprise_ses_urls() {
        assert_eq!(
            Ses::parse_url(&format!("ses://ci@example.com/{ID}/{SECRET}/us-east-2")).unwrap(),
            vec![
                ("access_key_id".into(), ID.into()),
                ("secret_access_key".into(), SECRET.into()),
                ("region".into(), "us-east-2".into()),
                ("from".into(), "ci@example.com".into()),
            ]
        );
        assert_eq!(
            Ses::parse_url(&format!(
                "ses://ci@example.com/{ID}/{SECRET}/EU-West-1/ops@example.com/dev@example.com?name=CI%20Bot&cc=a@example.com;b@example.com&reply=help@example.com"
            ))
            .unwrap(),
            vec![
                ("access_key_id".into(), ID.into()),
                ("secret_access_key".into(), SECRET.into()),
                ("region".into(), "eu-west-1".into()),
                ("from".into(), "CI Bot <ci@example.com>".into()),
                ("to".into(), "ops@example.com,dev@example.com".into()),
                ("cc".into(), "a@example.com,b@example.com".into()),
                ("reply_to".into(), "help@example.com".into()),
            ]
        );
        // Everything as parameters.
        assert_eq!(
            Ses::parse_url(&format!(
                "ses://ci@example.com/?access={ID}&secret=abc&region=us-gov-west-1&to=ops@example.com"
            ))
            .unwrap()[..3],
            [
                ("access_key_id".into(), ID.into()),
                ("secret_access_key".into(), "abc".into()),
                ("region".into(), "us-gov-west-1".into()),
            ]
        );
        assert!(Ses::parse_url(&format!("ses://ci@example.com/{ID}/{SECRET}")).is_err());
        assert!(Ses::parse_url(&format!("ses://example.com/{ID}/{SECRET}/us-east-1")).is_err());
        assert!(
            Ses::parse_url(&format!(
                "ses://ci@example.com/{ID}/{SECRET}/us-east-1/nobody"
            ))
            .is_err()
        );
    }

    fn harness() -> Harness {
        Harness::new::<Ses>()
            .setting("access_key_id", ID)
            .setting("secret_access_key", SECRET)
            .setting("region", "eu-west-1")
            .setting("from", "CI <ci@example.com>")
    }

    fn sent() -> Reply {
        Reply::json(
            200,
            json!({"MessageId": "0102017d87656ee2-a2ea291f-79ea-44f3-9d25-00d041de3077-000000"}),
        )
    }

    /// The documented request, signed over the bytes on the wire with the
    /// secret only the host saw.
    #[test]
    fn posts_a_signed_sendemail() {
        let h = harness()
            .setting("to", "ops@example.com; dev@example.com")
            .setting("bcc", "audit@example.com")
            .setting("reply_to", "help@example.com")
            .reply(sent());
        let mut msg = message("Backup", "done");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("0102017d87656ee2-a2ea291f-79ea-44f3-9d25-00d041de3077-000000")
        );
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails"
        );
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.json(),
            json!({
                "FromEmailAddress": "CI <ci@example.com>",
                "Destination": {"ToAddresses": ["ops@example.com", "dev@example.com"],
                                "BccAddresses": ["audit@example.com"]},
                "ReplyToAddresses": ["help@example.com"],
                "Content": {"Simple": {
                    "Subject": {"Data": "Backup", "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": "done\n\nhttps://ci.example.com/7", "Charset": "UTF-8"}}}},
            })
        );
        let wire = &h.on_the_wire()[0];
        let date = req.header("x-amz-date").unwrap();
        let auth = wire.header("authorization").unwrap();
        assert_eq!(
            auth,
            aws::authorization(
                &aws::Credentials {
                    access_key_id: ID,
                    secret_access_key: SECRET,
                    region: "eu-west-1",
                    service: "ses",
                },
                &aws::Signed {
                    method: "POST",
                    host: "email.eu-west-1.amazonaws.com",
                    path: PATH,
                    query: "",
                    content_type: "application/json",
                    payload: &wire.body,
                },
                date,
            )
        );
        assert!(auth.contains(&format!(
            "Credential={ID}/{}/eu-west-1/ses/aws4_request",
            &date[..8]
        )));
        assert!(!format!("{:?}", h.requests()).contains(SECRET));
        assert!(!format!("{:?}", h.requests()).contains(ID));
    }

    #[test]
    fn html_and_the_recipient_limit() {
        let h = harness().reply(sent());
        let mut msg = message("Report", "<b>3</b> failures");
        msg.format = Format::Html;
        h.send(&msg).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["Destination"], json!({"ToAddresses": ["ci@example.com"]}));
        assert_eq!(
            b["Content"]["Simple"]["Body"],
            json!({"Html": {"Data": "<b>3</b> failures", "Charset": "UTF-8"}})
        );
        let many: Vec<String> = (0..40).map(|i| format!("u{i}@example.com")).collect();
        let h = harness()
            .setting("to", &many.join(","))
            .setting("cc", &many[..11].join(","));
        assert!(matches!(h.send(&msg), Err(SendError::Config(_))));
        assert!(h.requests().is_empty());
        let h = harness().setting("region", "moon");
        assert!(matches!(h.send(&msg), Err(SendError::Config(_))));
    }

    fn error(status: u16, kind: &str, text: &str) -> Reply {
        Reply::json(status, json!({ "message": text })).header(
            "x-amzn-ErrorType",
            &format!("{kind}:http://internal.amazon.com/coral/com.amazonaws.sesv2/"),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, kind, text) in [
            (400, "MessageRejected", "Email address is not verified."),
            (
                400,
                "MailFromDomainNotVerifiedException",
                "MAIL FROM domain not verified",
            ),
            (400, "AccountSuspendedException", "account suspended"),
            (400, "SendingPausedException", "sending paused"),
            (400, "BadRequestException", "Missing final '@domain'"),
            (404, "NotFoundException", "Configuration set does not exist"),
            (
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match",
            ),
            (
                403,
                "AccessDeniedException",
                "not authorized to perform: ses:SendEmail",
            ),
            (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        ] {
            assert_eq!(
                outcome(error(status, kind, text)),
                SendError::Rejected(format!("{kind}: {text}")),
                "{kind}"
            );
        }
        assert_eq!(
            outcome(
                error(429, "TooManyRequestsException", "Too many requests")
                    .header("retry-after", "2")
            ),
            SendError::RateLimited(Some(2))
        );
        assert_eq!(
            outcome(error(400, "ThrottlingException", "Rate exceeded")),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(error(500, "InternalFailure", "internal")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::text(503, "")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::json(200, json!({}))),
            SendError::Unavailable(_)
        ));
    }
}
