//! Sinch SMS (`SINCH_SERVICE_PLAN_ID`, `SINCH_API_TOKEN`, `SINCH_FROM`,
//! `SINCH_TO`, `SINCH_REGION`; Apprise's `sinch://`).
//!
//! Sources: Sinch's SMS REST API reference (Batches, "Send": POST
//! `https://{region}.sms.api.sinch.com/xms/v1/{service_plan_id}/batches`,
//! `Authorization: Bearer {API token}`, JSON `{from, to: [...], body}` with
//! `body` at most 2,000 characters (its OpenAPI description, as Sinch's
//! generated SDKs carry it), the numbers in E.164; 201 Created with the
//! batch and its `id`; the regions `us`, `eu`, `au`, `br` and `ca`); its
//! status-code page (400 and 403 with `{code, text}`: `syntax_invalid_json`,
//! `syntax_invalid_parameter_format`, `syntax_constraint_violation`;
//! `blocked_account`, `illegal_number_type`, `missing_service`…; 401 for a
//! wrong token, 404, 429, 5xx); Sinch's message-parts guide (160/153 GSM-7
//! characters a part, 70/67 UCS-2); Apprise's `sinch.py`
//! (`sinch://SERVICE_PLAN_ID:API_TOKEN@FROM[/TO...]`, `?region=us|eu`,
//! `?spi=`, `?token=`, `?from=`, `?to=`; the sender texted when no one is
//! named). The `SINCH_*` names are mcp-push's own, after Sinch's terms.
//!
//! Where the sources differ: Apprise sends a batch per recipient; a batch
//! takes every recipient (`to` is a list), so one request is sent and a
//! retry cannot text anyone twice. Apprise knows the `us` and `eu` regions;
//! the reference also has `au`, `br` and `ca`, offered too. Apprise cuts
//! the body at 160 characters; here at the reference's 2,000.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::sms::{self, Budget};

struct Sinch;

const REGIONS: &[&str] = &["us", "eu", "au", "br", "ca"];

/// `body`: at most 2,000 characters.
const BUDGET: Budget = Budget::chars(2000);

