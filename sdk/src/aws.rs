//! Calling an Amazon Web Services API: a request signed with Signature
//! Version 4 (the secret access key a placeholder the host keys the HMAC
//! with, so it never enters the component), and AWS's error codes sorted by
//! what to do next. Stops there: each channel builds its own body and reads
//! its own reply (SES v2 answers JSON, SNS's Query API XML).
//!
//! Source: AWS's "Create a signed AWS API request" (the canonical request
//! `METHOD\nPATH\nQUERY\nheaders\n\nsigned;headers\nhex(sha256(payload))`,
//! the string to sign `AWS4-HMAC-SHA256\nX-Amz-Date\nscope\nhex(sha256(
//! canonical request))`, the scope `YYYYMMDD/region/service/aws4_request`)
//! and its "Common errors" table.

use crate::crypto::{hex, hmac_sha256, sha256_hex, sigv4_signing_key, unix_millis, utc_timestamp};
use crate::http::{Request, Response};
use crate::url::OneLine;
use crate::{ChannelInfo, SendError, Setting, Settings};

/// Who signs, and for which region and service (`ses`, `sns`).
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// Sent as it is in `Authorization` (outside what is signed).
    pub access_key_id: &'a str,
    /// A placeholder: only the host's HMAC sees the secret.
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// What the signature covers: the signed headers are `content-type`,
/// `host` and `x-amz-date`. `query` is already canonical (sorted, RFC 3986
/// encoded), empty for a POST with a body.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
}

const SIGNED_HEADERS: &str = "content-type;host;x-amz-date";

/// `X-Amz-Date`'s form of a Unix time: `YYYYMMDDTHHMMSSZ`.
pub fn amz_date(unix_secs: u64) -> String {
    utc_timestamp(unix_secs).replace(['-', ':'], "")
}

/// The `Authorization` header of `request` sent at `amz_date`.
pub fn authorization(creds: &Credentials, request: &Signed, amz_date: &str) -> String {
    let canonical = format!(
        "{}\n{}\n{}\ncontent-type:{}\nhost:{}\nx-amz-date:{amz_date}\n\n{SIGNED_HEADERS}\n{}",
        request.method,
        request.path,
        request.query,
        request.content_type,
        request.host,
        sha256_hex(request.payload)
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", creds.region, creds.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = sigv4_signing_key(creds.secret_access_key, date, creds.region, creds.service);
    let signature = hex(&hmac_sha256(&key, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
        creds.access_key_id
    )
}

/// POST `payload` to `base` + `path`, signed now. The signature covers the
/// host as the server sees it in `Host` (with a port, when `base` has one)
/// and the whole path (with any path `base` has, for a proxy).
pub fn post(
    creds: &Credentials,
    base: &str,
    path: &str,
    content_type: &str,
    payload: Vec<u8>,
) -> Result<Response, SendError> {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_end_matches('/');
    let full_path = if prefix.is_empty() {
        path.to_string()
    } else {
        format!("/{prefix}{path}")
    };
    let date = amz_date(unix_millis() / 1000);
    let auth = authorization(
        creds,
        &Signed {
            method: "POST",
            host,
            path: &full_path,
            query: "",
            content_type,
            payload: &payload,
        },
        &date,
    );
    Request::post(format!("{}{path}", base.trim_end_matches('/')))
        .header("Authorization", &auth)
        .header("X-Amz-Date", &date)
        .body(content_type, payload)
        .send()
}

/// An AWS error reply by its code: throttling waits (`Retry-After` when
/// given), AWS's own failures (`InternalFailure`, `ServiceUnavailable`, any
/// 5xx) are retried, the rest (credentials, signature, permissions, the
/// request itself) need the user.
pub fn error(reply: &Response, code: &str, message: &str) -> SendError {
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "KMSThrottling",
    ];
    const AWS_TROUBLE: &[&str] = &[
        "InternalFailure",
        "InternalError",
        "InternalServiceErrorException",
        "ServiceUnavailable",
    ];
    let why = format!("{code}: {message}");
    if THROTTLED.contains(&code) || reply.status == 429 {
        SendError::RateLimited(reply.retry_after())
    } else if AWS_TROUBLE.contains(&code) || reply.status >= 500 {
        SendError::Unavailable(why)
    } else {
        SendError::Rejected(why)
    }
}

/// The key and the region every AWS channel asks for, read from
/// `{PREFIX}_ACCESS_KEY_ID`, `{PREFIX}_SECRET_ACCESS_KEY` (both secret) and
/// `{PREFIX}_REGION`; `permission` names the IAM action the key needs.
pub fn key_settings(info: ChannelInfo, prefix: &str, permission: &str) -> ChannelInfo {
    info.setting(
        Setting::new("access_key_id", "The IAM access key ID (AKIA…)")
            .env(&[&format!("{prefix}_ACCESS_KEY_ID")])
            .required()
            .secret(),
    )
    .setting(
        Setting::new(
            "secret_access_key",
            &format!("The IAM secret access key (needs {permission})"),
        )
        .env(&[&format!("{prefix}_SECRET_ACCESS_KEY")])
        .required()
        .secret(),
    )
    .setting(
        Setting::new("region", "The AWS region (us-east-1, eu-west-1, …)")
            .env(&[&format!("{prefix}_REGION")])
            .required(),
    )
}

/// `api_url` (`{PREFIX}_API_URL`) and the hosts an AWS channel reaches:
/// the region's endpoint under amazonaws.com (the allow list has no pattern
/// for one label in the middle, `email.{region}.amazonaws.com`) or
/// `api_url`'s.
pub fn endpoint_settings(info: ChannelInfo, prefix: &str) -> ChannelInfo {
    info.setting(
        Setting::new(
            "api_url",
            "API base URL instead of the region's, for a VPC endpoint, a proxy or tests",
        )
        .env(&[&format!("{prefix}_API_URL")]),
    )
    .allow_host("*.amazonaws.com")
    .allow_host("setting:api_url")
}

/// The signer and the base URL of a channel with [`key_settings`] and
/// [`endpoint_settings`]: `https://{label}.{region}.amazonaws.com` (SES's
/// label is `email`), or `api_url`.
pub fn endpoint<'a>(
    settings: &'a Settings,
    service: &'a str,
    label: &str,
) -> Result<(Credentials<'a>, String), SendError> {
    let region = settings.require("region")?;
    if !is_region(region) {
        return Err(SendError::Config(format!(
            "setting `region` must be an AWS region like us-east-1, not {region:?}"
        )));
    }
    let base = match settings.get("api_url") {
        Some(_) => settings.base_url("api_url", "")?,
        None => format!("https://{label}.{region}.amazonaws.com"),
    };
    let creds = Credentials {
        access_key_id: settings.require("access_key_id")?,
        secret_access_key: settings.require("secret_access_key")?,
        region,
        service,
    };
    Ok((creds, base))
}

