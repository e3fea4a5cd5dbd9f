//! Amazon SNS (`SNS_ACCESS_KEY_ID`, `SNS_SECRET_ACCESS_KEY`, `SNS_REGION`,
//! `SNS_TO`; Apprise's `sns://ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION/TARGET…`).
//!
//! Sources: the SNS API reference, Publish (the Query API: POST
//! `https://sns.{region}.amazonaws.com/`, a urlencoded form `Action=Publish`,
//! `Version=2010-03-31`, `TopicArn` or `PhoneNumber` (E.164), `Message` (at
//! most 256 KB), `Subject` (e-mail subscriptions only: ASCII, no line
//! breaks, under 100 characters); the reply `<PublishResponse><PublishResult>
//! <MessageId>`); CreateTopic (idempotent: the existing topic's
//! `<TopicArn>`); its errors `AuthorizationError` (403), `InvalidParameter`
//! and `InvalidParameterValue` (400), `NotFound` (404), `EndpointDisabled`,
//! `KMSThrottling`, `InternalError` (500) and `Throttled` (429), each as
//! `<ErrorResponse><Error><Type/><Code/><Message/></Error>`; AWS's common
//! errors (`InvalidClientTokenId`, `SignatureDoesNotMatch`, `Throttling`,
//! `ServiceUnavailable`); its SMS page (140 bytes a message, longer texts
//! sent as several, 1,600 bytes at most a Publish); the request signed with
//! Signature Version 4, service `sns`, by the SDK's `aws` module, the
//! secret never in the component; Apprise's `sns.py` for the URL (the secret
//! running up to the segment that looks like a region, then targets: phone
//! numbers, and `#name` topics it creates with CreateTopic to learn their
//! ARN; `?to=`, `?access=`, `?secret=`, `?region=`).
//!
//! Where they differ: Apprise cuts every message at 160 characters and
//! drops the title; here a phone gets title and body folded, cut at SNS's
//! 1,600 bytes, and a topic the body up to 256 KB with the title as
//! `Subject` when SNS takes it (ASCII, one line, under 100 characters),
//! folded into the message otherwise. A topic may also be given by its ARN
//! (`arn:aws:sns:…`), published to without CreateTopic (which needs
//! `sns:CreateTopic` besides `sns:Publish`). The `SNS_*` names are
//! mcp-push's own, for the reason the SES channel gives (AWS's own names
//! are set for every AWS user and would turn the channel on).

use mcp_push_sdk::aws;
use mcp_push_sdk::encode::form_encode;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::sms::Phone;

struct Sns;

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// A topic's message: 256 KB.
const TOPIC_BYTES: usize = 262_144;
/// All the SMS parts of one Publish to a phone.
const SMS_BYTES: usize = 1_600;

/// Where one Publish goes.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Phone(String),
    /// A topic by its ARN.
    Arn(String),
    /// A topic by its name (`#name`): CreateTopic gives its ARN.
    Name(String),
}

impl Channel for Sns {
    fn info() -> ChannelInfo {
        let info = ChannelInfo::new(
            "sns",
            "Amazon SNS",
            env!("CARGO_PKG_VERSION"),
            "Publishes to Amazon SNS topics or sends SMS through SNS",
        )
        .formats(&["text"]);
        let info = aws::key_settings(info, "SNS", "sns:Publish; sns:CreateTopic for #name topics")
            .setting(
            Setting::new(
                "to",
                "Targets, `,` or `;`-separated: topic ARNs, #topic names, phone numbers in E.164",
            )
            .env(&["SNS_TO"])
            .required(),
        );
        aws::endpoint_settings(info, "SNS").schemes(&["sns"])
    }