impl Channel for Sinch {
    fn info() -> ChannelInfo {
        let mut info = ChannelInfo::new(
            "sinch",
            "Sinch",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS through Sinch's SMS REST API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("service_plan_id", "The service plan ID")
                .env(&["SINCH_SERVICE_PLAN_ID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("api_token", "The service plan's API token")
                .env(&["SINCH_API_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender: a Sinch number (E.164), a short code or an alphanumeric sender ID",
            )
            .env(&["SINCH_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients in E.164, separated by `,` or `;`; default: the sender's number",
            )
            .env(&["SINCH_TO"]),
        )
        .setting(
            Setting::new("region", "The service plan's region: us, eu, au, br or ca")
                .env(&["SINCH_REGION"])
                .default_value("us"),
        )
        .setting(
            Setting::new(
                "api_url",
                "API base URL instead of the region's, for a proxy or tests",
            )
            .env(&["SINCH_API_URL"]),
        )
        .allow_host("setting:api_url")
        .schemes(&["sinch"]);
        for region in REGIONS {
            info = info.allow_host(&format!("{region}.sms.api.sinch.com"));
        }
        info
    }

    /// `sinch://SERVICE_PLAN_ID:API_TOKEN@FROM[/TO...][?region=&to=&from=]`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["sinch"])?;
        let form = "sinch://SERVICE_PLAN_ID:API_TOKEN@FROM[/TO...]";
        let plan = u.param("spi").map(String::from).or_else(|| u.user.clone());
        let token = u
            .param("token")
            .map(String::from)
            .or_else(|| u.password.clone());
        let (Some(plan), Some(token)) = (plan, token) else {
            return Err(format!(
                "sinch:// needs the service plan ID and API token: {form}"
            ));
        };
        let (from, to) = u.sms_parties();
        let Some(from) = from else {
            return Err(format!("sinch:// needs the sender: {form}"));
        };
        if let Some(region) = u.param("region") {
            region_of(Some(region)).map_err(refusal)?;
        }
        Pairs::new()
            .set("service_plan_id", plan)
            .set("api_token", token)
            .set("from", from)
            .maybe("to", to)
            .maybe("region", u.param("region").map(str::to_ascii_lowercase))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let plan = settings.require("service_plan_id")?;
        let from = sms::sender(settings, "from")?;
        let to: Vec<String> = sms::recipients(settings, &from)?
            .iter()
            .map(|p| p.e164())
            .collect();
        let base = match settings.get("api_url") {
            Some(_) => settings.base_url("api_url", "")?,
            None => format!(
                "https://{}.sms.api.sinch.com",
                region_of(settings.get("region"))?
            ),
        };
        let reply = Request::post(format!("{base}/xms/v1/{plan}/batches"))
            .bearer(settings.require("api_token")?)
            .json(&json!({
                "from": from.e164(),
                "to": to,
                "body": sms::text(msg, BUDGET),
            }))
            .send()?;
        // Success is 201 with the batch's `id`; 400 and 403 say why in
        // `text` (under a `code`), other refusals in `error.message` or not
        // at all.
        if !reply.is_success() {
            let said = reply
                .json()
                .ok()
                .and_then(|v| id_at(&v, "text").or_else(|| id_at(&v, "error.message")));
            let why = format!(
                "HTTP {}: {}",
                reply.status,
                said.unwrap_or_else(|| reply.snippet())
            );
            return Err(match reply.status_error() {
                SendError::Rejected(_) => SendError::Rejected(why),
                SendError::Unavailable(_) => SendError::Unavailable(why),
                other => other,
            });
        }
        let batch = reply.json()?;
        match id_at(&batch, "id") {
            Some(id) => Ok(Receipt::id(id)),
            None => Err(SendError::Unavailable(format!(
                "HTTP {}: expected the batch's id, got {}",
                reply.status,
                reply.snippet()
            ))),
        }
    }
}

fn region_of(given: Option<&str>) -> Result<&'static str, SendError> {
    let given = given.unwrap_or("us").trim();
    REGIONS
        .iter()
        .find(|r| r.eq_ignore_ascii_case(given))
        .copied()
        .ok_or_else(|| {
            SendError::Config(format!(
                "setting `region` must be one of {}, not {given:?}",
                REGIONS.join(", ")
            ))
        })
}

export_channel!(Sinch);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const PLAN: &str = "jd63jf88477ll123ab4567cd89012ef3";
    const TOKEN: &str = "5f2c9b1e8d7a6f4e3c2b1a0f9e8d7c6b";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Sinch>();
    }

    #[test]
    fn parses_apprise_sinch_urls() {
        assert_eq!(
            Sinch::parse_url(&format!(
                "sinch://{PLAN}:{TOKEN}@15550100100/15550100123/15550100124?region=EU"
            ))
            .unwrap(),
            pairs(&[
                ("service_plan_id", PLAN),
                ("api_token", TOKEN),
                ("from", "15550100100"),
                ("to", "15550100123,15550100124"),
                ("region", "eu"),
            ])
        );
        assert_eq!(
            Sinch::parse_url(&format!(
                "sinch://?spi={PLAN}&token={TOKEN}&from=12345&to=15550100123"
            ))
            .unwrap(),
            pairs(&[
                ("service_plan_id", PLAN),
                ("api_token", TOKEN),
                ("from", "12345"),
                ("to", "15550100123"),
            ])
        );
        assert!(
            Sinch::parse_url(&format!("sinch://{PLAN}:{TOKEN}@15550100100?region=mars")).is_err()
        );
        assert!(Sinch::parse_url(&format!("sinch://{PLAN}:{TOKEN}@")).is_err());
        assert!(Sinch::parse_url("sinch://15550100100").is_err());
    }

