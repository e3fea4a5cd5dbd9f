//! Vonage (formerly Nexmo) SMS (`VONAGE_API_KEY`, `VONAGE_API_SECRET`,
//! `VONAGE_FROM`, `VONAGE_TO`; Apprise's `vonage://` and `nexmo://`).
//!
//! Sources: Vonage's SMS API reference (its OpenAPI document, v1.5.1: POST
//! `https://rest.nexmo.com/sms/json`, HTTP Basic auth with the API key and
//! secret, a form with `from` (a number in E.164 or an alphanumeric sender
//! ID), `to` (E.164 digits without `+`, 7 to 15 of them), `text`, `type`
//! (`unicode` for a text outside the GSM-7 tables) and `ttl` (milliseconds,
//! 20,000 to 604,800,000); always a 200 whose `messages[]` holds one entry
//! per SMS part, each with a `status`: `"0"` accepted, else a code and its
//! `error-text`), its error table (1 Throttled, 2 Missing Parameters, 3
//! Invalid Parameters, 4 Invalid Credentials, 5 Internal Error, 6 Invalid
//! Message, 7 Number Barred, 8 Partner Account Barred, 9 Partner Quota
//! Violation, 10 Too Many Existing Binds "back-off and retry", 11 Account Not
//! Enabled For HTTP, 12 Message Too Long, 14 Invalid Signature, 15 Invalid
//! Sender Address, 17 Message Blocked by Provider, 22, 23, 29 Non-Whitelisted
//! Destination, 32, 33 Number De-activated); "Concatenation and Encoding"
//! (160/153 GSM-7 characters a part, 70/67 UCS-2); Apprise's `vonage.py`
//! (`vonage://KEY:SECRET@FROM[/TO...]`, `nexmo://` the same, with `?key=`,
//! `?secret=`, `?from=`, `?to=`, `?ttl=`; the sender texted when no one is
//! named). `VONAGE_API_KEY` and `VONAGE_API_SECRET` are the names Vonage's
//! own SDKs and CLI read (`NEXMO_API_KEY` and `NEXMO_API_SECRET` before the
//! rename); the rest are mcp-push's own.
//!
//! Where the sources differ: Apprise puts the key and secret in the form;
//! the reference asks for Basic auth, which is used (the form fields are for
//! signed requests). Apprise never sets `type`, so a text with a character
//! outside GSM-7 arrives garbled; here such a text goes as `unicode`, as the
//! reference says. Apprise always sends `ttl=900000`; the reference's
//! default (72 hours) stands unless `ttl` is set. The SMS API documents no
//! maximum length, only status 12; the text is cut at 1,000 characters,
//! the SMS maximum of Vonage's Messages API (Apprise cuts at 160).

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::reply::text_of;
use mcp_push_sdk::serde_json::Value;
use mcp_push_sdk::sms::{self, Budget, Encoding};

struct Vonage;

const OFFICIAL: &str = "https://rest.nexmo.com";

/// Vonage's Messages API: SMS `text` "limited to 1000 characters".
const BUDGET: Budget = Budget::chars(1000);

