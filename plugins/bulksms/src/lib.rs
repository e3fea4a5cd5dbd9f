//! BulkSMS (`BULKSMS_USERNAME` or `BULKSMS_TOKEN_ID`, `BULKSMS_PASSWORD` or
//! `BULKSMS_TOKEN_SECRET`, `BULKSMS_TO`; Apprise's `bulksms://`).
//!
//! Sources: BulkSMS's JSON REST API reference (its OpenAPI document, v1:
//! POST `https://api.bulksms.com/v1/messages`, HTTP Basic auth with the
//! username and password or an API token's id and secret; a
//! `SubmissionEntry` `{to: [...], body, from?, encoding?, routingGroup?,
//! longMessageMaxParts?}` where `to` takes E.164 numbers or `{type: GROUP,
//! name}`, `encoding` `UNICODE` for text outside GSM 03.38 (else TEXT),
//! `longMessageMaxParts` "the maximum number of message parts … The default
//! is 3"; the query's `deduplication-id`, an integer that makes a retried
//! submission "indistinguishable … from a non-duplicated submission" for
//! about 12 hours; 201 with one `Message` per recipient, each with `id` and
//! `status.type` `ACCEPTED` or `SCHEDULED` (else `FAILED` and a
//! `subtype`); errors `{type, title, status, detail}`: 400 Bad Request, 401,
//! 403 "Insufficient Credits"); Apprise's `bulksms.py`
//! (`bulksms://USER:PASSWORD@TO[/TO...]`, `@Group` for a phonebook group,
//! `?from=`, `?route=ECONOMY|STANDARD|PREMIUM`, `?to=`). The `BULKSMS_*`
//! names are mcp-push's own.
//!
//! Where the sources differ: Apprise sends a request per recipient unless
//! `?batch=yes`; the API takes a list, so every recipient goes in one
//! submission, and its `deduplication-id` is derived from the delivery, so
//! a retry after a lost reply never texts anyone twice. Apprise sends every
//! text as UNICODE by default (`?unicode=yes`), which costs more than
//! twice the parts for plain text; here `UNICODE` is sent only when the
//! text needs it. Apprise cuts at 160 characters; here the text is cut to
//! the parts allowed (`max_parts`, default the API's 3) and the same
//! number is sent as `longMessageMaxParts`.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::Value;
use mcp_push_sdk::sms::{self, Budget, Encoding};

struct BulkSms;

const OFFICIAL: &str = "https://api.bulksms.com";

const ROUTES: &[&str] = &["ECONOMY", "STANDARD", "PREMIUM"];