    fn created(id: &str) -> Reply {
        Reply::json(
            201,
            json!({"id": id, "from": "+15550100100", "to": ["15550100123"], "body": "B",
                   "type": "mt_text", "canceled": false, "delivery_report": "none",
                   "created_at": "2020-01-14T01:05:20.694Z"}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<Sinch>()
            .setting("service_plan_id", PLAN)
            .setting("api_token", TOKEN)
            .setting("from", "+1 555 010 0100")
    }

    /// The documented request: one batch to the region's host with every
    /// recipient, Bearer token (only on the wire), numbers in E.164; 201
    /// with the batch's id is success.
    #[test]
    fn posts_one_batch_with_every_recipient() {
        let h = harness()
            .setting("to", "+1 555 010 0123; +44 7700 900000")
            .reply(created("01FC66621XXXXX119Z8PMV1QPQ"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("01FC66621XXXXX119Z8PMV1QPQ")
        );
        let req = &h.requests()[0];
        assert!(!req.url.contains(PLAN));
        assert_eq!(
            req.json(),
            json!({"from": "+15550100100", "to": ["+15550100123", "+447700900000"],
                   "body": "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7"})
        );
        let wire = &h.on_the_wire()[0];
        assert_eq!(
            wire.url,
            format!("https://us.sms.api.sinch.com/xms/v1/{PLAN}/batches")
        );
        assert_eq!(
            wire.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    #[test]
    fn regions_short_codes_and_the_sender_itself() {
        let h = harness().setting("region", "EU").reply(created("b1"));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(
            h.on_the_wire()[0].url,
            format!("https://eu.sms.api.sinch.com/xms/v1/{PLAN}/batches")
        );
        assert_eq!(h.requests()[0].json()["to"], json!(["+15550100100"]));
        let h = harness()
            .setting("from", "12345")
            .setting("to", "+15550100123")
            .reply(created("b1"));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(h.requests()[0].json()["from"], "12345");
        for (key, value) in [("region", "mars"), ("from", "a@b")] {
            let h = harness().setting("to", "+15550100123").setting(key, value);
            assert!(matches!(
                h.send(&message("T", "B")),
                Err(SendError::Config(_))
            ));
            assert!(h.requests().is_empty());
        }
        let h = harness().setting("from", "12345");
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
    }

    #[test]
    fn cuts_the_body_at_2000_characters() {
        let h = harness().reply(created("b1")).reply(created("b2"));
        h.send(&message("", &"word ".repeat(500))).unwrap();
        let body = h.requests()[0].json()["body"].as_str().unwrap().to_string();
        assert_eq!(body.chars().count(), 2000);
        assert!(body.ends_with("..."));
        h.send(&message("", &"完成".repeat(1200))).unwrap();
        let body = h.requests()[1].json()["body"].as_str().unwrap().to_string();
        assert_eq!(body.chars().count(), 2000);
        assert!(body.ends_with('…'));
    }

    fn coded(status: u16, code: &str, text: &str) -> Reply {
        Reply::json(status, json!({"code": code, "text": text}))
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, code, text) in [
            (400, "syntax_invalid_json", "The JSON input is invalid"),
            (
                400,
                "syntax_invalid_parameter_format",
                "Invalid MSISDN format in 'to'",
            ),
            (400, "syntax_constraint_violation", "body must not be empty"),
            (403, "blocked_account", "The account is blocked"),
            (403, "illegal_number_type", "Illegal number type"),
        ] {
            assert_eq!(
                outcome(coded(status, code, text)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(Reply::text(401, "")),
            SendError::Rejected("HTTP 401: an empty body".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"error": {"code": 400, "message": "parsing field \"type\": \"XXX\" is not a valid value",
                                 "status": "INVALID_ARGUMENT", "details": []}})
            )),
            SendError::Rejected(
                "HTTP 400: parsing field \"type\": \"XXX\" is not a valid value".into()
            )
        );
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "3")),
            SendError::RateLimited(Some(3))
        );
        assert!(matches!(
            outcome(Reply::text(503, "Service Unavailable")),
            SendError::Unavailable(m) if m == "HTTP 503: Service Unavailable"
        ));
        assert!(matches!(
            outcome(Reply::json(201, json!({"to": []}))),
            SendError::Unavailable(_)
        ));
    }
}
