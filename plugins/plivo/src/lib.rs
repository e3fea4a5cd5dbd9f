//! Plivo SMS (`PLIVO_AUTH_ID`, `PLIVO_AUTH_TOKEN`, `PLIVO_FROM`,
//! `PLIVO_TO`; Apprise's `plivo://`).
//!
//! Sources: Plivo's Message API docs (POST
//! `https://api.plivo.com/v1/Account/{auth_id}/Message/`, HTTP Basic auth
//! with the Auth ID and Auth Token, JSON `{src, dst, text}`, several
//! recipients in one request as `dst` joined with `<`); its API responses
//! page (202 `{api_id, message: "message(s) queued", message_uuid: [...]}`;
//! errors `{api_id, error}` with 400 a missing or invalid parameter, 401
//! authentication failed, 404 not found, 429 rate limited, 500 a server
//! error); its SMS FAQ (160/153 GSM-7 characters a part, 70/67 UCS-2;
//! "Maximum: 1,600 characters"; 737 for a UCS-2 text, as the API itself
//! words its refusal, "text parameter length exceeds 737 unicode
//! characters"); Apprise's `plivo.py` (`plivo://AUTH_ID@TOKEN/FROM[/TO...]`,
//! or `?token=`, `?id=`, `?from=`, `?to=`; the sender texted when no one is
//! named). `PLIVO_AUTH_ID` and `PLIVO_AUTH_TOKEN` are the names Plivo's own
//! SDKs read; `PLIVO_FROM` and `PLIVO_TO` are mcp-push's own.
//!
//! Where the sources differ: Apprise sends the recipients as `recipients`
//! with `dst` null and a request per recipient unless `?batch=yes`; the docs
//! name `dst`, `<`-separated, so every recipient goes in one request (a
//! retry cannot send some twice). Apprise cuts the text at 140 characters;
//! here it is cut at the documented 1,600 (GSM-7) or 737 (UCS-2).

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::sms::{self, Budget};

struct Plivo;

const OFFICIAL: &str = "https://api.plivo.com";

/// The SMS FAQ's 1,600 characters, and the API's 737 for UCS-2 text.
const BUDGET: Budget = Budget {
    gsm7: 1600,
    ucs2: 737,
};

