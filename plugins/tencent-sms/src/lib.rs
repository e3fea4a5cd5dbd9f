//! Tencent Cloud SMS (`TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`,
//! `TENCENT_SMS_APP_ID`, `TENCENT_SMS_BRAND`, `TENCENT_SMS_TEMPLATE_ID`,
//! `TENCENT_SMS_TO`; no one-line URL: Apprise has no Tencent Cloud SMS).
//!
//! Sources: Tencent Cloud's SendSms reference (API 3.0, version
//! 2021-01-11: POST `https://sms.tencentcloudapi.com/`, the common headers
//! `X-TC-Action: SendSms`, `X-TC-Version`, `X-TC-Timestamp`, `X-TC-Region`
//! (required); JSON `{PhoneNumberSet (E.164, at most 200), SmsSdkAppId,
//! TemplateId, SignName, TemplateParamSet}`; a message is an approved body
//! template whose `{1}`, `{2}`… the `TemplateParamSet` fills; the reply
//! `{Response: {SendStatusSet: [{PhoneNumber, SerialNo, Code, Message}],
//! RequestId}}` with `Code` `Ok` per number, or `{Response: {Error: {Code,
//! Message}}}`), its "Signature v3" page (TC3-HMAC-SHA256 over the
//! canonical request, signed headers `content-type;host`: the SDK's
//! `crypto::tc3_authorization`, the SecretKey never in the component), its
//! common error codes (`AuthFailure.*`, `RequestLimitExceeded`,
//! `InternalError`) and SMS error codes (`FailedOperation.*`,
//! `LimitExceeded.*`, `InvalidParameterValue.*`, `UnauthorizedOperation.*`:
//! the names from memory of the error-code page). `TENCENTCLOUD_SECRET_ID`,
//! `TENCENTCLOUD_SECRET_KEY` and `TENCENTCLOUD_REGION` are the names
//! Tencent Cloud's SDKs read; the `TENCENT_SMS_*` names are mcp-push's own.
//!
//! What the message becomes: a template cannot take free text, so each of
//! the template's variables is filled from `template_params` (`|` between
//! them, `$title` and `$content` standing for the message's parts, as in
//! notify.py's webhook templates); without it the template has one
//! variable and gets the whole text. `param_max` cuts each variable (a
//! personal account's templates take 12 characters a variable, from memory
//! of the error `InvalidParameterValue.TemplateParameterLengthLimit`).

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::Value;
use mcp_push_sdk::sms::{self, Budget};

struct TencentSms;

const OFFICIAL: &str = "https://sms.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// `PhoneNumberSet`: at most 200 numbers a request.
const NUMBERS: usize = 200;