impl Channel for BulkSms {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "bulksms",
            "BulkSMS",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS through BulkSMS's JSON REST API",
        )
        .formats(&["text"])
        .setting(
            // Secret: an API token's id is half of the credential.
            Setting::new("user", "The username, or an API token's id")
                .env(&["BULKSMS_USERNAME", "BULKSMS_TOKEN_ID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("password", "The password, or the API token's secret")
                .env(&["BULKSMS_PASSWORD", "BULKSMS_TOKEN_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients in E.164, or @Group for a phonebook group, separated by `,` or `;`",
            )
            .env(&["BULKSMS_TO"])
            .required(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender: a number (E.164), a short code or an alphanumeric sender ID; default: the account's",
            )
            .env(&["BULKSMS_FROM"]),
        )
        .setting(
            Setting::new("route", "The routing group: ECONOMY, STANDARD or PREMIUM")
                .env(&["BULKSMS_ROUTE"]),
        )
        .setting(
            Setting::new("max_parts", "The most SMS parts one message may take")
                .env(&["BULKSMS_MAX_PARTS"])
                .default_value("3"),
        )
        .setting(Setting::api_url("BULKSMS_API_URL", OFFICIAL))
        .allow_host("api.bulksms.com")
        .allow_host("setting:api_url")
        .schemes(&["bulksms"])
    }

    /// `bulksms://USER:PASSWORD@TO[/TO...][?from=&route=&to=]`: the host is
    /// a recipient; `@Name` a phonebook group.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        // A group in the host position (`@Ops`) would read as userinfo;
        // Apprise's form puts groups in the path or `?to=` as well.
        let u = OneLine::parse(url, &["bulksms"])?;
        let form = "bulksms://USER:PASSWORD@TO[/TO...]";
        let (Some(user), Some(password)) = (u.user.clone(), u.password.clone()) else {
            return Err(format!(
                "bulksms:// needs the username and password: {form}"
            ));
        };
        let to = u.sms_targets();
        if to.is_empty() {
            return Err(format!("bulksms:// needs a recipient: {form}"));
        }
        if let Some(route) = u.param("route") {
            route_of(route).map_err(refusal)?;
        }
        Pairs::new()
            .set("user", user)
            .set("password", password)
            .set("to", to.join(","))
            .maybe("from", u.param("from"))
            .maybe("route", u.param("route").map(str::to_ascii_uppercase))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let to = recipients(settings)?;
        let parts = match settings.parse::<usize>("max_parts")? {
            Some(n) if (1..=99).contains(&n) => n,
            None => 3,
            Some(n) => {
                return Err(SendError::Config(format!(
                    "setting `max_parts` must be 1 to 99, not {n}"
                )));
            }
        };
        let body = sms::text(msg, Budget::parts(parts));
        let mut entry = json!({
            "to": to,
            "body": body,
            "longMessageMaxParts": parts,
        });
        if Encoding::of(&body) == Encoding::Ucs2 {
            entry["encoding"] = json!("UNICODE");
        }
        if settings.get("from").is_some() {
            entry["from"] = json!(sms::sender(settings, "from")?.e164());
        }
        if let Some(route) = settings.get("route") {
            entry["routingGroup"] = json!(route_of(route)?);
        }
        let reply = Request::post(format!(
            "{}/v1/messages",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .query(&[("deduplication-id", dedup_id(&delivery::key()).to_string())])
        .basic_auth(settings.require("user")?, settings.require("password")?)
        .json(&json!([entry]))
        .send()?;
        // Success is 201 with the messages created, each ACCEPTED (or
        // SCHEDULED); a refusal says why in `detail`, else `title`.
        if !reply.is_success() {
            let said = reply.json().ok().and_then(|v| {
                id_at(&v, "detail")
                    .map(|d| d.trim().to_string())
                    .or_else(|| id_at(&v, "title"))
            });
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
        let messages = reply.json()?.as_array().cloned().unwrap_or_default();
        let kind = |m: &Value| m["status"]["type"].as_str().unwrap_or("?").to_string();
        let failed: Vec<String> = messages
            .iter()
            .filter(|m| {
                !matches!(
                    kind(m).as_str(),
                    "ACCEPTED" | "SCHEDULED" | "SENT" | "DELIVERED"
                )
            })
            .map(|m| {
                format!(
                    "{} ({})",
                    m["to"].as_str().unwrap_or("?"),
                    m["status"]["id"].as_str().unwrap_or("?")
                )
            })
            .collect();
        if messages.is_empty() {
            return Err(SendError::Unavailable(format!(
                "HTTP {}: expected the messages created, got {}",
                reply.status,
                reply.snippet()
            )));
        }
        mcp_push_sdk::reply::per_recipient("BulkSMS", messages.len(), failed)?;
        Ok(Receipt::maybe(
            messages
                .iter()
                .find(|m| kind(m) != "FAILED")
                .and_then(|m| id_at(m, "id")),
        ))
    }
}

/// `to` as the API takes it: numbers in E.164, `@Name` as a group.
fn recipients(settings: &Settings) -> Result<Vec<Value>, SendError> {
    let mut out = Vec::new();
    for item in settings.list("to", &[',', ';', '\n']) {
        match item.strip_prefix('@') {
            Some(group) if !group.trim().is_empty() => {
                out.push(json!({"type": "GROUP", "name": group.trim()}));
            }
            _ => {
                let phone = sms::Phone::parse(item)
                    .map_err(|why| SendError::Config(format!("`to`: {why}")))?;
                out.push(json!(phone.e164()));
            }
        }
    }
    if out.is_empty() {
        return Err(SendError::Config("setting `to` is missing".into()));
    }
    Ok(out)
}

fn route_of(given: &str) -> Result<&'static str, SendError> {
    ROUTES
        .iter()
        .find(|r| r.eq_ignore_ascii_case(given.trim()))
        .copied()
        .ok_or_else(|| {
            SendError::Config(format!(
                "setting `route` must be one of {}, not {given:?}",
                ROUTES.join(", ")
            ))
        })
}

/// The delivery's key as the positive 31-bit integer `deduplication-id`
/// takes (FNV-1a): the same on every attempt of a delivery.
fn dedup_id(key: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in key.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash & 0x7fff_ffff
}

export_channel!(BulkSms);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const PASSWORD: &str = "9jSbVDK20!MXdfRGiIIFu#ffUE8*S";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<BulkSms>();
    }

    #[test]
    fn parses_apprise_bulksms_urls() {
        assert_eq!(
            BulkSms::parse_url("bulksms://ops:s3cret@15550100123/447700900000/%40Everyone?route=premium&from=AcmeCI")
                .unwrap(),
            pairs(&[
                ("user", "ops"),
                ("password", "s3cret"),
                ("to", "15550100123,447700900000,@Everyone"),
                ("from", "AcmeCI"),
                ("route", "PREMIUM"),
            ])
        );
        assert!(BulkSms::parse_url("bulksms://ops:s3cret@").is_err());
        assert!(BulkSms::parse_url("bulksms://ops@15550100123").is_err());
        assert!(BulkSms::parse_url("bulksms://ops:s3cret@15550100123?route=fast").is_err());
    }

    fn created(list: &[(&str, &str)]) -> Reply {
        let messages: Vec<Value> = list
            .iter()
            .enumerate()
            .map(|(i, (to, status))| {
                let (kind, sub) = status.split_once('.').unwrap_or((status, "null"));
                json!({"id": format!("40234576{i}"), "type": "SENT", "from": "", "to": to,
                       "body": null, "encoding": "TEXT", "protocolId": 0, "messageClass": 2,
                       "submission": {"id": "1-00000000000522347562", "date": "2026-12-04T10:00:00Z"},
                       "status": {"id": format!("{kind}.{sub}"), "type": kind,
                                  "subtype": if sub == "null" { Value::Null } else { json!(sub) }}})
            })
            .collect();
        Reply::json(201, Value::Array(messages))
    }

    fn harness() -> Harness {
        Harness::new::<BulkSms>()
            .setting("user", "ops")
            .setting("password", PASSWORD)
            .setting("to", "+1 555 010 0123; @Everyone")
    }

    /// The documented request: one submission to every recipient (a group
    /// as `{type: GROUP}`), Basic auth (only on the wire), the delivery's
    /// `deduplication-id`, the API's 3 parts; 201 with ACCEPTED messages is
    /// success.
    #[test]
    fn posts_one_submission_for_every_recipient() {
        let h = harness()
            .setting("from", "AcmeCI")
            .setting("route", "economy")
            .reply(created(&[
                ("15550100123", "ACCEPTED"),
                ("15550100124", "ACCEPTED"),
            ]));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("402345760")
        );
        let req = &h.requests()[0];
        let id = dedup_id("harness-delivery-0");
        assert_eq!(
            req.url,
            format!("https://api.bulksms.com/v1/messages?deduplication-id={id}")
        );
        assert_eq!(
            req.json(),
            json!([{"to": ["+15550100123", {"type": "GROUP", "name": "Everyone"}],
                    "body": "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7",
                    "longMessageMaxParts": 3, "from": "AcmeCI", "routingGroup": "ECONOMY"}])
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(
                format!(
                    "Basic {}",
                    mcp_push_sdk::encode::base64(format!("ops:{PASSWORD}").as_bytes())
                )
                .as_str()
            )
        );
    }

    /// A retry carries the same `deduplication-id`; the next delivery
    /// another.
    #[test]
    fn a_retry_is_deduplicated_by_bulksms() {
        let h = harness()
            .reply(Reply::text(503, ""))
            .reply(created(&[("15550100123", "ACCEPTED")]))
            .reply(created(&[("15550100123", "ACCEPTED")]));
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Unavailable(_))
        ));
        h.send(&message("T", "B")).unwrap();
        h.send(&message("T", "B 2")).unwrap();
        let ids: Vec<String> = h
            .requests()
            .iter()
            .map(|r| r.query("deduplication-id").unwrap())
            .collect();
        assert_eq!(ids[0], ids[1]);
        assert_ne!(ids[1], ids[2]);
        assert!(ids.iter().all(|i| i.parse::<i32>().is_ok_and(|n| n >= 0)));
    }

    /// The text fits the parts it may take: 3 by default (459 GSM-7
    /// characters, cut with `...`), `max_parts` otherwise; UCS-2 text goes
    /// as UNICODE.
    #[test]
    fn cuts_the_text_to_the_parts_allowed() {
        let h = harness()
            .reply(created(&[("15550100123", "ACCEPTED")]))
            .reply(created(&[("15550100123", "ACCEPTED")]));
        h.send(&message("", &"word ".repeat(200))).unwrap();
        let entry = &h.requests()[0].json()[0];
        let body = entry["body"].as_str().unwrap();
        assert_eq!(body.chars().count(), 459);
        assert!(body.ends_with("..."));
        assert!(entry.get("encoding").is_none());
        let h = harness()
            .setting("max_parts", "2")
            .reply(created(&[("15550100123", "ACCEPTED")]));
        h.send(&message("部署", &"完成".repeat(200))).unwrap();
        let entry = &h.requests()[0].json()[0];
        assert_eq!(entry["encoding"], "UNICODE");
        assert_eq!(entry["longMessageMaxParts"], 2);
        assert_eq!(entry["body"].as_str().unwrap().encode_utf16().count(), 134);
        for (key, value) in [
            ("max_parts", "0"),
            ("route", "fast"),
            ("to", "12"),
            ("from", "a@b"),
        ] {
            let h = harness().setting(key, value);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{key}"
            );
            assert!(h.requests().is_empty());
        }
    }

    fn problem(status: u16, title: &str, detail: Option<&str>, kind: &str) -> Reply {
        let mut v = json!({"type": format!("https://developer.bulksms.com/json/v1/errors#{kind}"),
                           "title": title, "status": status});
        if let Some(d) = detail {
            v["detail"] = json!(d);
        }
        Reply::json(status, v)
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(problem(
                403,
                "Insufficient Credits",
                None,
                "insufficient-credits"
            )),
            SendError::Rejected("HTTP 403: Insufficient Credits".into())
        );
        assert_eq!(
            outcome(problem(
                400,
                "Bad Request",
                Some("The 'to' property is invalid\n"),
                "bad-request"
            )),
            SendError::Rejected("HTTP 400: The 'to' property is invalid".into())
        );
        assert_eq!(
            outcome(problem(
                401,
                "Authentication Failed",
                Some("Invalid credentials"),
                "authentication-failed"
            )),
            SendError::Rejected("HTTP 401: Invalid credentials".into())
        );
        assert_eq!(
            outcome(
                problem(429, "Too Many Requests", None, "too-many-requests")
                    .header("retry-after", "9")
            ),
            SendError::RateLimited(Some(9))
        );
        assert!(matches!(
            outcome(problem(500, "Internal Server Error", None, "internal")),
            SendError::Unavailable(m) if m == "HTTP 500: Internal Server Error"
        ));
        // Per message: all FAILED is a refusal naming them; some a warning.
        assert_eq!(
            outcome(created(&[("15550100123", "FAILED.BLOCKED"), ("15550100124", "FAILED.NOT_SENT")])),
            SendError::Rejected(
                "BulkSMS delivered to no recipient: 15550100123 (FAILED.BLOCKED), 15550100124 (FAILED.NOT_SENT)".into()
            )
        );
        let h = harness().reply(created(&[
            ("15550100123", "ACCEPTED"),
            ("15550100124", "FAILED.BLOCKED"),
        ]));
        h.send(&message("T", "B")).unwrap();
        assert!(
            h.logs()
                .iter()
                .any(|l| l.contains("15550100124 (FAILED.BLOCKED)")),
            "{:?}",
            h.logs()
        );
        assert!(matches!(
            outcome(Reply::json(201, json!([]))),
            SendError::Unavailable(_)
        ));
    }
}
