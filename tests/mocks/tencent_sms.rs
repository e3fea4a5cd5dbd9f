//! A mock of Tencent Cloud's SendSms (API 3.0, 2021-01-11), built from its
//! reference and the "Signature v3" page: a POST to `/` with `X-TC-Action:
//! SendSms`, `X-TC-Version`, `X-TC-Region`, `X-TC-Timestamp` and an
//! `Authorization: TC3-HMAC-SHA256 Credential=ID/DATE/sms/tc3_request,
//! SignedHeaders=content-type;host, Signature=…` that it checks by signing
//! the request as received (its `Host`, `Content-Type` and body) with the
//! SecretKey; always a 200 `{Response: {...}}`: `SendStatusSet` with `Code:
//! "Ok"` per number, or `InvalidParameterValue.IncorrectPhoneNumber` for a
//! number in +86100…; `Error` `AuthFailure.SecretIdNotFound` for another
//! SecretId, `AuthFailure.SignatureFailure` for a signature that does not
//! match, `FailedOperation.TemplateIncorrectOrUnapproved` for a template
//! other than 1110, `RequestLimitExceeded` (here: a parameter containing
//! "storm"). The error wordings are written from memory.
//! `Mock::service(mocks::tencent_sms::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

pub const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
pub const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
pub const TEMPLATE: &str = "1110";

fn error(code: &str, message: &str) -> Reply {
    Reply::json(
        200,
        json!({"Response": {"Error": {"Code": code, "Message": message},
                            "RequestId": "b5b41468-520d-4192-b42f-595cc34b6c1c"}}),
    )
}

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The TC3 signature of `r` for `date` and `timestamp`, as the server
/// computes it from what it received.
pub fn signature(r: &Recorded, date: &str, timestamp: &str) -> String {
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        r.header("content-type").unwrap_or_default(),
        r.header("host").unwrap_or_default(),
        hex::encode(Sha256::digest(&r.body))
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = hmac(
        &hmac(&hmac(format!("TC3{KEY}").as_bytes(), date), "sms"),
        "tc3_request",
    );
    hex::encode(hmac(&key, &to_sign))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST"
            || r.path() != "/"
            || r.header("x-tc-action") != Some("SendSms")
            || r.header("x-tc-version") != Some("2021-01-11")
            || r.header("x-tc-region").is_none()
        {
            return error("InvalidAction", "The action or version does not exist.");
        }
        let auth = r.header("authorization").unwrap_or_default();
        let Some(rest) = auth.strip_prefix("TC3-HMAC-SHA256 Credential=") else {
            return error(
                "AuthFailure.InvalidAuthorization",
                "Authorization is invalid.",
            );
        };
        let (credential, rest) = rest.split_once(", ").unwrap_or_default();
        let mut scope = credential.split('/');
        let (id, date) = (scope.next().unwrap_or(""), scope.next().unwrap_or(""));
        if id != ID {
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found.");
        }
        let timestamp = r.header("x-tc-timestamp").unwrap_or_default();
        let given = rest
            .strip_prefix("SignedHeaders=content-type;host, Signature=")
            .unwrap_or_default();
        if given != signature(r, date, timestamp) {
            return error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            );
        }
        let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        if b["TemplateId"] != TEMPLATE {
            return error(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "the template is not approved or does not exist",
            );
        }
        let params = b["TemplateParamSet"].to_string();
        if params.contains("storm") {
            return error(
                "RequestLimitExceeded",
                "The number of requests exceeds the frequency limit.",
            );
        }
        let set: Vec<_> = b["PhoneNumberSet"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, n)| {
                let n = n.as_str().unwrap_or_default();
                let ok = !n.starts_with("+86100");
                json!({"SerialNo": format!("5000:10498637856593{i}"), "PhoneNumber": n, "Fee": 1,
                       "SessionContext": "",
                       "Code": if ok { "Ok" } else { "InvalidParameterValue.IncorrectPhoneNumber" },
                       "Message": if ok { "send success" } else { "incorrect phone number" },
                       "IsoCode": "CN"})
            })
            .collect();
        Reply::json(
            200,
            json!({"Response": {"SendStatusSet": set, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}),
        )
    }
}