    /// `sns://ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION/TARGET[/TARGET…]` with
    /// `?to=`, `?access=`, `?secret=`, `?region=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        const SHAPE: &str = "sns://ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION/TARGET";
        let u = OneLine::parse(url, &["sns"])?;
        // The access key ID is the host; the path holds the secret (which
        // may have `/` in it) up to the region, then the targets.
        let access = u
            .param("access")
            .map(String::from)
            .or_else(|| (!u.host.is_empty()).then(|| u.host.clone()));
        let (secret, region, mut to) = aws::path_keys(&u, &u.path, |_| false);
        if let Some(more) = u.param("to") {
            to.extend(
                more.split([',', ';'])
                    .filter(|t| !t.trim().is_empty())
                    .map(String::from),
            );
        }
        let (Some(access), Some(secret), Some(region)) = (access, secret, region) else {
            return Err(format!(
                "sns:// needs the access key ID, the secret access key and the region: {SHAPE}"
            ));
        };
        let pairs = Pairs::new()
            .set("access_key_id", access)
            .set("secret_access_key", secret)
            .set("region", region)
            .set("to", to.join(","))
            .done()?;
        targets(&Settings::from(pairs.clone())).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let targets = targets(settings)?;
        let (creds, base) = aws::endpoint(settings, "sns", "sns")?;
        let call = |params: &[(&str, &str)], result: &str| -> Result<String, SendError> {
            let mut form = vec![("Version", "2010-03-31")];
            form.extend_from_slice(params);
            let reply = aws::post(&creds, &base, "/", FORM, form_encode(&form).into_bytes())?;
            // Success is a 200 whose XML names the result; a failure is an
            // `<ErrorResponse>` with its `<Code>`.
            if !reply.is_success() {
                return Err(aws::xml_error(&reply));
            }
            aws::xml_text(&reply.text(), result).ok_or_else(|| {
                SendError::Unavailable(format!(
                    "HTTP {}: expected <{result}>, got {}",
                    reply.status,
                    reply.snippet()
                ))
            })
        };
        let mut first = None;
        delivery::send_parts(&targets, 0, |target| {
            let arn;
            let (key, to) = match target {
                Target::Phone(number) => ("PhoneNumber", number.as_str()),
                Target::Arn(a) => ("TopicArn", a.as_str()),
                Target::Name(name) => {
                    arn = call(&[("Action", "CreateTopic"), ("Name", name)], "TopicArn")?;
                    ("TopicArn", arn.as_str())
                }
            };
            let (subject, message) = content(msg, matches!(target, Target::Phone(_)));
            let mut params = vec![
                ("Action", "Publish"),
                (key, to),
                ("Message", message.as_str()),
            ];
            if let Some(subject) = &subject {
                params.push(("Subject", subject));
            }
            let id = call(&params, "MessageId")?;
            first = first.take().or(Some(id));
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// The targets in `to`: `arn:aws…:sns:…` topics, `#name` topics, phone
/// numbers; at least one.
fn targets(settings: &Settings) -> Result<Vec<Target>, SendError> {
    let mut out = Vec::new();
    for item in settings.list("to", &[',', ';']) {
        let item = item.trim();
        let target = if item.starts_with("arn:") {
            if !item.contains(":sns:") {
                return Err(SendError::Config(format!(
                    "{item:?} is not an SNS topic ARN"
                )));
            }
            Target::Arn(item.to_string())
        } else if let Some(name) = item.strip_prefix('#') {
            // CreateTopic's rule for names: 1 to 256 of A-Z a-z 0-9 - _.
            if name.is_empty()
                || name.len() > 256
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(SendError::Config(format!(
                    "{item:?} is not an SNS topic name"
                )));
            }
            Target::Name(name.to_string())
        } else {
            Target::Phone(Phone::parse(item).map_err(SendError::Config)?.e164())
        };
        out.push(target);
    }
    if out.is_empty() {
        return Err(SendError::Config(
            "setting `to` names no topic or phone number".into(),
        ));
    }
    Ok(out)
}

/// The `Subject` and `Message` of a Publish. A phone gets one text (SMS
/// has no subject) cut at 1,600 bytes; a topic the title as `Subject` when
/// SNS takes it, and the body (with the title when it could not be the
/// subject) cut at 256 KB.
fn content(msg: &Message, phone: bool) -> (Option<String>, String) {
    let title = msg.title.trim();
    let subject_ok = !title.is_empty()
        && title.len() < 100
        && title.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
    if phone || !subject_ok {
        let limit = if phone { SMS_BYTES } else { TOPIC_BYTES };
        return (
            None,
            truncate(&msg.text_with_link(), Limit::Bytes(limit), CUT_MARKER),
        );
    }
    (
        Some(title.to_string()),
        truncate(&msg.body_with_link(), Limit::Bytes(TOPIC_BYTES), CUT_MARKER),
    )
}

export_channel!(Sns);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const ARN: &str = "arn:aws:sns:us-east-1:123456789012:ci-alerts";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Sns>();
    }

    #[test]
    fn parses_apprise_sns_urls() {
        assert_eq!(
            Sns::parse_url(&format!(
                "sns://{ID}/{SECRET}/us-east-1/+1 555 0100 123/%23ci-alerts"
            ))
            .unwrap(),
            vec![
                ("access_key_id".into(), ID.into()),
                ("secret_access_key".into(), SECRET.into()),
                ("region".into(), "us-east-1".into()),
                ("to".into(), "+1 555 0100 123,#ci-alerts".into()),
            ]
        );
        assert_eq!(
            Sns::parse_url(&format!("sns://{ID}/abc/US-West-2?to={ARN}")).unwrap()[2..],
            [
                ("region".into(), "us-west-2".into()),
                ("to".into(), ARN.into()),
            ]
        );
        assert!(Sns::parse_url(&format!("sns://{ID}/{SECRET}/+15550100123")).is_err());
        assert!(Sns::parse_url(&format!("sns://{ID}/{SECRET}/us-east-1")).is_err());
        assert!(Sns::parse_url(&format!("sns://{ID}/{SECRET}/us-east-1/nobody")).is_err());
    }

    fn harness(to: &str) -> Harness {
        Harness::new::<Sns>()
            .setting("access_key_id", ID)
            .setting("secret_access_key", SECRET)
            .setting("region", "us-east-1")
            .setting("to", to)
    }