impl Channel for TencentSms {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "tencent-sms",
            "Tencent Cloud SMS",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS from an approved template through Tencent Cloud's SendSms API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("secret_id", "The API key's SecretId")
                .env(&["TENCENTCLOUD_SECRET_ID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("secret_key", "The API key's SecretKey")
                .env(&["TENCENTCLOUD_SECRET_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("app_id", "The SMS application's SdkAppId")
                .env(&["TENCENT_SMS_APP_ID"])
                .required(),
        )
        .setting(
            Setting::new("template_id", "The approved body template's ID")
                .env(&["TENCENT_SMS_TEMPLATE_ID"])
                .required(),
        )
        .setting(
            // Not `SIGN_NAME`: the host takes a name with "SIG" in it for a
            // credential's, and a secret here would be swapped into the body
            // after the component signed it.
            Setting::new(
                "brand",
                "The approved SMS signature, the brand shown in 【】 (SignName; required for Chinese mainland numbers)",
            )
            .env(&["TENCENT_SMS_BRAND"]),
        )
        .setting(
            Setting::new("to", "Recipients in E.164, separated by `,` or `;`")
                .env(&["TENCENT_SMS_TO"])
                .required(),
        )
        .setting(
            Setting::new(
                "template_params",
                "The template's variables, separated by `|`, with $title and $content; default: one, the whole text",
            )
            .env(&["TENCENT_SMS_TEMPLATE_PARAMS"]),
        )
        .setting(
            Setting::new("param_max", "The most characters a variable may hold")
                .env(&["TENCENT_SMS_PARAM_MAX"]),
        )
        .setting(
            Setting::new("region", "The API region: ap-guangzhou, ap-beijing or ap-nanjing")
                .env(&["TENCENTCLOUD_REGION"])
                .default_value("ap-guangzhou"),
        )
        .setting(Setting::api_url("TENCENT_SMS_API_URL", OFFICIAL))
        .allow_host("sms.tencentcloudapi.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let secret_id = settings.require("secret_id")?;
        let secret_key = settings.require("secret_key")?;
        let to = sms::phones(settings, "to")?;
        if to.is_empty() {
            return Err(SendError::Config("setting `to` is missing".into()));
        }
        let params = template_params(settings, msg)?;
        let base = settings.base_url("api_url", OFFICIAL)?;
        // The signature covers the host the request goes to, as the server
        // sees it in `Host`.
        let host = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let region = settings.get_or("region", "ap-guangzhou");
        let batches: Vec<Vec<String>> = to
            .chunks(NUMBERS)
            .map(|c| c.iter().map(|p| p.e164()).collect())
            .collect();
        let mut first = None;
        delivery::send_parts(&batches, 0, |numbers| {
            let mut body = json!({
                "PhoneNumberSet": numbers,
                "SmsSdkAppId": settings.require("app_id")?,
                "TemplateId": settings.require("template_id")?,
                "TemplateParamSet": params,
            });
            if let Some(sign) = settings.get("brand") {
                body["SignName"] = json!(sign);
            }
            let payload = mcp_push_sdk::serde_json::to_vec(&body).unwrap_or_default();
            let timestamp = mcp_push_sdk::crypto::unix_millis() / 1000;
            let authorization = mcp_push_sdk::crypto::tc3_authorization(
                secret_id,
                secret_key,
                "sms",
                &host,
                CONTENT_TYPE,
                &payload,
                timestamp,
            );
            let reply = Request::post(format!("{base}/"))
                .header("Authorization", &authorization)
                .header("X-TC-Action", "SendSms")
                .header("X-TC-Version", "2021-01-11")
                .header("X-TC-Timestamp", &timestamp.to_string())
                .header("X-TC-Region", region)
                .body(CONTENT_TYPE, payload)
                .send()?;
            first = first.take().or(judge(&reply)?);
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// The template's variables: `template_params` filled with the message
/// (`$title`, `$content`), else the whole text as the only one; each cut to
/// `param_max` when set.
fn template_params(settings: &Settings, msg: &Message) -> Result<Vec<String>, SendError> {
    let max = match settings.parse::<usize>("param_max")? {
        Some(0) => {
            return Err(SendError::Config(
                "setting `param_max` must be at least 1".into(),
            ));
        }
        max => max,
    };
    let params: Vec<String> = match settings.get("template_params") {
        Some(list) => list
            .split('|')
            .map(|p| {
                fill(
                    p.trim(),
                    msg.title.trim(),
                    &msg.body_with_link(),
                    Escape::None,
                )
            })
            .collect(),
        None => vec![msg.text_with_link()],
    };
    Ok(params
        .into_iter()
        .map(|p| match max {
            Some(n) => Budget::chars(n).fit(&p),
            None => p,
        })
        .collect())
}

/// Success is a 200 whose `Response.SendStatusSet` says `Ok` for each
/// number (none is a refusal naming them, some a warning); a
/// `Response.Error` decides by its code: `RequestLimitExceeded` waits,
/// `InternalError*` is Tencent's trouble, the rest need the user (keys,
/// template, signature, balance, numbers; a number's daily
/// `LimitExceeded.*` does not pass by retrying soon).
fn judge(reply: &Response) -> Result<Option<String>, SendError> {
    if !reply.is_success() {
        return Err(reply.status_error());
    }
    let body = reply.json()?;
    let response = &body["Response"];
    if let Some(error) = response.get("Error") {
        let code = error["Code"].as_str().unwrap_or("no Code");
        let why = format!("{code}: {}", error["Message"].as_str().unwrap_or_default());
        return Err(if code == "RequestLimitExceeded" {
            SendError::RateLimited(None)
        } else if code.starts_with("InternalError") {
            SendError::Unavailable(why)
        } else {
            SendError::Rejected(why)
        });
    }
    let Some(statuses) = response["SendStatusSet"].as_array() else {
        return Err(SendError::Unavailable(format!(
            "HTTP {}: expected Response.SendStatusSet, got {}",
            reply.status,
            reply.snippet()
        )));
    };
    let code = |s: &Value| s["Code"].as_str().unwrap_or("no Code").to_string();
    let failed: Vec<String> = statuses
        .iter()
        .filter(|s| code(s) != "Ok")
        .map(|s| {
            format!(
                "{} ({}: {})",
                s["PhoneNumber"].as_str().unwrap_or("?"),
                code(s),
                s["Message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    mcp_push_sdk::reply::per_recipient("Tencent Cloud SMS", statuses.len(), failed)?;
    Ok(statuses
        .iter()
        .find(|s| code(s) == "Ok")
        .and_then(|s| id_at(s, "SerialNo")))
}

export_channel!(TencentSms);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<TencentSms>();
    }

    fn sent(numbers: &[(&str, &str)]) -> Reply {
        let set: Vec<Value> = numbers
            .iter()
            .enumerate()
            .map(|(i, (n, code))| {
                json!({"SerialNo": format!("5000:10498637856593{i}"), "PhoneNumber": n, "Fee": 1,
                       "SessionContext": "", "Code": code,
                       "Message": if *code == "Ok" { "send success" } else { "send failed" },
                       "IsoCode": "CN"})
            })
            .collect();
        Reply::json(
            200,
            json!({"Response": {"SendStatusSet": set, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<TencentSms>()
            .setting("secret_id", ID)
            .setting("secret_key", KEY)
            .setting("app_id", "1400006666")
            .setting("template_id", "1110")
            .setting("brand", "腾讯云")
            .setting("to", "+86 138 0013 8000; +86 139 0013 9000")
    }

    /// The documented request: JSON to `/` with the common headers and a
    /// TC3 `Authorization` the SDK computes over what is sent (the
    /// SecretKey keyed in by the host, never in the component).
    #[test]
    fn posts_a_signed_sendsms() {
        let h = harness().reply(sent(&[("+8613800138000", "Ok"), ("+8613900139000", "Ok")]));
        let mut msg = message("部署", "完成");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("5000:104986378565930")
        );
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://sms.tencentcloudapi.com/");
        assert_eq!(req.header("x-tc-action"), Some("SendSms"));
        assert_eq!(req.header("x-tc-version"), Some("2021-01-11"));
        assert_eq!(req.header("x-tc-region"), Some("ap-guangzhou"));
        assert_eq!(req.header("content-type"), Some(CONTENT_TYPE));
        let wire = &h.on_the_wire()[0];
        assert_eq!(
            wire.json(),
            json!({"PhoneNumberSet": ["+8613800138000", "+8613900139000"],
                   "SmsSdkAppId": "1400006666", "TemplateId": "1110",
                   "TemplateParamSet": ["部署\n\n完成\n\nhttps://ci.example.com/7"],
                   "SignName": "腾讯云"})
        );
        // The signature is the one TC3 gives for the bytes on the wire.
        let ts: u64 = req.header("x-tc-timestamp").unwrap().parse().unwrap();
        let auth = wire.header("authorization").unwrap();
        assert!(auth.starts_with(&format!(
            "TC3-HMAC-SHA256 Credential={ID}/{}/sms/tc3_request, SignedHeaders=content-type;host, Signature=",
            mcp_push_sdk::crypto::utc_date(ts)
        )));
        assert_eq!(
            auth,
            mcp_push_sdk::crypto::tc3_authorization(
                ID,
                KEY,
                "sms",
                "sms.tencentcloudapi.com",
                CONTENT_TYPE,
                &wire.body,
                ts
            )
        );
        assert!(!req.header("authorization").unwrap().contains(ID));
        assert!(!format!("{:?}", h.requests()).contains(KEY));
    }

    /// `template_params` fills several variables, `param_max` cuts each.
    #[test]
    fn template_variables_from_the_message() {
        let h = harness()
            .setting("template_params", "$title | $content")
            .setting("param_max", "12")
            .reply(sent(&[("+8613800138000", "Ok"), ("+8613900139000", "Ok")]));
        h.send(&message("Deploy of v2.1.0", "all 48 checks passed"))
            .unwrap();
        assert_eq!(
            h.requests()[0].json()["TemplateParamSet"],
            json!(["Deploy of...", "all 48 ch..."])
        );
        for (key, value) in [("param_max", "0"), ("to", "138-00")] {
            let h = harness().setting(key, value);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{key}"
            );
            assert!(h.requests().is_empty());
        }
    }

    fn error(code: &str, text: &str) -> Reply {
        Reply::json(
            200,
            json!({"Response": {"Error": {"Code": code, "Message": text},
                                "RequestId": "b5b41468-520d-4192-b42f-595cc34b6c1c"}}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (code, text) in [
            (
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            ),
            ("AuthFailure.SecretIdNotFound", "The SecretId is not found."),
            (
                "FailedOperation.InsufficientBalanceInSmsPackage",
                "insufficient balance in SMS package",
            ),
            (
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "template is not approved",
            ),
            (
                "InvalidParameterValue.TemplateParameterLengthLimit",
                "single variable exceeds 12 characters",
            ),
            (
                "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
                "SmsSdkAppId verification failed",
            ),
        ] {
            assert_eq!(
                outcome(error(code, text)),
                SendError::Rejected(format!("{code}: {text}"))
            );
        }
        assert_eq!(
            outcome(error(
                "RequestLimitExceeded",
                "The number of requests exceeds the frequency limit."
            )),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(error("InternalError.Timeout", "timeout")),
            SendError::Unavailable("InternalError.Timeout: timeout".into())
        );
        assert_eq!(
            outcome(sent(&[
                (
                    "+8613800138000",
                    "InvalidParameterValue.IncorrectPhoneNumber"
                ),
                ("+8613900139000", "LimitExceeded.PhoneNumberDailyLimit"),
            ])),
            SendError::Rejected(
                "Tencent Cloud SMS delivered to no recipient: \
                 +8613800138000 (InvalidParameterValue.IncorrectPhoneNumber: send failed), \
                 +8613900139000 (LimitExceeded.PhoneNumberDailyLimit: send failed)"
                    .into()
            )
        );
        assert!(matches!(
            outcome(Reply::text(502, "")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::json(200, json!({"Response": {"RequestId": "x"}}))),
            SendError::Unavailable(_)
        ));
    }
}
