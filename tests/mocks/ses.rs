//! A mock of Amazon SES's API v2 SendEmail, built from its reference: a
//! POST to `/v2/email/outbound-emails` of JSON `{FromEmailAddress,
//! Destination, Content: {Simple: {Subject, Body}}}`, signed for service
//! `ses` (checked by `aws_sigv4::verify`); 200 `{MessageId}`; failures as
//! REST-JSON errors, the kind in `X-Amzn-ErrorType` and the words in
//! `{"message": …}`: `UnrecognizedClientException` (403) for another access
//! key, `SignatureDoesNotMatch` (403) for a signature that does not match,
//! `MessageRejected` (400) for a sender outside the verified example.com,
//! `TooManyRequestsException` (429) for a subject containing "storm". The
//! words are written from memory of SES's replies.
//! `Mock::service(mocks::ses::api())` serves it.

#![allow(dead_code)]

use super::aws_sigv4::{self, Refusal};
use crate::support::{Recorded, Reply};
use serde_json::json;

fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(status, json!({ "message": message })).header(
        "x-amzn-ErrorType",
        &format!("{kind}:http://internal.amazon.com/coral/com.amazonaws.sesv2/"),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" || r.path() != "/v2/email/outbound-emails" {
            return error(404, "NotFoundException", "Resource not found");
        }
        let region = match aws_sigv4::verify(r, "ses") {
            Ok(region) => region,
            Err(Refusal::UnknownKey) => {
                return error(
                    403,
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                );
            }
            Err(Refusal::BadSignature) => {
                return error(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
                );
            }
            Err(Refusal::Missing) => {
                return error(
                    403,
                    "MissingAuthenticationTokenException",
                    "Missing Authentication Token",
                );
            }
        };
        let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let simple = &b["Content"]["Simple"];
        if simple["Subject"]["Data"].as_str().is_none()
            || (simple["Body"]["Text"]["Data"].as_str().is_none()
                && simple["Body"]["Html"]["Data"].as_str().is_none())
        {
            return error(400, "BadRequestException", "Content is invalid");
        }
        let from = b["FromEmailAddress"].as_str().unwrap_or_default();
        if !from.trim_end_matches('>').ends_with("@example.com") {
            return error(
                400,
                "MessageRejected",
                &format!(
                    "Email address is not verified. The following identities failed the check in region {}: {from}",
                    region.to_uppercase()
                ),
            );
        }
        if simple["Subject"]["Data"]
            .as_str()
            .is_some_and(|s| s.contains("storm"))
        {
            return error(429, "TooManyRequestsException", "Too many requests.")
                .header("retry-after", "1");
        }
        Reply::json(
            200,
            json!({"MessageId": "0102017d87656ee2-a2ea291f-79ea-44f3-9d25-00d041de3077-000000"}),
        )
    }
}
