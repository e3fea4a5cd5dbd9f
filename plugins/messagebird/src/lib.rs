//! MessageBird (now Bird) SMS (`MESSAGEBIRD_ACCESS_KEY`, `MESSAGEBIRD_FROM`,
//! `MESSAGEBIRD_TO`; Apprise's `msgbird://`).
//!
//! Sources: MessageBird's SMS API reference (POST
//! `https://rest.messagebird.com/messages`, `Authorization: AccessKey
//! {accessKey}`, `Accept: application/json`; a message `{recipients,
//! originator, body, datacoding?}` with at most 50 `recipients` in
//! international format, an `originator` that is a number with its country
//! code or up to 11 letters and digits, a `body` of at most 1,377
//! characters, `datacoding` `plain`, `unicode` or `auto`; 201 Created with
//! the message's `id` and its `recipients`; 429 Too Many Requests, "safely
//! assume that the request has not been processed"; 5xx "safe to retry";
//! 4xx a JSON body `{errors: [{code, description, parameter}]}`); its
//! error codes (2 "Request not allowed (incorrect access_key)", 9 "no
//! (correct) recipients found", 10 invalid parameters, 20 not found, 25
//! "Not enough balance", 98, 99 internal error: written from memory of the
//! reference's table); Apprise's `messagebird.py`
//! (`msgbird://ACCESS_KEY/FROM[/TO...]`, `?from=`, `?to=`; the sender
//! texted when no one is named). The `MESSAGEBIRD_*` names are mcp-push's
//! own.
//!
//! Where the sources differ: Apprise posts a form per recipient; the API
//! takes up to 50 recipients a message, so they go 50 at a time (a retry
//! resumes after the batches sent). Apprise never sets `datacoding`, so a
//! text outside GSM-7 goes as `plain` (the default) and arrives garbled;
//! here it goes as `unicode`. Apprise cuts at 160 characters; here at the
//! reference's 1,377.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::sms::{self, Budget, Encoding};

struct MessageBird;

const OFFICIAL: &str = "https://rest.messagebird.com";

/// `body`: at most 1,377 characters.
const BUDGET: Budget = Budget::chars(1377);

/// `recipients`: at most 50 a message.
const RECIPIENTS: usize = 50;

