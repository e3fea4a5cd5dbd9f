//! A mock of Amazon SNS's Query API, built from its Publish and CreateTopic
//! references: a POST to `/` of a urlencoded form with `Version=2010-03-31`,
//! signed for service `sns` (checked by `aws_sigv4::verify`); CreateTopic
//! answers `<TopicArn>` (idempotent), Publish `<MessageId>`; failures as
//! `<ErrorResponse><Error><Type/><Code/><Message/></Error>`:
//! `InvalidClientTokenId` (403) for another access key,
//! `SignatureDoesNotMatch` (403) for a signature that does not match,
//! `NotFound` (404) for a topic ARN other than the one it knows,
//! `InvalidParameter` (400) for a number in +1555000…, `Throttling` (400)
//! for a message containing "storm". The words are written from memory of
//! SNS's replies. `Mock::service(mocks::sns::api())` serves it.

#![allow(dead_code)]

use super::aws_sigv4::{self, Refusal};
use crate::support::{Recorded, Reply};

pub const ARN: &str = "arn:aws:sns:us-east-1:123456789012:ci-alerts";

fn error(status: u16, kind: &str, code: &str, message: &str) -> Reply {
    Reply::text(
        status,
        &format!(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId>\n</ErrorResponse>"
        ),
    )
    .header("content-type", "text/xml")
}

fn ok(action: &str, result: &str) -> Reply {
    Reply::text(
        200,
        &format!(
            "<{action}Response xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\">\n  <{action}Result>\n    {result}\n  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>\n  </ResponseMetadata>\n</{action}Response>"
        ),
    )
    .header("content-type", "text/xml")
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" || r.path() != "/" {
            return error(
                404,
                "Sender",
                "UnknownOperationException",
                "Unknown operation",
            );
        }
        match aws_sigv4::verify(r, "sns") {
            Ok(_) => {}
            Err(Refusal::UnknownKey) => {
                return error(
                    403,
                    "Sender",
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                );
            }
            Err(Refusal::BadSignature) => {
                return error(
                    403,
                    "Sender",
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
                );
            }
            Err(Refusal::Missing) => {
                return error(
                    403,
                    "Sender",
                    "MissingAuthenticationToken",
                    "Request is missing Authentication Token",
                );
            }
        }
        if r.form("Version").as_deref() != Some("2010-03-31") {
            return error(
                400,
                "Sender",
                "InvalidAction",
                "Could not find operation for version",
            );
        }
        match r.form("Action").as_deref() {
            Some("CreateTopic") => {
                let name = r.form("Name").unwrap_or_default();
                ok(
                    "CreateTopic",
                    &format!("<TopicArn>arn:aws:sns:us-east-1:123456789012:{name}</TopicArn>"),
                )
            }
            Some("Publish") => {
                let message = r.form("Message").unwrap_or_default();
                if message.is_empty() {
                    return error(
                        400,
                        "Sender",
                        "InvalidParameter",
                        "Invalid parameter: Empty message",
                    );
                }
                if message.contains("storm") {
                    return error(400, "Sender", "Throttling", "Rate exceeded");
                }
                if let Some(arn) = r.form("TopicArn") {
                    if arn != ARN {
                        return error(404, "Sender", "NotFound", "Topic does not exist");
                    }
                } else if let Some(phone) = r.form("PhoneNumber") {
                    if phone.starts_with("+1555000") {
                        return error(
                            400,
                            "Sender",
                            "InvalidParameter",
                            &format!(
                                "Invalid parameter: PhoneNumber Reason: {phone} is not valid to publish to"
                            ),
                        );
                    }
                } else {
                    return error(
                        400,
                        "Sender",
                        "InvalidParameter",
                        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
                    );
                }
                ok(
                    "Publish",
                    "<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId>",
                )
            }
            _ => error(
                400,
                "Sender",
                "InvalidAction",
                "The action is not valid for this web service.",
            ),
        }
    }
}
