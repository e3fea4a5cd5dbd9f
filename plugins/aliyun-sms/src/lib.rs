//! Aliyun SMS (阿里云短信服务: `ALIBABA_CLOUD_ACCESS_KEY_ID`,
//! `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIYUN_SMS_BRAND`,
//! `ALIYUN_SMS_TEMPLATE_CODE`, `ALIYUN_SMS_TO`; no one-line URL: Apprise has
//! no Aliyun SMS, nor has qinglong's notify.py).
//!
//! Sources: Aliyun's SendSms reference (Dysmsapi 2017-05-25: the
//! parameters `PhoneNumbers` (comma-separated, at most 1,000; mainland
//! numbers with or without `86`, others with their country code),
//! `SignName`, `TemplateCode`, `TemplateParam` (a JSON object of the
//! template's `${name}` variables), `OutId`; the reply `{Code, Message,
//! BizId, RequestId}` with `Code` `OK`), its "RPC signature" page
//! (signature version 1.0: HMAC-SHA1 keyed by `AccessKeySecret + "&"` over
//! `METHOD&%2F&` and the percent-encoded canonicalized query; the SDK's
//! `crypto::aliyun_rpc_signed`, checked on that page's example; the secret
//! never in the component), and its error-code page (`isv.*` the account's
//! or request's fault, `isv.BUSINESS_LIMIT_CONTROL` and `Throttling.*` flow
//! control, `isp.SYSTEM_ERROR` and `ServiceUnavailable` Aliyun's own
//! trouble; gateway errors such as `SignatureDoesNotMatch` and
//! `InvalidAccessKeyId.NotFound` come with an HTTP 4xx). The variable length
//! (`ALIYUN_SMS_PARAM_MAX`: Aliyun counts at most 35 characters a variable
//! for most templates) is from memory of the template rules.
//! `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET` are the names Aliyun's SDKs and
//! CLI read; the `ALIYUN_SMS_*` names are mcp-push's own.
//!
//! Where sources disagree: Aliyun now recommends its V3 signature
//! (ACS3-HMAC-SHA256) and calls version 1.0 discontinued for new products,
//! yet Dysmsapi and every SDK of it still take 1.0, the form its SMS pages
//! document; this follows the SMS pages. The AccessKey ID is a signed
//! query parameter, so the component must see it: its shape declares it
//! public (`mcp-push plugin check` shows that), the secret stays secret.
//!
//! What the message becomes: a template cannot take free text, so its
//! variables come from `template_param` (the JSON object with `$title` and
//! `$content` standing for the message's parts); without it the template
//! has one variable, `${content}`, holding the whole text.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::{Map, Value};
use mcp_push_sdk::sms::{self, Budget};

struct AliyunSms;

const OFFICIAL: &str = "https://dysmsapi.aliyuncs.com";

/// `PhoneNumbers`: at most 1,000 numbers a request.
const NUMBERS: usize = 1000;

/// Codes that say "slow down": flow control per number (minute, hour) and
/// the gateway's per-user throttling.
const RATE_LIMITED: [&str; 4] = [
    "isv.BUSINESS_LIMIT_CONTROL",
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
];

/// Codes of Aliyun's own trouble, worth a retry.
const UNAVAILABLE: [&str; 3] = ["isp.SYSTEM_ERROR", "ServiceUnavailable", "InternalError"];