/// Apprise's AWS one-line URLs put the secret access key in the path,
/// where it may hold `/`: it runs from `path` up to the first segment that
/// is a region (or up to a segment `is_target` takes, when `?region=` names
/// the region), and the targets follow. `?secret=` and `?region=` win.
/// Returns the secret, the region (lowercase) and the targets.
pub fn path_keys(
    u: &OneLine,
    path: &[String],
    is_target: impl Fn(&str) -> bool,
) -> (Option<String>, Option<String>, Vec<String>) {
    let mut secret_parts = Vec::new();
    let mut region = None;
    let mut rest = path.iter();
    let mut targets = Vec::new();
    for segment in rest.by_ref() {
        if is_region(segment) {
            region = Some(segment.to_ascii_lowercase());
            break;
        }
        if is_target(segment) {
            targets.push(segment.clone());
            break;
        }
        secret_parts.push(segment.as_str());
    }
    targets.extend(rest.cloned());
    let secret = u
        .param("secret")
        .map(String::from)
        .or_else(|| (!secret_parts.is_empty()).then(|| secret_parts.join("/")));
    let region = u.param("region").map(str::to_ascii_lowercase).or(region);
    (secret, region, targets)
}

/// An AWS region's form, as Apprise checks it (`[a-z]{2}-[a-z-]+-[0-9]+`):
/// `us-east-1`, `us-gov-west-1`, `ap-southeast-2`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    parts.len() >= 3
        && first.len() == 2
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()))
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

