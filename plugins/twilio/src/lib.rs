//! Twilio SMS and WhatsApp (`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`,
//! `TWILIO_FROM`, `TWILIO_TO`; Apprise's `twilio://`).
//!
//! Sources: Twilio's Messages resource docs (POST
//! `https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! a form with `To`, `From` or `MessagingServiceSid`, and `Body` — "up to
//! 1,600 characters" —, HTTP Basic auth with the Account SID and Auth Token,
//! or an API key's SID and secret; `To` in E.164 or a channel address such
//! as `whatsapp:+15552229999`; 201 Created with the message's `sid` and
//! `status` `queued` or `accepted`); Twilio's error replies
//! `{code, message, more_info, status}` (20003 "Authenticate" with 401,
//! 21211 an invalid `To`, 21608 an unverified number on a trial account,
//! 21610 a recipient who opted out, 20429 "Too Many Requests" with 429);
//! Twilio's messaging character-limit glossary (160 GSM-7 / 70 UCS-2
//! characters a segment, 153 / 67 in a concatenated message); Apprise's
//! `twilio.py` (`twilio://SID:TOKEN@FROM[/TO...]` with `?to=`, `?from=`,
//! `?apikey=`; `w:` or `whatsapp:` before a number for WhatsApp, before the
//! sender for every recipient; the sender texted when no one is named).
//! `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` are the names Twilio's own
//! libraries and CLI read; `TWILIO_FROM`, `TWILIO_TO` and `TWILIO_API_KEY`
//! are mcp-push's own.
//!
//! Where the sources differ: Apprise cuts the body at 160 characters (one
//! segment); the docs take up to 1,600, so the text is cut there (`...`,
//! which keeps GSM-7 text GSM-7). Apprise drops a recipient it cannot read
//! and sends to the rest; here a number that is not E.164 is a
//! configuration error, so a typo is not silently skipped. Apprise's
//! `?method=call` (a voice call reading TwiML) is not offered: this channel
//! sends messages. A Messaging Service SID (`MG…`) as the sender, which the
//! docs allow and Apprise does not, is sent as `MessagingServiceSid`.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::sms::{self, Budget, Phone, Sender};

struct Twilio;

const OFFICIAL: &str = "https://api.twilio.com";

/// `Body`: "up to 1,600 characters" (the Messages resource).
const BUDGET: Budget = Budget::chars(1600);