impl Channel for Plivo {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "plivo",
            "Plivo",
            env!("CARGO_PKG_VERSION"),
            "Sends an SMS through Plivo's Message API",
        )
        .formats(&["text"])
        .setting(
            Setting::new("auth_id", "The Auth ID")
                .env(&["PLIVO_AUTH_ID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("auth_token", "The Auth Token")
                .env(&["PLIVO_AUTH_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "from",
                "The sender: a Plivo number (E.164), a short code or an alphanumeric sender ID",
            )
            .env(&["PLIVO_FROM"])
            .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients in E.164, separated by `,` or `;`; default: the sender's number",
            )
            .env(&["PLIVO_TO"]),
        )
        .setting(Setting::api_url("PLIVO_API_URL", OFFICIAL))
        .allow_host("api.plivo.com")
        .allow_host("setting:api_url")
        .schemes(&["plivo"])
    }

    /// `plivo://AUTH_ID@AUTH_TOKEN/FROM[/TO...]`, or
    /// `plivo://AUTH_ID@TO[/TO...]?token=AUTH_TOKEN&from=FROM`; `?id=`,
    /// `?to=` as well.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["plivo"])?;
        let form = "plivo://AUTH_ID@AUTH_TOKEN/FROM[/TO...]";
        let id = u.param("id").map(String::from).or_else(|| u.user.clone());
        let mut path = u.path.clone();
        // The host is the token, unless `?token=` gives it: then the host is
        // a recipient (Apprise's reading).
        let token = match u.param("token") {
            Some(token) => {
                if !u.host.is_empty() {
                    path.insert(0, u.host.clone());
                }
                Some(token.to_string())
            }
            None => (!u.host.is_empty()).then(|| u.host.clone()),
        };
        let (Some(id), Some(token)) = (id, token) else {
            return Err(format!("plivo:// needs the Auth ID and Auth Token: {form}"));
        };
        let from = match u.param("from") {
            Some(from) => Some(from.to_string()),
            None if !path.is_empty() => Some(path.remove(0)),
            None => None,
        };
        let Some(from) = from else {
            return Err(format!("plivo:// needs the sender: {form}"));
        };
        path.extend(u.to_param());
        Pairs::new()
            .set("auth_id", id)
            .set("auth_token", token)
            .set("from", from)
            .maybe("to", (!path.is_empty()).then(|| path.join(",")))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let id = settings.require("auth_id")?;
        let token = settings.require("auth_token")?;
        let from = sms::sender(settings, "from")?;
        let to = sms::recipients(settings, &from)?;
        let dst: Vec<&str> = to.iter().map(|p| p.digits()).collect();
        let reply = Request::post(format!(
            "{}/v1/Account/{id}/Message/",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .basic_auth(id, token)
        .json(&json!({
            "src": from.digits(),
            "dst": dst.join("<"),
            "text": sms::text(msg, BUDGET),
        }))
        .send()?;
        // Success is 202 with the queued messages' `message_uuid`s; a
        // refusal says why in `error`.
        if !reply.is_success() {
            return Err(reply.status_error_at("error"));
        }
        let body = reply.json()?;
        match id_at(&body, "message_uuid.0") {
            Some(uuid) => Ok(Receipt::id(uuid)),
            None => Err(SendError::Unavailable(format!(
                "HTTP {}: expected message_uuid, got {}",
                reply.status,
                reply.snippet()
            ))),
        }
    }
}

export_channel!(Plivo);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const ID: &str = "MAXXXXXXXXXXXXXXXXXX";
    const TOKEN: &str = "NzQ3YTc0ZDYwMjk4YjFjYzVmZjU0ZWEwZmQ1NWY3";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Plivo>();
    }

    #[test]
    fn parses_apprise_plivo_urls() {
        assert_eq!(
            Plivo::parse_url(&format!(
                "plivo://{ID}@{TOKEN}/15550100100/15550100123/15550100124"
            ))
            .unwrap(),
            pairs(&[
                ("auth_id", ID),
                ("auth_token", TOKEN),
                ("from", "15550100100"),
                ("to", "15550100123,15550100124"),
            ])
        );
        assert_eq!(
            Plivo::parse_url(&format!(
                "plivo://{ID}@15550100123?token={TOKEN}&from=15550100100&to=15550100124"
            ))
            .unwrap(),
            pairs(&[
                ("auth_id", ID),
                ("auth_token", TOKEN),
                ("from", "15550100100"),
                ("to", "15550100123,15550100124"),
            ])
        );
        assert_eq!(
            Plivo::parse_url(&format!("plivo://{ID}@{TOKEN}/15550100100")).unwrap(),
            pairs(&[
                ("auth_id", ID),
                ("auth_token", TOKEN),
                ("from", "15550100100")
            ])
        );
        assert!(Plivo::parse_url(&format!("plivo://{ID}@{TOKEN}")).is_err());
        assert!(Plivo::parse_url(&format!("plivo://{TOKEN}/15550100100")).is_err());
    }

    fn queued(uuid: &str) -> Reply {
        Reply::json(
            202,
            json!({"api_id": "db342550-7f1d-11e1-8ea7-1231380bc196",
                   "message": "message(s) queued", "message_uuid": [uuid]}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<Plivo>()
            .setting("auth_id", ID)
            .setting("auth_token", TOKEN)
            .setting("from", "+1 555 010 0100")
    }

    /// The documented request: one JSON request to the account's
    /// `Message/` with Basic auth (only on the wire), every recipient in
    /// `dst` joined with `<`; 202 with the messages' uuids is success.
    #[test]
    fn posts_the_documented_json_once() {
        let h = harness()
            .setting("to", "+1 555 010 0123; +44 7700 900000")
            .reply(queued("db3ce55a-7f1d-11e1-8ea7-1231380bc196"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("db3ce55a-7f1d-11e1-8ea7-1231380bc196")
        );
        let req = &h.requests()[0];
        assert!(!req.url.contains(ID));
        assert_eq!(
            req.json(),
            json!({"src": "15550100100", "dst": "15550100123<447700900000",
                   "text": "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7"})
        );
        let wire = &h.on_the_wire()[0];
        assert_eq!(
            wire.url,
            format!("https://api.plivo.com/v1/Account/{ID}/Message/")
        );
        assert_eq!(
            wire.header("authorization"),
            Some(
                format!(
                    "Basic {}",
                    mcp_push_sdk::encode::base64(format!("{ID}:{TOKEN}").as_bytes())
                )
                .as_str()
            )
        );
        // With no one named, the sender's own number.
        let h = harness().reply(queued("u1"));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(h.requests()[0].json()["dst"], "15550100100");
        let h = harness().setting("from", "AcmeCI");
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
    }

    /// 1,600 GSM-7 characters (cut with `...`), 737 UTF-16 units of UCS-2
    /// text (cut with `…`).
    #[test]
    fn cuts_the_text_at_plivos_limits() {
        let h = harness().reply(queued("u1")).reply(queued("u2"));
        h.send(&message("", &"word ".repeat(400))).unwrap();
        let text = h.requests()[0].json()["text"].as_str().unwrap().to_string();
        assert_eq!(text.chars().count(), 1600);
        assert!(text.ends_with("..."));
        h.send(&message("", &"完成".repeat(400))).unwrap();
        let text = h.requests()[1].json()["text"].as_str().unwrap().to_string();
        assert_eq!(text.encode_utf16().count(), 737);
        assert!(text.ends_with('…'));
    }

    fn error(status: u16, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"api_id": "97ceeb52-58b6-11e1-86da-77300b68f8bb", "error": text}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, text) in [
            (400, "src parameter not present"),
            (400, "text parameter length exceeds 737 unicode characters"),
            (401, "authentication_failed"),
            (404, "not found"),
            (405, "method not allowed"),
        ] {
            assert_eq!(
                outcome(error(status, text)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(error(429, "rate_limit_exceeded").header("retry-after", "4")),
            SendError::RateLimited(Some(4))
        );
        assert_eq!(
            outcome(error(500, "server error")),
            SendError::Unavailable("HTTP 500: server error".into())
        );
        assert!(matches!(
            outcome(Reply::json(
                202,
                json!({"api_id": "x", "message": "message(s) queued"})
            )),
            SendError::Unavailable(_)
        ));
    }
}