impl Channel for MessageBird {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "messagebird",
            "MessageBird",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS through MessageBird's (Bird's) SMS API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("access_key", "A live access key")
                .env(&["MESSAGEBIRD_ACCESS_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "The originator: a number (E.164) or up to 11 letters and digits",
            )
            .env(&["MESSAGEBIRD_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients in E.164, separated by `,` or `;`; default: the sender's number",
            )
            .env(&["MESSAGEBIRD_TO"]),
        )
        .setting(Setting::api_url("MESSAGEBIRD_API_URL", OFFICIAL))
        .allow_host("rest.messagebird.com")
        .allow_host("setting:api_url")
        .schemes(&["msgbird"])
    }

    /// `msgbird://ACCESS_KEY/FROM[/TO...][?from=&to=]`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["msgbird"])?;
        let form = "msgbird://ACCESS_KEY/FROM[/TO...]";
        if u.host.is_empty() {
            return Err(format!("msgbird:// needs the access key: {form}"));
        }
        let mut path = u.path.clone();
        let from = match u.param("from") {
            Some(from) => Some(from.to_string()),
            None if !path.is_empty() => Some(path.remove(0)),
            None => None,
        };
        let Some(from) = from else {
            return Err(format!("msgbird:// needs the originator: {form}"));
        };
        path.extend(u.to_param());
        Pairs::new()
            .set("access_key", u.host.clone())
            .set("from", from)
            .maybe("to", (!path.is_empty()).then(|| path.join(",")))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let key = settings.require("access_key")?;
        let from = sms::sender(settings, "from")?;
        let to = sms::recipients(settings, &from)?;
        let url = format!("{}/messages", settings.base_url("api_url", OFFICIAL)?);
        let body = sms::text(msg, BUDGET);
        let datacoding = match Encoding::of(&body) {
            Encoding::Gsm7 => "plain",
            Encoding::Ucs2 => "unicode",
        };
        let batches: Vec<Vec<&str>> = to
            .chunks(RECIPIENTS)
            .map(|c| c.iter().map(|p| p.digits()).collect())
            .collect();
        let mut first = None;
        delivery::send_parts(&batches, 0, |recipients| {
            let reply = Request::post(&url)
                .header("Authorization", &format!("AccessKey {key}"))
                .header("Accept", "application/json")
                .json(&json!({
                    "recipients": recipients,
                    "originator": from.digits(),
                    "body": body,
                    "datacoding": datacoding,
                }))
                .send()?;
            // Success is 201 with the message's `id`; a refusal names its
            // code and says why in `errors[0].description`.
            if !reply.is_success() {
                return Err(refusal_of(&reply));
            }
            let sent = reply.json()?;
            match id_at(&sent, "id") {
                Some(id) => {
                    first = first.take().or(Some(id));
                    Ok(())
                }
                None => Err(SendError::Unavailable(format!(
                    "HTTP {}: expected the message's id, got {}",
                    reply.status,
                    reply.snippet()
                ))),
            }
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// The status's usual meaning (429 waits, 5xx retried, 4xx refused), said
/// with MessageBird's own code and description.
fn refusal_of(reply: &Response) -> SendError {
    let said = reply.json().ok().and_then(|v| {
        let description = id_at(&v, "errors.0.description")?;
        Some(match id_at(&v, "errors.0.code") {
            Some(code) => format!("{description} (code {code})"),
            None => description,
        })
    });
    let why = format!(
        "HTTP {}: {}",
        reply.status,
        said.unwrap_or_else(|| reply.snippet())
    );
    match reply.status_error() {
        SendError::Rejected(_) => SendError::Rejected(why),
        SendError::Unavailable(_) => SendError::Unavailable(why),
        other => other,
    }
}

export_channel!(MessageBird);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "vH1AN9ZeUnvoLbEaFq2hWe8J7";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<MessageBird>();
    }

    #[test]
    fn parses_apprise_msgbird_urls() {
        assert_eq!(
            MessageBird::parse_url(&format!(
                "msgbird://{KEY}/15550100100/15550100123/447700900000"
            ))
            .unwrap(),
            pairs(&[
                ("access_key", KEY),
                ("from", "15550100100"),
                ("to", "15550100123,447700900000"),
            ])
        );
        assert_eq!(
            MessageBird::parse_url(&format!("msgbird://{KEY}?from=AcmeCI&to=15550100123")).unwrap(),
            pairs(&[
                ("access_key", KEY),
                ("from", "AcmeCI"),
                ("to", "15550100123")
            ])
        );
        assert!(MessageBird::parse_url(&format!("msgbird://{KEY}")).is_err());
        assert!(MessageBird::parse_url("msgbird:///15550100100").is_err());
    }

    fn created(id: &str, n: usize) -> Reply {
        Reply::json(
            201,
            json!({"id": id, "href": format!("https://rest.messagebird.com/messages/{id}"),
                   "direction": "mt", "type": "sms", "originator": "15550100100", "body": "B",
                   "datacoding": "plain",
                   "recipients": {"totalCount": n, "totalSentCount": n,
                                  "totalDeliveredCount": 0, "totalDeliveryFailedCount": 0,
                                  "items": [{"recipient": 15550100123u64, "status": "sent",
                                             "messagePartCount": 1}]}}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<MessageBird>()
            .setting("access_key", KEY)
            .setting("from", "+1 555 010 0100")
    }

    /// The documented request: JSON to `/messages` with `AccessKey` (only on
    /// the wire), the numbers in international format without `+`; 201 with
    /// the message's id is success.
    #[test]
    fn posts_the_documented_json() {
        let h = harness()
            .setting("to", "+1 555 010 0123; +44 7700 900000")
            .reply(created("b5d424244a5b4fd0b5b5728bccaafc23", 2));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("b5d424244a5b4fd0b5b5728bccaafc23")
        );
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://rest.messagebird.com/messages");
        assert_eq!(
            req.json(),
            json!({"recipients": ["15550100123", "447700900000"], "originator": "15550100100",
                   "body": "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7", "datacoding": "plain"})
        );
        assert_eq!(req.header("accept"), Some("application/json"));
        assert!(!req.header("authorization").unwrap().contains(KEY));
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("AccessKey {KEY}").as_str())
        );
        // Unicode text, an alphanumeric originator, the sender itself.
        let h = harness()
            .setting("from", "AcmeCI")
            .setting("to", "+8613800138000")
            .reply(created("m1", 1));
        h.send(&message("部署", "完成")).unwrap();
        let body = h.requests()[0].json();
        assert_eq!(body["datacoding"], "unicode");
        assert_eq!(body["originator"], "AcmeCI");
        let h = harness().reply(created("m1", 1));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(h.requests()[0].json()["recipients"], json!(["15550100100"]));
        let h = harness().setting("from", "AcmeCI");
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
    }

    /// 50 recipients a message: 120 go in three, and a retry resumes after
    /// the ones sent.
    #[test]
    fn fifty_recipients_a_message() {
        let to: Vec<String> = (0..120).map(|i| format!("+1555020{i:04}")).collect();
        let h = harness()
            .setting("to", &to.join(","))
            .reply(created("m1", 50))
            .reply(Reply::text(503, ""))
            .reply(created("m2", 50))
            .reply(created("m3", 20));
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Unavailable(_))
        ));
        h.send(&message("T", "B")).unwrap();
        let sizes: Vec<usize> = h
            .requests()
            .iter()
            .map(|r| r.json()["recipients"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, vec![50, 50, 50, 20]);
        assert_eq!(h.requests()[1].json(), h.requests()[2].json());
    }

    #[test]
    fn cuts_the_body_at_1377_characters() {
        let h = harness().reply(created("m1", 1)).reply(created("m2", 1));
        h.send(&message("", &"word ".repeat(400))).unwrap();
        let body = h.requests()[0].json()["body"].as_str().unwrap().to_string();
        assert_eq!(body.chars().count(), 1377);
        assert!(body.ends_with("..."));
        h.send(&message("", &"完成".repeat(800))).unwrap();
        let body = h.requests()[1].json()["body"].as_str().unwrap().to_string();
        assert_eq!(body.chars().count(), 1377);
        assert!(body.ends_with('…'));
    }

    fn error(status: u16, code: u32, description: &str, parameter: Option<&str>) -> Reply {
        Reply::json(
            status,
            json!({"errors": [{"code": code, "description": description, "parameter": parameter}]}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, code, text, parameter) in [
            (
                401,
                2,
                "Request not allowed (incorrect access_key)",
                Some("access_key"),
            ),
            (422, 9, "no (correct) recipients found", Some("recipients")),
            (422, 10, "originator is invalid", Some("originator")),
            (402, 25, "Not enough balance", None),
            (404, 20, "message not found", None),
        ] {
            assert_eq!(
                outcome(error(status, code, text, parameter)),
                SendError::Rejected(format!("HTTP {status}: {text} (code {code})"))
            );
        }
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "1")),
            SendError::RateLimited(Some(1))
        );
        assert_eq!(
            outcome(error(500, 99, "internal error", None)),
            SendError::Unavailable("HTTP 500: internal error (code 99)".into())
        );
        assert!(matches!(
            outcome(Reply::json(201, json!({"recipients": {}}))),
            SendError::Unavailable(_)
        ));
    }
}