    fn published(id: &str) -> Reply {
        Reply::text(
            200,
            &format!(
                "<PublishResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\">\n  <PublishResult>\n    <MessageId>{id}</MessageId>\n  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>\n  </ResponseMetadata>\n</PublishResponse>"
            ),
        )
    }

    /// A Publish to a topic ARN and one to a phone, each signed over the
    /// bytes on the wire with the secret only the host saw.
    #[test]
    fn publishes_signed_to_a_topic_and_a_phone() {
        let h = harness(&format!("{ARN}; +1 (555) 0100-123"))
            .reply(published("94f20ce6-13c5-43a0-9a9e-ca52d816e90b"))
            .reply(published("567910cd-659e-55d4-8ccb-5aaf14679dc0"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("94f20ce6-13c5-43a0-9a9e-ca52d816e90b")
        );
        let reqs = h.requests();
        assert_eq!(reqs[0].url, "https://sns.us-east-1.amazonaws.com/");
        assert_eq!(reqs[0].header("content-type"), Some(FORM));
        assert_eq!(
            reqs[0].text(),
            format!(
                "Version=2010-03-31&Action=Publish&TopicArn={}&Message=v2%20is%20live%0A%0Ahttps%3A%2F%2Fci.example.com%2F7&Subject=Deploy",
                url_encode(ARN)
            )
        );
        assert_eq!(
            reqs[1].text(),
            "Version=2010-03-31&Action=Publish&PhoneNumber=%2B15550100123&Message=Deploy%0A%0Av2%20is%20live%0A%0Ahttps%3A%2F%2Fci.example.com%2F7"
        );
        let wire = &h.on_the_wire()[0];
        let date = reqs[0].header("x-amz-date").unwrap();
        assert_eq!(
            wire.header("authorization").unwrap(),
            aws::authorization(
                &aws::Credentials {
                    access_key_id: ID,
                    secret_access_key: SECRET,
                    region: "us-east-1",
                    service: "sns",
                },
                &aws::Signed {
                    method: "POST",
                    host: "sns.us-east-1.amazonaws.com",
                    path: "/",
                    query: "",
                    content_type: FORM,
                    payload: &wire.body,
                },
                date,
            )
        );
        assert!(!format!("{:?}", reqs).contains(SECRET));
        assert!(!format!("{:?}", reqs).contains(ID));
    }

    /// `#name`: CreateTopic first (Apprise's way), then Publish to its ARN.
    #[test]
    fn a_topic_name_is_created_then_published_to() {
        let h = harness("#ci-alerts")
            .reply(Reply::text(
                200,
                &format!("<CreateTopicResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\"><CreateTopicResult><TopicArn>{ARN}</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>a8dec8b3</RequestId></ResponseMetadata></CreateTopicResponse>"),
            ))
            .reply(published("1"));
        h.send(&message("", "done")).unwrap();
        let reqs = h.requests();
        assert_eq!(
            reqs[0].text(),
            "Version=2010-03-31&Action=CreateTopic&Name=ci-alerts"
        );
        assert!(
            reqs[1]
                .text()
                .contains(&format!("TopicArn={}", url_encode(ARN)))
        );
        assert!(!reqs[1].text().contains("Subject"));
    }

    #[test]
    fn sizes_and_subjects() {
        let long = "x".repeat(2_000);
        let (subject, text) = content(&message("T", &long), true);
        assert_eq!(subject, None);
        assert!(text.len() <= SMS_BYTES && text.starts_with("T\n\nxxx"));
        let (subject, text) = content(&message("部署", "done"), false);
        assert_eq!((subject, text.as_str()), (None, "部署\n\ndone"));
        let (subject, text) = content(&message("Deploy", &"y".repeat(300_000)), false);
        assert_eq!(subject.as_deref(), Some("Deploy"));
        assert!(text.len() <= TOPIC_BYTES);
        for to in ["", "#bad name", "arn:aws:sqs:us-east-1:1:q", "12"] {
            let h = harness(to);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{to}"
            );
            assert!(h.requests().is_empty());
        }
    }

    fn error(status: u16, code: &str, text: &str) -> Reply {
        Reply::text(
            status,
            &format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{text}</Message>\n  </Error>\n  <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId>\n</ErrorResponse>"
            ),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness(ARN)
            .reply(reply)
            .send(&message("T", "B"))
            .unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, code, text) in [
            (
                403,
                "AuthorizationError",
                "User is not authorized to perform: SNS:Publish",
            ),
            (
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
            (
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
            (400, "InvalidParameter", "Invalid parameter: TopicArn"),
            (404, "NotFound", "Topic does not exist"),
            (400, "EndpointDisabled", "Endpoint is disabled"),
        ] {
            assert_eq!(
                outcome(error(status, code, text)),
                SendError::Rejected(format!("{code}: {text}")),
                "{code}"
            );
        }
        assert_eq!(
            outcome(error(400, "Throttling", "Rate exceeded")),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(error(429, "Throttled", "Rate exceeded")),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(error(500, "InternalError", "internal")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::text(503, "")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html/>")),
            SendError::Unavailable(_)
        ));
    }
}
