//! ClickSend SMS (`CLICKSEND_USERNAME`, `CLICKSEND_API_KEY`,
//! `CLICKSEND_TO`, `CLICKSEND_FROM`; Apprise's `clicksend://`).
//!
//! Sources: ClickSend's REST v3 docs (Basic auth with the API username and
//! API key; "Send SMS": POST `https://rest.clicksend.com/v3/sms/send`, JSON
//! `{messages: [{body, to, from?, source?}]}`, `to` in E.164, `from` a
//! dedicated number, alpha tag or own number, else a shared number; a 200
//! `{http_code, response_code: "SUCCESS", response_msg, data: {total_count,
//! queued_count, messages: [{to, message_id, message_parts, status}],
//! blocked_count}}` whose `status` per message "reflects the actual status
//! of the individual message"; the status codes 400 BAD_REQUEST, 401
//! UNAUTHORIZED, 403 FORBIDDEN, 404 NOT_FOUND, 405, 429 TOO_MANY_REQUESTS,
//! 500 INTERNAL_SERVER_ERROR with the same envelope); the HTTP v2 API's
//! table of the per-message outcomes (Success, Missing credentials, Account
//! not activated, Invalid recipient, Throttled "try again in a few
//! seconds", Invalid sender id, Low credit, Invalid credentials, Empty
//! message, Too many recipients, Internal error), whose v3 names
//! (`INVALID_RECIPIENT`, `THROTTLED`, `INSUFFICIENT_CREDIT`…) are written
//! from memory; the send docs' 160 GSM / 70 Unicode characters a part;
//! Apprise's `clicksend.py` (`clicksend://USER:API_KEY@TO[/TO...]`, `?key=`,
//! `?to=`; a request per recipient unless `?batch=yes`). The
//! `CLICKSEND_*` names are mcp-push's own.
//!
//! Where the sources differ: Apprise sends one request per recipient unless
//! asked to batch; the API takes a list, so every recipient goes in one
//! request (a retry cannot text anyone twice). Apprise's `source` is `php`;
//! here it names mcp-push, as the docs ask ("the name of your
//! application"). Apprise cuts at 160 characters; the docs give no maximum
//! of parts, so the text is cut at 8 parts (1,224 GSM-7 / 536 UCS-2
//! characters), the most ClickSend's dashboard sends as one message (from
//! memory).

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::Value;
use mcp_push_sdk::sms::{self, Budget};

struct ClickSend;

const OFFICIAL: &str = "https://rest.clicksend.com";

const BUDGET: Budget = Budget::parts(8);