impl Channel for AliyunSms {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "aliyun-sms",
            "Aliyun SMS",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS from an approved template through Aliyun's SendSms API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("access_key_id", "The AccessKey ID (shown to the channel: it is signed)")
                .env(&["ALIBABA_CLOUD_ACCESS_KEY_ID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("access_key_secret", "The AccessKey secret")
                .env(&["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            // Not `SIGN_NAME`: the host takes a name with "SIG" in it for a
            // credential's, and a secret would be swapped into the body
            // after the component signed it.
            Setting::new(
                "brand",
                "The approved SMS signature, the brand shown in 【】 (SignName)",
            )
            .env(&["ALIYUN_SMS_BRAND"])
            .required(),
        )
        .setting(
            Setting::new("template_code", "The approved template's code (SMS_…)")
                .env(&["ALIYUN_SMS_TEMPLATE_CODE"])
                .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients, separated by `,` or `;` (mainland numbers as 11 digits or with 86)",
            )
            .env(&["ALIYUN_SMS_TO"])
            .required(),
        )
        .setting(
            Setting::new(
                "template_param",
                "The template's variables as a JSON object with $title and $content; default {\"content\":\"$content\"} with the whole text",
            )
            .env(&["ALIYUN_SMS_TEMPLATE_PARAM"]),
        )
        .setting(
            Setting::new("param_max", "The most characters a variable may hold")
                .env(&["ALIYUN_SMS_PARAM_MAX"]),
        )
        .setting(Setting::api_url("ALIYUN_SMS_API_URL", OFFICIAL))
        .allow_host("dysmsapi.aliyuncs.com")
        .allow_host("setting:api_url")
    }

    /// The AccessKey ID goes into the signed query, so the component gets
    /// it in clear (`access_key_id.id`); the secret only as a placeholder.
    fn shapes() -> Vec<Shape> {
        vec![Shape::new("access_key_id").form("id", r"(?P<id>[0-9A-Za-z]{8,64})", &["id"])]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        settings.require("access_key_id")?;
        let Some(id) = settings.get("access_key_id.id") else {
            return Err(SendError::Config(
                "setting `access_key_id` must be an AccessKey ID (8 to 64 letters and digits)"
                    .into(),
            ));
        };
        let secret = settings.require("access_key_secret")?;
        let to = sms::phones(settings, "to")?;
        if to.is_empty() {
            return Err(SendError::Config("setting `to` is missing".into()));
        }
        let param = template_param(settings, msg)?;
        let url = format!("{}/", settings.base_url("api_url", OFFICIAL)?);
        let batches: Vec<String> = to
            .chunks(NUMBERS)
            .map(|c| c.iter().map(|p| p.digits()).collect::<Vec<_>>().join(","))
            .collect();
        let mut first = None;
        let key = mcp_push_sdk::delivery::key();
        let mut n = 0;
        mcp_push_sdk::delivery::send_parts(&batches, 0, |numbers| {
            n += 1;
            let now = mcp_push_sdk::crypto::unix_millis();
            let params: Vec<(String, String)> = [
                ("AccessKeyId", id),
                ("Action", "SendSms"),
                ("Format", "JSON"),
                ("PhoneNumbers", numbers),
                ("SignName", settings.require("brand")?),
                ("SignatureMethod", "HMAC-SHA1"),
                // Unique for each request: Aliyun refuses a nonce used in
                // the last 15 minutes (`SignatureNonceUsed`).
                ("SignatureNonce", &format!("{key}-{now}-{n}")),
                ("SignatureVersion", "1.0"),
                ("TemplateCode", settings.require("template_code")?),
                ("TemplateParam", &param),
                (
                    "Timestamp",
                    &mcp_push_sdk::crypto::utc_timestamp(now / 1000),
                ),
                ("Version", "2017-05-25"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let body = mcp_push_sdk::crypto::aliyun_rpc_signed("POST", &params, secret);
            let reply = Request::post(&url)
                .body("application/x-www-form-urlencoded", body)
                .send()?;
            first = first.take().or(judge(&reply)?);
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// `TemplateParam`: `template_param` filled with the message (`$title`,
/// `$content`, escaped for JSON), else `{"content": whole text}`; each
/// string value cut to `param_max` when set.
fn template_param(settings: &Settings, msg: &Message) -> Result<String, SendError> {
    let max = match settings.parse::<usize>("param_max")? {
        Some(0) => {
            return Err(SendError::Config(
                "setting `param_max` must be at least 1".into(),
            ));
        }
        max => max,
    };
    let vars: Map<String, Value> = match settings.get("template_param") {
        Some(t) => {
            let filled = fill(t, msg.title.trim(), &msg.body_with_link(), Escape::Json);
            match mcp_push_sdk::serde_json::from_str::<Value>(&filled) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(SendError::Config(
                        "setting `template_param` must be a JSON object, like {\"name\":\"$title\"}"
                            .into(),
                    ));
                }
            }
        }
        None => Map::from_iter([("content".to_string(), json!(msg.text_with_link()))]),
    };
    let cut: Map<String, Value> = vars
        .into_iter()
        .map(|(k, v)| match (v, max) {
            (Value::String(s), Some(n)) => (k, json!(Budget::chars(n).fit(&s))),
            (v, _) => (k, v),
        })
        .collect();
    Ok(Value::Object(cut).to_string())
}

/// Success is a reply whose `Code` is `OK` (its `BizId` the receipt); any
/// other `Code` decides, whatever the HTTP status: flow control waits,
/// Aliyun's own errors are retried, the rest (keys, signature, brand,
/// template, numbers, balance, a number's daily limit) need the user.
fn judge(reply: &Response) -> Result<Option<String>, SendError> {
    let Ok(body) = reply.json() else {
        return Err(reply.status_error());
    };
    let Some(code) = body["Code"].as_str() else {
        return Err(if reply.is_success() {
            SendError::Unavailable(format!(
                "HTTP {}: expected a Code, got {}",
                reply.status,
                reply.snippet()
            ))
        } else {
            reply.status_error()
        });
    };
    if code == "OK" && reply.is_success() {
        return Ok(id_at(&body, "BizId"));
    }
    let why = format!("{code}: {}", body["Message"].as_str().unwrap_or_default());
    Err(if RATE_LIMITED.contains(&code) || reply.status == 429 {
        SendError::RateLimited(reply.retry_after())
    } else if UNAVAILABLE.contains(&code) || reply.status >= 500 {
        SendError::Unavailable(why)
    } else {
        SendError::Rejected(why)
    })
}

export_channel!(AliyunSms);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::encode::url_decode;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const ID: &str = "LTAI5tExampleAccessKeyId";
    const SECRET: &str = "ExampleAccessKeySecret0123456789";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<AliyunSms>();
    }

    fn ok() -> Reply {
        Reply::json(
            200,
            json!({"Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
                   "BizId": "900619746936498440^0", "Code": "OK"}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<AliyunSms>()
            .setting("access_key_id", ID)
            .setting("access_key_secret", SECRET)
            .setting("brand", "阿里云短信测试")
            .setting("template_code", "SMS_154950909")
            .setting("to", "13800138000; +86 139 0013 9000")
    }

    /// The form fields of a body, decoded.
    fn fields(body: &[u8]) -> Vec<(String, String)> {
        String::from_utf8_lossy(body)
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (url_decode(k, false), url_decode(v, false))
            })
            .collect()
    }

    fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
        f.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The documented request: a urlencoded POST to `/` with the common
    /// parameters and a signature over them, keyed with the secret and `&`
    /// by the host (the component never has the secret).
    #[test]
    fn posts_a_signed_sendsms() {
        let h = harness().reply(ok());
        let mut msg = message("部署", "完成");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("900619746936498440^0")
        );
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://dysmsapi.aliyuncs.com/");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let wire = &h.on_the_wire()[0];
        let f = fields(&wire.body);
        assert_eq!(field(&f, "Action"), "SendSms");
        assert_eq!(field(&f, "Version"), "2017-05-25");
        assert_eq!(field(&f, "AccessKeyId"), ID);
        assert_eq!(field(&f, "PhoneNumbers"), "13800138000,8613900139000");
        assert_eq!(field(&f, "SignName"), "阿里云短信测试");
        assert_eq!(field(&f, "TemplateCode"), "SMS_154950909");
        assert_eq!(
            mcp_push_sdk::serde_json::from_str::<Value>(field(&f, "TemplateParam")).unwrap(),
            json!({"content": "部署\n\n完成\n\nhttps://ci.example.com/7"})
        );
        // The signature is the one Aliyun computes from the other fields.
        let unsigned: Vec<(String, String)> = f
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        let mut sorted = unsigned.clone();
        sorted.sort();
        let query = mcp_push_sdk::encode::form_encode(&sorted);
        let to_sign = format!("POST&%2F&{}", url_encode(&query));
        let expected = mcp_push_sdk::encode::base64(&mcp_push_sdk::crypto::hmac(
            mcp_push_sdk::crypto::Hash::Sha1,
            format!("{SECRET}&").as_bytes(),
            to_sign.as_bytes(),
        ));
        assert_eq!(field(&f, "Signature"), expected);
        assert!(!format!("{:?}", h.requests()).contains(SECRET));
    }

    /// `template_param` fills named variables (JSON-escaped), `param_max`
    /// cuts each; a template that is not a JSON object, a bad number or
    /// AccessKey ID is the user's to fix, before any request.
    #[test]
    fn template_variables_from_the_message() {
        let h = harness()
            .setting(
                "template_param",
                r#"{"name": "$title", "result": "$content"}"#,
            )
            .setting("param_max", "12")
            .reply(ok());
        h.send(&message("Deploy \"v2.1.0\"", "all 48 checks passed"))
            .unwrap();
        let f = fields(&h.on_the_wire()[0].body);
        assert_eq!(
            mcp_push_sdk::serde_json::from_str::<Value>(field(&f, "TemplateParam")).unwrap(),
            json!({"name": "Deploy \"v...", "result": "all 48 ch..."})
        );
        for (key, value) in [
            ("param_max", "0"),
            ("to", "138-00"),
            ("template_param", "$content"),
            ("access_key_id", "not an id!"),
        ] {
            let h = harness().setting(key, value);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{key}"
            );
            assert!(h.requests().is_empty());
        }
    }

    /// 1,000 numbers a request: 1,001 recipients are two requests.
    #[test]
    fn a_thousand_numbers_a_request() {
        let to: Vec<String> = (0..1001).map(|i| format!("1380000{i:04}")).collect();
        let h = harness()
            .setting("to", &to.join(","))
            .reply(ok())
            .reply(ok());
        h.send(&message("T", "B")).unwrap();
        let wire = h.on_the_wire();
        assert_eq!(wire.len(), 2);
        let count = |i: usize| {
            field(&fields(&wire[i].body), "PhoneNumbers")
                .split(',')
                .count()
        };
        assert_eq!((count(0), count(1)), (1000, 1));
    }

    fn error(status: u16, code: &str, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"Message": text, "RequestId": "8906582E-6722-409A-A6C4-0E7863B733A5", "Code": code}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, code, text) in [
            (200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名"),
            (200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"),
            (200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
            (200, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
            (200, "isv.DAY_LIMIT_CONTROL", "触发日发送限额"),
            (
                200,
                "isv.TEMPLATE_MISSING_PARAMETERS",
                "模板变量缺少对应参数值",
            ),
            (
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            ),
            (
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            ),
        ] {
            assert_eq!(
                outcome(error(status, code, text)),
                SendError::Rejected(format!("{code}: {text}")),
                "{code}"
            );
        }
        for (status, code) in [
            (200, "isv.BUSINESS_LIMIT_CONTROL"),
            (400, "Throttling.User"),
        ] {
            assert_eq!(
                outcome(error(status, code, "flow control")),
                SendError::RateLimited(None),
                "{code}"
            );
        }
        assert_eq!(
            outcome(error(200, "isp.SYSTEM_ERROR", "系统错误")),
            SendError::Unavailable("isp.SYSTEM_ERROR: 系统错误".into())
        );
        assert!(matches!(
            outcome(Reply::text(502, "bad gateway")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::json(200, json!({"RequestId": "x"}))),
            SendError::Unavailable(_)
        ));
    }
}