impl Channel for Twilio {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "twilio",
            "Twilio",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS (or a WhatsApp message) through Twilio's Messages API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("account_sid", "The Account SID (AC…)")
                .env(&["TWILIO_ACCOUNT_SID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "auth_token",
                "The Auth Token (or, with `api_key`, that API key's secret)",
            )
            .env(&["TWILIO_AUTH_TOKEN"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender: a Twilio number (E.164), a short code, an alphanumeric sender ID, \
                 a Messaging Service SID (MG…), or whatsapp:+NUMBER",
            )
            .env(&["TWILIO_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients in E.164, separated by `,` or `;` (whatsapp:+NUMBER for WhatsApp); \
                 default: the sender's number",
            )
            .env(&["TWILIO_TO"]),
        )
        .setting(
            Setting::new(
                "api_key",
                "An API key's SID (SK…) to sign in with instead of the Account SID",
            )
            .env(&["TWILIO_API_KEY"])
            .secret(),
        )
        .setting(Setting::api_url("TWILIO_API_URL", OFFICIAL))
        .allow_host("api.twilio.com")
        .allow_host("setting:api_url")
        .schemes(&["twilio"])
    }

    /// `twilio://ACCOUNT_SID:AUTH_TOKEN@FROM[/TO...][?to=&from=&apikey=]`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["twilio"])?;
        let form = "twilio://ACCOUNT_SID:AUTH_TOKEN@FROM[/TO...]";
        let sid = u.param("sid").map(String::from).or_else(|| u.user.clone());
        let token = u
            .param("token")
            .map(String::from)
            .or_else(|| u.password.clone());
        let (Some(sid), Some(token)) = (sid, token) else {
            return Err(format!(
                "twilio:// needs the Account SID and Auth Token: {form}"
            ));
        };
        if u.param("method")
            .is_some_and(|m| !m.eq_ignore_ascii_case("sms"))
        {
            return Err(
                "twilio:// sends messages here; voice calls (?method=call) are not offered".into(),
            );
        }
        let (from, to) = u.sms_parties();
        let Some(from) = from else {
            return Err(format!("twilio:// needs the sender: {form}"));
        };
        Pairs::new()
            .set("account_sid", sid)
            .set("auth_token", token)
            .set("from", from)
            .maybe("to", to)
            .maybe("api_key", u.param("apikey"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let sid = settings.require("account_sid")?;
        let token = settings.require("auth_token")?;
        let from = Origin::parse(settings.require("from")?).map_err(config("from"))?;
        let to = recipients(settings, &from)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{sid}/Messages.json",
            settings.base_url("api_url", OFFICIAL)?
        );
        let user = settings.get("api_key").unwrap_or(sid);
        let body = sms::text(msg, BUDGET);
        let mut first = None;
        // One message per recipient (the API takes one `To`); a retry resumes
        // after the recipients already sent to.
        delivery::send_parts(&to, 0, |(whatsapp, phone)| {
            let to = address(*whatsapp, &phone.e164());
            let mut form = vec![("To", to), ("Body", body.clone())];
            form.push(match &from.sender {
                FromAddr::Service(mg) => ("MessagingServiceSid", mg.clone()),
                FromAddr::Sender(s) => ("From", address(*whatsapp, &s.e164())),
            });
            let reply = Request::post(&url)
                .basic_auth(user, token)
                .header("Accept", "application/json")
                .form(&form)
                .send()?;
            let sent = judge(&reply)?;
            first = first.take().or(sent);
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// Success is 201 Created (200 is read the same) with the message's `sid`;
/// a refusal is `{code, message, more_info, status}`: 429 or code 20429 is
/// Twilio's rate limit, 5xx its own trouble, anything else (20003
/// Authenticate, 21211 a bad `To`, 21610 an opted-out recipient) final.
fn judge(reply: &Response) -> Result<Option<String>, SendError> {
    let parsed =
        mcp_push_sdk::serde_json::from_slice::<mcp_push_sdk::serde_json::Value>(&reply.body).ok();
    if reply.is_success() {
        return match parsed.as_ref().and_then(|v| id_at(v, "sid")) {
            Some(sid) => Ok(Some(sid)),
            None => Err(SendError::Unavailable(format!(
                "HTTP {}: expected the message's sid, got {}",
                reply.status,
                reply.snippet()
            ))),
        };
    }
    let code = parsed.as_ref().and_then(|v| v["code"].as_i64());
    if reply.status == 429 || code == Some(20429) {
        return Err(SendError::RateLimited(reply.retry_after()));
    }
    let why = match (code, parsed.as_ref().and_then(|v| v["message"].as_str())) {
        (Some(code), Some(text)) => format!("HTTP {} (Twilio {code}): {text}", reply.status),
        _ => format!("HTTP {}: {}", reply.status, reply.snippet()),
    };
    Err(match reply.status_error() {
        SendError::Unavailable(_) => SendError::Unavailable(why),
        _ => SendError::Rejected(why),
    })
}

/// The sender as the form takes it, and whether it speaks WhatsApp.
struct Origin {
    sender: FromAddr,
    whatsapp: bool,
}

enum FromAddr {
    Sender(Sender),
    /// A Messaging Service SID: Twilio picks the number.
    Service(String),
}

impl Origin {
    fn parse(written: &str) -> Result<Origin, String> {
        let (whatsapp, rest) = channel_prefix(written);
        let rest = rest.trim();
        if rest.len() == 34
            && rest.starts_with("MG")
            && rest[2..].chars().all(|c| c.is_ascii_hexdigit())
        {
            if whatsapp {
                return Err("a Messaging Service SID takes no whatsapp: prefix".into());
            }
            return Ok(Origin {
                sender: FromAddr::Service(rest.to_string()),
                whatsapp,
            });
        }
        let sender = Sender::parse(rest)?;
        if whatsapp && sender.phone().is_none() {
            return Err(format!(
                "WhatsApp needs a number to send from, not {rest:?}"
            ));
        }
        Ok(Origin {
            sender: FromAddr::Sender(sender),
            whatsapp,
        })
    }
}

/// `whatsapp:` (or Apprise's `w:`) before a number means WhatsApp.
fn channel_prefix(written: &str) -> (bool, &str) {
    let s = written.trim();
    match s.split_once(':') {
        Some((mode, rest))
            if mode.eq_ignore_ascii_case("whatsapp") || mode.eq_ignore_ascii_case("w") =>
        {
            (true, rest)
        }
        _ => (false, s),
    }
}

fn address(whatsapp: bool, number: &str) -> String {
    if whatsapp {
        format!("whatsapp:{number}")
    } else {
        number.to_string()
    }
}

/// Each recipient with whether it gets WhatsApp (its own prefix, else the
/// sender's); with none named, the sender's own number.
fn recipients(settings: &Settings, from: &Origin) -> Result<Vec<(bool, Phone)>, SendError> {
    let mut out: Vec<(bool, Phone)> = Vec::new();
    for item in settings.list("to", &[',', ';', '\n']) {
        let (prefixed, number) = channel_prefix(item);
        let phone = Phone::parse(number).map_err(config("to"))?;
        let whatsapp = prefixed || from.whatsapp;
        if whatsapp && !matches!(&from.sender, FromAddr::Sender(s) if s.phone().is_some()) {
            return Err(SendError::Config(format!(
                "`to`: {item:?} is a WhatsApp recipient, which needs a number as the sender"
            )));
        }
        if !out.contains(&(whatsapp, phone.clone())) {
            out.push((whatsapp, phone));
        }
    }
    if out.is_empty() {
        match &from.sender {
            FromAddr::Sender(s) if s.phone().is_some() => {
                out.push((
                    from.whatsapp,
                    s.phone().cloned().unwrap_or_else(|| unreachable!()),
                ));
            }
            _ => {
                return Err(SendError::Config(
                    "set `to`: the sender has no number to text instead".into(),
                ));
            }
        }
    }
    Ok(out)
}

fn config(key: &'static str) -> impl Fn(String) -> SendError {
    move |why| SendError::Config(format!("`{key}`: {why}"))
}

export_channel!(Twilio);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const SID: &str = "AC3f2b8e0c1d4a5b6c7d8e9f0a1b2c3d4e";
    const TOKEN: &str = "9c1f0e2d3b4a59687766554433221100";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Twilio>();
    }

    #[test]
    fn parses_apprise_twilio_urls() {
        assert_eq!(
            Twilio::parse_url(&format!(
                "twilio://{SID}:{TOKEN}@15550100123/15550100124/15550100125"
            ))
            .unwrap(),
            pairs(&[
                ("account_sid", SID),
                ("auth_token", TOKEN),
                ("from", "15550100123"),
                ("to", "15550100124,15550100125"),
            ])
        );
        assert_eq!(
            Twilio::parse_url(&format!(
                "twilio://{SID}:{TOKEN}@?from=w:15550100123&to=15550100124&apikey=SK0123456789abcdef"
            ))
            .unwrap(),
            pairs(&[
                ("account_sid", SID),
                ("auth_token", TOKEN),
                ("from", "w:15550100123"),
                ("to", "15550100124"),
                ("api_key", "SK0123456789abcdef"),
            ])
        );
        assert!(Twilio::parse_url("twilio://15550100123").is_err());
        assert!(Twilio::parse_url(&format!("twilio://{SID}:{TOKEN}@")).is_err());
        assert!(
            Twilio::parse_url(&format!("twilio://{SID}:{TOKEN}@15550100123?method=call")).is_err()
        );
    }

    fn created(sid: &str) -> Reply {
        Reply::json(
            201,
            json!({"sid": sid, "status": "queued", "error_code": null, "num_segments": "1"}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<Twilio>()
            .setting("account_sid", SID)
            .setting("auth_token", TOKEN)
            .setting("from", "+1 555 010 0123")
    }

    /// The documented request: a form per recipient to the account's
    /// `Messages.json`, Basic auth SID:token (only on the wire), numbers in
    /// E.164; 201 with the message's sid is success.
    #[test]
    fn posts_the_documented_form_per_recipient() {
        let h = harness()
            .setting("to", "+44 7700 900000; 15550100124")
            .reply(created("SM1"))
            .reply(created("SM2"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("SM1"));
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].method, "POST");
        assert!(!reqs[0].url.contains(SID));
        let wire = h.on_the_wire();
        assert_eq!(
            wire[0].url,
            format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json")
        );
        assert_eq!(
            wire[0].header("authorization"),
            Some(
                format!(
                    "Basic {}",
                    mcp_push_sdk::encode::base64(format!("{SID}:{TOKEN}").as_bytes())
                )
                .as_str()
            )
        );
        assert_eq!(reqs[0].form("To").as_deref(), Some("+447700900000"));
        assert_eq!(reqs[1].form("To").as_deref(), Some("+15550100124"));
        assert_eq!(reqs[0].form("From").as_deref(), Some("+15550100123"));
        assert_eq!(
            reqs[0].form("Body").as_deref(),
            Some("Deploy\n\nv2 is live\n\nhttps://ci.example.com/7")
        );
    }

    #[test]
    fn whatsapp_short_codes_services_and_api_keys() {
        // The sender's `whatsapp:` makes every recipient WhatsApp; one
        // recipient's own prefix makes that one WhatsApp.
        let h = harness()
            .setting("from", "whatsapp:+15550100123")
            .reply(created("SM1"));
        h.send(&message("", "hi")).unwrap();
        let r = &h.requests()[0];
        assert_eq!(r.form("From").as_deref(), Some("whatsapp:+15550100123"));
        assert_eq!(r.form("To").as_deref(), Some("whatsapp:+15550100123"));
        let h = harness()
            .setting("to", "w:+15550100124, +15550100125")
            .reply(created("SM1"))
            .reply(created("SM2"));
        h.send(&message("", "hi")).unwrap();
        let r = h.requests();
        assert_eq!(r[0].form("To").as_deref(), Some("whatsapp:+15550100124"));
        assert_eq!(r[0].form("From").as_deref(), Some("whatsapp:+15550100123"));
        assert_eq!(r[1].form("To").as_deref(), Some("+15550100125"));
        assert_eq!(r[1].form("From").as_deref(), Some("+15550100123"));
        // A Messaging Service picks the number itself.
        let mg = "MG0123456789abcdef0123456789abcdef";
        let h = harness()
            .setting("from", mg)
            .setting("to", "+15550100124")
            .reply(created("SM1"));
        h.send(&message("", "hi")).unwrap();
        assert_eq!(
            h.requests()[0].form("MessagingServiceSid").as_deref(),
            Some(mg)
        );
        assert_eq!(h.requests()[0].form("From"), None);
        // An API key signs in instead of the Account SID, which stays in the path.
        let h = harness()
            .setting("api_key", "SK0123456789abcdef")
            .reply(created("SM1"));
        h.send(&message("", "hi")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert!(wire.url.contains(SID));
        assert_eq!(
            wire.header("authorization"),
            Some(
                format!(
                    "Basic {}",
                    mcp_push_sdk::encode::base64(format!("SK0123456789abcdef:{TOKEN}").as_bytes())
                )
                .as_str()
            )
        );
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        for (from, to) in [
            ("Acme CI", ""),                    // no number to text back
            ("12345", "whatsapp:+15550100124"), // WhatsApp from a short code
            ("+15550100123", "555-010"),        // not E.164
            ("not a sender!", "+15550100124"),
        ] {
            let h = harness().setting("from", from).setting("to", to);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{from} → {to}"
            );
            assert!(h.requests().is_empty());
        }
    }

    /// 1,600 characters at most: a GSM-7 text is cut with `...`, so it
    /// stays GSM-7; a UCS-2 one with `…`.
    #[test]
    fn cuts_the_body_at_1600_characters() {
        let h = harness().reply(created("SM1")).reply(created("SM2"));
        h.send(&message("", &"word ".repeat(400))).unwrap();
        let body = h.requests()[0].form("Body").unwrap();
        assert_eq!(body.chars().count(), 1600);
        assert!(body.ends_with("..."));
        assert_eq!(sms::Encoding::of(&body), sms::Encoding::Gsm7);
        h.send(&message("", &"部署".repeat(900))).unwrap();
        let body = h.requests()[1].form("Body").unwrap();
        assert_eq!(body.chars().count(), 1600);
        assert!(body.ends_with('…'));
        let fits = "a".repeat(1600);
        let h = harness().reply(created("SM1"));
        h.send(&message("", &fits)).unwrap();
        assert_eq!(h.requests()[0].form("Body").unwrap(), fits);
    }

    fn error(status: u16, code: i64, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"code": code, "message": text,
                   "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, code, text) in [
            (401, 20003, "Authenticate"),
            (
                400,
                21211,
                "The 'To' number +1555 is not a valid phone number.",
            ),
            (
                400,
                21608,
                "The number +15550100124 is unverified. Trial accounts cannot send messages to unverified numbers.",
            ),
            (400, 21610, "Attempt to send to unsubscribed recipient"),
            (404, 20404, "The requested resource was not found"),
        ] {
            assert_eq!(
                outcome(error(status, code, text)),
                SendError::Rejected(format!("HTTP {status} (Twilio {code}): {text}"))
            );
        }
        assert_eq!(
            outcome(error(429, 20429, "Too Many Requests").header("retry-after", "5")),
            SendError::RateLimited(Some(5))
        );
        assert_eq!(
            outcome(error(400, 20429, "Too Many Requests")),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(error(500, 20500, "An internal server error has occurred")),
            SendError::Unavailable(
                "HTTP 500 (Twilio 20500): An internal server error has occurred".into()
            )
        );
        assert!(matches!(
            outcome(Reply::text(503, "")),
            SendError::Unavailable(m) if m == "HTTP 503: an empty body"
        ));
        assert!(matches!(
            outcome(Reply::text(201, "<html>proxy</html>")),
            SendError::Unavailable(_)
        ));
    }

    /// A second recipient's failure fails the send; the retry resumes there.
    #[test]
    fn a_retry_skips_the_recipients_already_sent_to() {
        let h = harness()
            .setting("to", "+15550100124,+15550100125")
            .reply(created("SM1"))
            .reply(error(500, 20500, "An internal server error has occurred"))
            .reply(created("SM2"));
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Unavailable(_))
        ));
        h.send(&message("T", "B")).unwrap();
        let to: Vec<_> = h.requests().iter().map(|r| r.form("To").unwrap()).collect();
        assert_eq!(to, vec!["+15550100124", "+15550100125", "+15550100125"]);
    }
}