impl Channel for ClickSend {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "clicksend",
            "ClickSend",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS through ClickSend's REST API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("username", "The API username")
                .env(&["CLICKSEND_USERNAME"])
                .required(),
        )
        .setting(
            Setting::new("api_key", "The API key")
                .env(&["CLICKSEND_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("to", "Recipients in E.164, separated by `,` or `;`")
                .env(&["CLICKSEND_TO"])
                .required(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender: a dedicated or own number (E.164) or an alpha tag; default: the account's",
            )
            .env(&["CLICKSEND_FROM"]),
        )
        .setting(Setting::api_url("CLICKSEND_API_URL", OFFICIAL))
        .allow_host("rest.clicksend.com")
        .allow_host("setting:api_url")
        .schemes(&["clicksend"])
    }

    /// `clicksend://USER:API_KEY@TO[/TO...][?key=&to=]`: the host is a
    /// recipient, not a sender.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["clicksend"])?;
        let form = "clicksend://USER:API_KEY@TO[/TO...]";
        let key = u
            .param("key")
            .map(String::from)
            .or_else(|| u.password.clone());
        let (Some(user), Some(key)) = (u.user.clone(), key) else {
            return Err(format!(
                "clicksend:// needs the username and API key: {form}"
            ));
        };
        let to = u.sms_targets();
        if to.is_empty() {
            return Err(format!("clicksend:// needs a recipient: {form}"));
        }
        Pairs::new()
            .set("username", user)
            .set("api_key", key)
            .set("to", to.join(","))
            .maybe("from", u.param("from"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let to = sms::phones(settings, "to")?;
        if to.is_empty() {
            return Err(SendError::Config("setting `to` is missing".into()));
        }
        let from = match settings.get("from") {
            Some(_) => Some(sms::sender(settings, "from")?.e164()),
            None => None,
        };
        let body = sms::text(msg, BUDGET);
        let messages: Vec<Value> = to
            .iter()
            .map(|phone| {
                let mut m = json!({"body": body, "to": phone.e164(), "source": "mcp-push"});
                if let Some(from) = &from {
                    m["from"] = json!(from);
                }
                m
            })
            .collect();
        let reply = Request::post(format!(
            "{}/v3/sms/send",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .basic_auth(settings.require("username")?, settings.require("api_key")?)
        .json(&json!({ "messages": messages }))
        .send()?;
        judge(&reply, to.len())
    }
}

/// Success is a 200 with `response_code` `SUCCESS`; then each message's
/// own `status` says whether it went: none queued is a refusal naming them
/// (or a rate limit when ClickSend throttled them all), some refused is a
/// warning. Anything else is the status's usual meaning, said in
/// `response_msg`.
fn judge(reply: &Response, total: usize) -> Result<Receipt, SendError> {
    let body: Option<Value> = mcp_push_sdk::serde_json::from_slice(&reply.body).ok();
    if !reply.is_success() {
        return Err(reply.status_error_at("response_msg"));
    }
    let Some(body) = body else {
        return Err(SendError::Unavailable(format!(
            "HTTP {}: expected JSON, got {}",
            reply.status,
            reply.snippet()
        )));
    };
    if body["response_code"] != "SUCCESS" {
        return Err(SendError::Rejected(format!(
            "{}: {}",
            body["response_code"].as_str().unwrap_or("no response_code"),
            body["response_msg"].as_str().unwrap_or_default()
        )));
    }
    let messages = body["data"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let status = |m: &Value| m["status"].as_str().unwrap_or("no status").to_string();
    let refused: Vec<&Value> = messages.iter().filter(|m| status(m) != "SUCCESS").collect();
    if !messages.is_empty() && refused.len() == messages.len() {
        if refused.iter().all(|m| status(m) == "THROTTLED") {
            return Err(SendError::RateLimited(None));
        }
        if refused.iter().all(|m| status(m) == "INTERNAL_ERROR") {
            return Err(SendError::Unavailable("ClickSend: INTERNAL_ERROR".into()));
        }
    }
    let failed: Vec<String> = refused
        .iter()
        .map(|m| format!("{} ({})", m["to"].as_str().unwrap_or("?"), status(m)))
        .collect();
    mcp_push_sdk::reply::per_recipient("ClickSend", total.max(messages.len()), failed)?;
    Ok(Receipt::maybe(
        messages
            .iter()
            .find(|m| status(m) == "SUCCESS")
            .and_then(|m| id_at(m, "message_id")),
    ))
}

export_channel!(ClickSend);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "A1B2C3D4-E5F6-A7B8-C9D0-E1F2A3B4C5D6";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<ClickSend>();
    }

    #[test]
    fn parses_apprise_clicksend_urls() {
        assert_eq!(
            ClickSend::parse_url(&format!("clicksend://ops:{KEY}@15550100123/447700900000"))
                .unwrap(),
            pairs(&[
                ("username", "ops"),
                ("api_key", KEY),
                ("to", "15550100123,447700900000"),
            ])
        );
        assert_eq!(
            ClickSend::parse_url(&format!(
                "clicksend://ops@15550100123?key={KEY}&to=15550100124&from=AcmeCI"
            ))
            .unwrap(),
            pairs(&[
                ("username", "ops"),
                ("api_key", KEY),
                ("to", "15550100123,15550100124"),
                ("from", "AcmeCI"),
            ])
        );
        assert!(ClickSend::parse_url(&format!("clicksend://ops:{KEY}@")).is_err());
        assert!(ClickSend::parse_url("clicksend://ops@15550100123").is_err());
    }

    fn sent(statuses: &[(&str, &str)]) -> Reply {
        let messages: Vec<Value> = statuses
            .iter()
            .enumerate()
            .map(|(i, (to, status))| {
                json!({"direction": "out", "to": to, "body": "B", "from": "+61431111112",
                       "message_id": format!("1ABC3200-C38C-6308-BE4B-C7C51D01DCF{i}"),
                       "message_parts": 1, "message_price": 0.0792, "status": status})
            })
            .collect();
        Reply::json(
            200,
            json!({"http_code": 200, "response_code": "SUCCESS",
                   "response_msg": "Messages queued for delivery.",
                   "data": {"total_price": 0.0792, "total_count": statuses.len(),
                            "queued_count": statuses.len(), "messages": messages,
                            "blocked_count": 0}}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<ClickSend>()
            .setting("username", "ops")
            .setting("api_key", KEY)
            .setting("to", "+1 555 010 0123; +44 7700 900000")
    }

    /// The documented request: one JSON request with a message per
    /// recipient, Basic auth user:key (only on the wire); a 200 `SUCCESS`
    /// whose messages all say `SUCCESS` is success.
    #[test]
    fn posts_every_message_in_one_request() {
        let h = harness().setting("from", "AcmeCI").reply(sent(&[
            ("+15550100123", "SUCCESS"),
            ("+447700900000", "SUCCESS"),
        ]));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("1ABC3200-C38C-6308-BE4B-C7C51D01DCF0")
        );
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://rest.clicksend.com/v3/sms/send");
        let text = "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7";
        assert_eq!(
            req.json(),
            json!({"messages": [
                {"body": text, "to": "+15550100123", "source": "mcp-push", "from": "AcmeCI"},
                {"body": text, "to": "+447700900000", "source": "mcp-push", "from": "AcmeCI"},
            ]})
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(
                format!(
                    "Basic {}",
                    mcp_push_sdk::encode::base64(format!("ops:{KEY}").as_bytes())
                )
                .as_str()
            )
        );
        // No `from`: ClickSend picks the account's sender.
        let h = harness().reply(sent(&[("+15550100123", "SUCCESS")]));
        h.send(&message("T", "B")).unwrap();
        assert!(h.requests()[0].json()["messages"][0].get("from").is_none());
        for (key, value) in [("to", ""), ("to", "0100"), ("from", "not a sender!")] {
            let h = harness().setting(key, value);
            assert!(matches!(
                h.send(&message("T", "B")),
                Err(SendError::Config(_))
            ));
            assert!(h.requests().is_empty());
        }
    }

    /// 8 parts at most: 1,224 GSM-7 characters (cut with `...`), 536 UCS-2.
    #[test]
    fn cuts_the_text_at_eight_parts() {
        let h = harness()
            .setting("to", "+15550100123")
            .reply(sent(&[("+15550100123", "SUCCESS")]))
            .reply(sent(&[("+15550100123", "SUCCESS")]));
        h.send(&message("", &"word ".repeat(400))).unwrap();
        let body = h.requests()[0].json()["messages"][0]["body"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(body.chars().count(), 1224);
        assert!(body.ends_with("..."));
        assert_eq!(sms::segments(&body), 8);
        h.send(&message("", &"完成".repeat(400))).unwrap();
        let body = h.requests()[1].json()["messages"][0]["body"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(body.chars().count(), 536);
        assert_eq!(sms::segments(&body), 8);
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_outcome_maps_to_what_to_do_next() {
        // Per message: all refused is a refusal naming them.
        assert_eq!(
            outcome(sent(&[
                ("+15550100123", "INVALID_RECIPIENT"),
                ("+447700900000", "INSUFFICIENT_CREDIT"),
            ])),
            SendError::Rejected(
                "ClickSend delivered to no recipient: +15550100123 (INVALID_RECIPIENT), \
                 +447700900000 (INSUFFICIENT_CREDIT)"
                    .into()
            )
        );
        assert_eq!(
            outcome(sent(&[
                ("+15550100123", "THROTTLED"),
                ("+447700900000", "THROTTLED")
            ])),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(sent(&[
                ("+15550100123", "INTERNAL_ERROR"),
                ("+447700900000", "INTERNAL_ERROR")
            ])),
            SendError::Unavailable(_)
        ));
        // Some delivered: a delivery, with a warning naming the others.
        let h = harness().reply(sent(&[
            ("+15550100123", "SUCCESS"),
            ("+447700900000", "INVALID_RECIPIENT"),
        ]));
        h.send(&message("T", "B")).unwrap();
        assert!(
            h.logs()
                .iter()
                .any(|l| l.contains("+447700900000 (INVALID_RECIPIENT)")),
            "{:?}",
            h.logs()
        );
        // The envelope's statuses.
        let envelope = |status: u16, code: &str, text: &str| {
            Reply::json(
                status,
                json!({"http_code": status, "response_code": code, "response_msg": text, "data": null}),
            )
        };
        for (status, code, text) in [
            (401, "UNAUTHORIZED", "Unauthorized - Invalid Token."),
            (400, "BAD_REQUEST", "Invalid request."),
            (
                403,
                "FORBIDDEN",
                "You don't have permission to access this resource.",
            ),
        ] {
            assert_eq!(
                outcome(envelope(status, code, text)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(
                envelope(429, "TOO_MANY_REQUESTS", "Too many requests.").header("retry-after", "2")
            ),
            SendError::RateLimited(Some(2))
        );
        assert!(matches!(
            outcome(envelope(500, "INTERNAL_SERVER_ERROR", "Internal server error.")),
            SendError::Unavailable(m) if m == "HTTP 500: Internal server error."
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>proxy</html>")),
            SendError::Unavailable(_)
        ));
    }
}