impl Channel for Vonage {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "vonage",
            "Vonage",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS through Vonage's (Nexmo's) SMS API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("api_key", "The API key")
                .env(&["VONAGE_API_KEY", "NEXMO_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("api_secret", "The API secret")
                .env(&["VONAGE_API_SECRET", "NEXMO_API_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender: a Vonage number (E.164) or an alphanumeric sender ID",
            )
            .env(&["VONAGE_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients in E.164, separated by `,` or `;`; default: the sender's number",
            )
            .env(&["VONAGE_TO"]),
        )
        .setting(
            Setting::new(
                "ttl",
                "How long Vonage tries to deliver, in milliseconds (20000 to 604800000; default 72 hours)",
            )
            .env(&["VONAGE_TTL"]),
        )
        .setting(Setting::api_url("VONAGE_API_URL", OFFICIAL))
        .allow_host("rest.nexmo.com")
        .allow_host("setting:api_url")
        .schemes(&["vonage", "nexmo"])
    }

    /// `vonage://KEY:SECRET@FROM[/TO...][?to=&from=&key=&secret=&ttl=]`,
    /// `nexmo://` the same.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["vonage", "nexmo"])?;
        let form = format!("{}://KEY:SECRET@FROM[/TO...]", u.scheme);
        let key = u.param("key").map(String::from).or_else(|| u.user.clone());
        let secret = u
            .param("secret")
            .map(String::from)
            .or_else(|| u.password.clone());
        let (Some(key), Some(secret)) = (key, secret) else {
            return Err(format!(
                "{}:// needs the API key and secret: {form}",
                u.scheme
            ));
        };
        let (from, to) = u.sms_parties();
        let Some(from) = from else {
            return Err(format!("{}:// needs the sender: {form}", u.scheme));
        };
        Pairs::new()
            .set("api_key", key)
            .set("api_secret", secret)
            .set("from", from)
            .maybe("to", to)
            .maybe("ttl", u.param("ttl"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let from = sms::sender(settings, "from")?;
        let to = sms::recipients(settings, &from)?;
        let ttl = match settings.parse::<u64>("ttl")? {
            Some(ms) if !(20_000..=604_800_000).contains(&ms) => {
                return Err(SendError::Config(format!(
                    "setting `ttl` must be 20000 to 604800000 milliseconds, not {ms}"
                )));
            }
            ttl => ttl.map(|ms| ms.to_string()),
        };
        let url = format!("{}/sms/json", settings.base_url("api_url", OFFICIAL)?);
        let key = settings.require("api_key")?;
        let secret = settings.require("api_secret")?;
        let text = sms::text(msg, BUDGET);
        let unicode = Encoding::of(&text) == Encoding::Ucs2;
        let mut first = None;
        // One request per recipient (`to` takes one number); a retry resumes
        // after the recipients already sent to.
        delivery::send_parts(&to, 0, |phone| {
            let mut form = vec![
                ("from", from.digits()),
                ("to", phone.digits().to_string()),
                ("text", text.clone()),
            ];
            if unicode {
                form.push(("type", "unicode".into()));
            }
            if let Some(ttl) = &ttl {
                form.push(("ttl", ttl.clone()));
            }
            let reply = Request::post(&url)
                .basic_auth(key, secret)
                .form(&form)
                .send()?;
            let id = judge(&reply)?;
            first = first.take().or(id);
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// Success is a 200 whose every `messages[]` entry (one per SMS part) has
/// `status` `"0"`; the first other status decides: 1 (throttled) and 10
/// (too many binds, "back-off and retry") wait, 5 (internal error) is
/// Vonage's trouble, the rest need the user (credentials, numbers, credit).
fn judge(reply: &Response) -> Result<Option<String>, SendError> {
    if !reply.is_success() {
        return Err(reply.status_error());
    }
    let body = reply.json()?;
    let parts = body["messages"].as_array().cloned().unwrap_or_default();
    if parts.is_empty() {
        return Err(SendError::Unavailable(format!(
            "HTTP {}: expected `messages`, got {}",
            reply.status,
            reply.snippet()
        )));
    }
    let status = |m: &Value| m.get("status").map(text_of).unwrap_or_default();
    match parts.iter().find(|m| status(m) != "0") {
        None => Ok(parts[0].get("message-id").map(text_of)),
        Some(failed) => {
            let code = status(failed);
            let why = format!(
                "status {code}: {}",
                failed
                    .get("error-text")
                    .map(text_of)
                    .unwrap_or_else(|| "no error-text".into())
            );
            Err(match code.as_str() {
                "1" | "10" => SendError::RateLimited(None),
                "5" => SendError::Unavailable(why),
                _ => SendError::Rejected(why),
            })
        }
    }
}

export_channel!(Vonage);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "a1b2c3d4";
    const SECRET: &str = "Zx9Yw8Vu7Ts6Rq5P";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Vonage>();
    }

    #[test]
    fn parses_apprise_vonage_and_nexmo_urls() {
        let want = pairs(&[
            ("api_key", KEY),
            ("api_secret", SECRET),
            ("from", "15550100100"),
            ("to", "15550100123,447700900000"),
        ]);
        for scheme in ["vonage", "nexmo"] {
            assert_eq!(
                Vonage::parse_url(&format!(
                    "{scheme}://{KEY}:{SECRET}@15550100100/15550100123/447700900000"
                ))
                .unwrap(),
                want
            );
        }
        assert_eq!(
            Vonage::parse_url(&format!(
                "nexmo://?key={KEY}&secret={SECRET}&from=AcmeCI&to=15550100123&ttl=60000"
            ))
            .unwrap(),
            pairs(&[
                ("api_key", KEY),
                ("api_secret", SECRET),
                ("from", "AcmeCI"),
                ("to", "15550100123"),
                ("ttl", "60000"),
            ])
        );
        assert!(Vonage::parse_url("vonage://15550100100").is_err());
        assert!(Vonage::parse_url(&format!("vonage://{KEY}:{SECRET}@")).is_err());
    }

    fn accepted(id: &str, parts: usize) -> Reply {
        let messages: Vec<Value> = (0..parts)
            .map(|i| {
                json!({"to": "15550100123", "message-id": format!("{id}{i}"), "status": "0",
                       "remaining-balance": "3.14159265", "message-price": "0.03330000", "network": "12345"})
            })
            .collect();
        Reply::json(
            200,
            json!({"message-count": parts.to_string(), "messages": messages}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<Vonage>()
            .setting("api_key", KEY)
            .setting("api_secret", SECRET)
            .setting("from", "+1 555 010 0100")
    }

    /// The documented request: a form per recipient to `/sms/json` with
    /// Basic auth key:secret (only on the wire), the numbers as digits; a
    /// 200 whose messages all have status 0 is success.
    #[test]
    fn posts_the_documented_form_per_recipient() {
        let h = harness()
            .setting("to", "+1 555 010 0123; +44 7700 900000")
            .reply(accepted("0A00000012345678", 1))
            .reply(accepted("0A00000012345679", 2));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("0A000000123456780")
        );
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].url, "https://rest.nexmo.com/sms/json");
        assert_eq!(reqs[0].form("from").as_deref(), Some("15550100100"));
        assert_eq!(reqs[0].form("to").as_deref(), Some("15550100123"));
        assert_eq!(reqs[1].form("to").as_deref(), Some("447700900000"));
        assert_eq!(
            reqs[0].form("text").as_deref(),
            Some("Deploy\n\nv2 is live\n\nhttps://ci.example.com/7")
        );
        assert_eq!(reqs[0].form("type"), None);
        assert_eq!(reqs[0].form("ttl"), None);
        assert_eq!(reqs[0].form("api_secret"), None);
        assert!(!reqs[0].text().contains(SECRET));
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(
                format!(
                    "Basic {}",
                    mcp_push_sdk::encode::base64(format!("{KEY}:{SECRET}").as_bytes())
                )
                .as_str()
            )
        );
    }

    /// A text outside GSM-7 goes as `unicode`; an alphanumeric sender as
    /// written; `ttl` when set, within the documented range.
    #[test]
    fn unicode_sender_ids_and_ttl() {
        let h = harness()
            .setting("from", "AcmeCI")
            .setting("to", "+8613800138000")
            .setting("ttl", "60000")
            .reply(accepted("1", 1));
        h.send(&message("部署", "完成 ✅")).unwrap();
        let r = &h.requests()[0];
        assert_eq!(r.form("from").as_deref(), Some("AcmeCI"));
        assert_eq!(r.form("type").as_deref(), Some("unicode"));
        assert_eq!(r.form("ttl").as_deref(), Some("60000"));
        for (from, to, ttl) in [
            ("AcmeCI", "", ""),            // no number to text back
            ("+15550100100", "12-34", ""), // not E.164
            ("+15550100100", "", "1000"),  // under 20 s
        ] {
            let h = harness()
                .setting("from", from)
                .setting("to", to)
                .setting("ttl", ttl);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{from} {to} {ttl}"
            );
            assert!(h.requests().is_empty());
        }
    }

    /// 1,000 characters at most: GSM-7 text cut with `...`, UCS-2 with `…`.
    #[test]
    fn cuts_the_text_at_1000_characters() {
        let h = harness().reply(accepted("1", 7)).reply(accepted("2", 15));
        h.send(&message("", &"word ".repeat(300))).unwrap();
        let text = h.requests()[0].form("text").unwrap();
        assert_eq!(text.chars().count(), 1000);
        assert!(text.ends_with("..."));
        assert_eq!(h.requests()[0].form("type"), None);
        h.send(&message("", &"完成".repeat(600))).unwrap();
        let text = h.requests()[1].form("text").unwrap();
        assert_eq!(text.chars().count(), 1000);
        assert!(text.ends_with('…'));
    }

    fn refused(status: &str, text: &str) -> Reply {
        Reply::json(
            200,
            json!({"message-count": "1", "messages": [{"status": status, "error-text": text}]}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_status_maps_to_what_to_do_next() {
        for (status, text) in [
            ("2", "Missing to param"),
            ("3", "Invalid to param"),
            ("4", "Bad Credentials"),
            ("6", "Invalid Message"),
            ("7", "Number Barred"),
            ("8", "Partner Account Barred"),
            ("9", "Partner Quota Violation"),
            ("11", "Account Not Enabled For HTTP"),
            ("12", "Message Too Long"),
            ("15", "Illegal Sender Address - rejected"),
            ("29", "Non-Whitelisted Destination"),
            ("33", "Number De-activated"),
        ] {
            assert_eq!(
                outcome(refused(status, text)),
                SendError::Rejected(format!("status {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(refused("1", "Throughput Rate Exceeded")),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(refused("10", "Too Many Existing Binds")),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(refused("5", "Internal Error")),
            SendError::Unavailable("status 5: Internal Error".into())
        );
        // A part refused after another was accepted still fails the send.
        let mixed = Reply::json(
            200,
            json!({"message-count": "2", "messages": [
                {"status": "0", "message-id": "A"}, {"status": "12", "error-text": "Message Too Long"}]}),
        );
        assert_eq!(
            outcome(mixed),
            SendError::Rejected("status 12: Message Too Long".into())
        );
        assert!(matches!(
            outcome(Reply::text(502, "Bad Gateway")),
            SendError::Unavailable(_)
        ));
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "2")),
            SendError::RateLimited(Some(2))
        );
        assert!(matches!(
            outcome(Reply::json(200, json!({"message-count": "0"}))),
            SendError::Unavailable(_)
        ));
    }
}
