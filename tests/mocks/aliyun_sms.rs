//! A mock of Aliyun's SendSms (Dysmsapi 2017-05-25), built from its
//! reference, its "RPC signature" page and its error-code page: a POST to
//! `/` of a urlencoded form with the common parameters (`Action=SendSms`,
//! `Version`, `Format=JSON`, `AccessKeyId`, `SignatureMethod=HMAC-SHA1`,
//! `SignatureVersion=1.0`, `SignatureNonce`, `Timestamp`) and `Signature`,
//! which it checks by signing what it received as the page says: the
//! other parameters sorted by name, each name and value percent-encoded
//! (RFC 3986), joined `k=v&…`; `POST&%2F&` and that string percent-encoded;
//! base64(HMAC-SHA1(secret + "&", …)). Replies as the docs show them: 200
//! `{Code: "OK", Message: "OK", BizId, RequestId}`; 404
//! `InvalidAccessKeyId.NotFound` for another AccessKey ID, 400
//! `SignatureDoesNotMatch`, `SignatureNonceUsed` for a nonce seen before;
//! 200 with `isv.SMS_TEMPLATE_ILLEGAL` for a template other than
//! SMS_154950909, `isv.MOBILE_NUMBER_ILLEGAL` for a number starting 100,
//! `isv.BUSINESS_LIMIT_CONTROL` for a TemplateParam containing "storm".
//! `Mock::service(mocks::aliyun_sms::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Mutex;

pub const ID: &str = "LTAI5tExampleAccessKeyId";
pub const SECRET: &str = "ExampleAccessKeySecret0123456789";
pub const TEMPLATE: &str = "SMS_154950909";

fn reply(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"RequestId": "8906582E-6722-409A-A6C4-0E7863B733A5", "Code": code,
               "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot"}),
    )
}

/// Aliyun's percentEncode: RFC 3986's unreserved characters kept, every
/// other byte `%XY`.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The signature of the form `fields` (without `Signature`), as Aliyun
/// computes it.
pub fn signature(fields: &[(String, String)], secret: &str) -> String {
    let mut sorted = fields.to_vec();
    sorted.sort();
    let canonical = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("POST&{}&{}", percent("/"), percent(&canonical));
    let mac = mcp_push_policy::sign::hmac(
        mcp_push_policy::sign::Hash::Sha1,
        format!("{secret}&").as_bytes(),
        to_sign.as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(mac)
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let nonces = Mutex::new(HashSet::<String>::new());
    move |r: &Recorded| {
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(&r.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        if r.method != "POST" || r.path() != "/" || get("Action") != "SendSms" {
            return reply(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            );
        }
        for (name, value) in [
            ("Version", "2017-05-25"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("Format", "JSON"),
        ] {
            if get(name) != value {
                return reply(400, "InvalidParameter", &format!("{name} is not valid"));
            }
        }
        if get("AccessKeyId") != ID {
            return reply(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            );
        }
        let ts = get("Timestamp");
        if ts.len() != 20 || !ts.ends_with('Z') || ts.as_bytes()[10] != b'T' {
            return reply(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            );
        }
        let unsigned: Vec<(String, String)> = fields
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        if get("Signature") != signature(&unsigned, SECRET) {
            return reply(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            );
        }
        if !nonces
            .lock()
            .unwrap()
            .insert(get("SignatureNonce").to_string())
        {
            return reply(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            );
        }
        if get("TemplateCode") != TEMPLATE {
            return reply(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板");
        }
        if get("PhoneNumbers").split(',').any(|n| n.starts_with("100")) {
            return reply(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
        }
        if get("TemplateParam").contains("storm") {
            return reply(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1");
        }
        Reply::json(
            200,
            json!({"Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
                   "BizId": "900619746936498440^0", "Code": "OK"}),
        )
    }
}