/// A failed reply of a REST-JSON API (SES v2): the code from
/// `X-Amzn-ErrorType` (`MessageRejected:http://…`), else the body's
/// `__type` (`…#Code`) or `code`; the words from its `message`.
pub fn json_error(reply: &Response) -> SendError {
    let body = reply.json().unwrap_or_default();
    let text = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let code = reply
        .header("x-amzn-errortype")
        .map(|t| t.split(':').next().unwrap_or(t).to_string())
        .or_else(|| text("__type").map(|t| t.rsplit('#').next().unwrap_or(&t).to_string()))
        .or_else(|| text("code").or_else(|| text("Code")));
    let message = text("message")
        .or_else(|| text("Message"))
        .unwrap_or_default();
    match code {
        Some(code) if !code.is_empty() => error(reply, &code, &message),
        _ => reply.status_error(),
    }
}

/// A failed reply of a Query API (SNS): `<ErrorResponse><Error><Type/>
/// <Code/><Message/></Error><RequestId/></ErrorResponse>`.
pub fn xml_error(reply: &Response) -> SendError {
    let body = reply.text();
    match xml_text(&body, "Code") {
        Some(code) => error(
            reply,
            &code,
            &xml_text(&body, "Message").unwrap_or_default(),
        ),
        None => reply.status_error(),
    }
}

/// The text of the first `<tag>…</tag>` in `xml`, its five predefined
/// entities undone: enough for AWS's flat replies (no CDATA, no
/// attributes on the tags read).
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(
        xml[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example ("Create a signed AWS API request", IAM
    /// ListUsers): GET `/?Action=ListUsers&Version=2010-05-08` to
    /// iam.amazonaws.com at 20150830T123600Z.
    #[test]
    fn signs_awss_example() {
        let date = amz_date(1_440_938_160);
        assert_eq!(date, "20150830T123600Z");
        let auth = authorization(
            &Credentials {
                access_key_id: "AKIDEXAMPLE",
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                region: "us-east-1",
                service: "iam",
            },
            &Signed {
                method: "GET",
                host: "iam.amazonaws.com",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                content_type: "application/x-www-form-urlencoded; charset=utf-8",
                payload: b"",
            },
            &date,
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn regions() {
        for r in ["us-east-1", "us-gov-west-1", "AP-southeast-2"] {
            assert!(is_region(r), "{r}");
        }
        for r in ["moon", "us-east", "useast-1", "us--1", "1-us-east", ""] {
            assert!(!is_region(r), "{r}");
        }
    }

    #[test]
    fn errors_by_what_to_do_next() {
        let reply = |status: u16| Response {
            status,
            headers: vec![],
            body: vec![],
            truncated: false,
        };
        assert_eq!(
            error(&reply(400), "Throttling", "Maximum sending rate exceeded."),
            SendError::RateLimited(None)
        );
        assert_eq!(
            error(&reply(429), "TooManyRequestsException", "slow down"),
            SendError::RateLimited(None)
        );
        assert_eq!(
            error(&reply(500), "InternalFailure", "oops"),
            SendError::Unavailable("InternalFailure: oops".into())
        );
        assert_eq!(
            error(&reply(403), "SignatureDoesNotMatch", "no"),
            SendError::Rejected("SignatureDoesNotMatch: no".into())
        );
    }

    #[test]
    fn reads_both_error_shapes() {
        let reply = |status: u16, headers: Vec<(String, String)>, body: &str| Response {
            status,
            headers,
            body: body.as_bytes().to_vec(),
            truncated: false,
        };
        let ses = reply(
            400,
            vec![(
                "x-amzn-ErrorType".into(),
                "MessageRejected:http://internal.amazon.com/coral/com.amazonaws.sesv2/".into(),
            )],
            r#"{"message":"Email address is not verified."}"#,
        );
        assert_eq!(
            json_error(&ses),
            SendError::Rejected("MessageRejected: Email address is not verified.".into())
        );
        let typed = reply(
            429,
            vec![],
            r#"{"__type":"com.amazon.coral#TooManyRequestsException","message":"x"}"#,
        );
        assert_eq!(json_error(&typed), SendError::RateLimited(None));
        let sns = reply(
            400,
            vec![],
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n<Error><Type>Sender</Type>\n<Code>InvalidParameter</Code>\n<Message>Invalid parameter: TopicArn &amp; more</Message></Error>\n<RequestId>1</RequestId></ErrorResponse>",
        );
        assert_eq!(
            xml_error(&sns),
            SendError::Rejected("InvalidParameter: Invalid parameter: TopicArn & more".into())
        );
        assert!(matches!(
            xml_error(&reply(502, vec![], "bad gateway")),
            SendError::Unavailable(_)
        ));
    }
}
