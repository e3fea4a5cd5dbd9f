//! Pushbullet pushes (`PUSHBULLET_ACCESS_TOKEN`, Apprise's
//! `pbul://ACCESS_TOKEN[/TARGET]`).
//!
//! Sources: Pushbullet's API docs (docs.pushbullet.com, "Create push": POST
//! `https://api.pushbullet.com/v2/pushes` with the `Access-Token` header,
//! JSON `{type: "note", title, body}` or `{type: "link", title, body, url}`,
//! one of `device_iden`, `email`, `channel_tag` to aim it (none: all of the
//! user's devices); the created push, its `iden`, on success; errors
//! `{"error": {code, type, message}}` with 400, 401 (no valid token), 403,
//! 404, 429 when rate limited (with `X-Ratelimit-Reset`, a Unix time) and 5xx
//! for the server's own trouble); Apprise's `pbul://` form (a target
//! `#channel`, an e-mail address or a device iden). Not in qinglong's
//! notify.py: `PUSHBULLET_*` are mcp-push's own names.
//!
//! Length: Pushbullet documents no limit for a note's body, so a message is
//! sent whole.

use mcp_push_sdk::prelude::*;

struct Pushbullet;

const OFFICIAL: &str = "https://api.pushbullet.com";

impl Channel for Pushbullet {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushbullet",
            "Pushbullet",
            env!("CARGO_PKG_VERSION"),
            "Pushes a note (or a link) to Pushbullet with an access token",
        )
        .formats(&["text"])
        .setting(
            Setting::new("access_token", "Access token (Account Settings)")
                .env(&["PUSHBULLET_ACCESS_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "target",
                "A device iden, an e-mail address or #channel_tag; else all devices",
            )
            .env(&["PUSHBULLET_TARGET"]),
        )
        .setting(Setting::api_url("PUSHBULLET_API_URL", OFFICIAL))
        .allow_host("api.pushbullet.com")
        .allow_host("setting:api_url")
        .schemes(&["pbul"])
    }

    /// `pbul://ACCESS_TOKEN[/TARGET]` (or `?to=TARGET`).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["pbul"])?;
        if u.host.is_empty() {
            return Err("pbul:// needs the access token: pbul://ACCESS_TOKEN".into());
        }
        let mut targets: Vec<String> = u.path.clone();
        if let Some(to) = u.param("to") {
            targets.extend(to.split(',').map(|t| t.trim().to_string()));
        }
        targets.retain(|t| !t.is_empty());
        if targets.len() > 1 {
            return Err("pbul:// pushes to one target; define a channel per target".into());
        }
        Pairs::new()
            .set("access_token", u.host.clone())
            .maybe("target", targets.pop())
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let mut push = json!({ "type": "note", "title": msg.title, "body": msg.body });
        if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
            push["type"] = json!("link");
            push["url"] = json!(link);
        }
        match settings.get("target").map(str::trim) {
            Some(t) if t.starts_with('#') => push["channel_tag"] = json!(&t[1..]),
            Some(t) if t.contains('@') => push["email"] = json!(t),
            Some(t) if !t.is_empty() => push["device_iden"] = json!(t),
            _ => {}
        }
        // Success is the created push (its `iden`); an error says why in
        // `error.message`.
        let reply = Request::post(format!(
            "{}/v2/pushes",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .header("Access-Token", settings.require("access_token")?)
        .json(&push)
        .send()?
        .check(&Check::field("iden").message("error.message"))?;
        Ok(Receipt::from_reply(&reply, "iden"))
    }
}

export_channel!(Pushbullet);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Pushbullet>();
    }

    #[test]
    fn parses_apprise_pbul_urls() {
        assert_eq!(
            Pushbullet::parse_url("pbul://o.abc123").unwrap(),
            vec![("access_token".into(), "o.abc123".into())]
        );
        let c = Pushbullet::parse_url("pbul://o.abc123/%23ops").unwrap();
        assert_eq!(c[1], ("target".into(), "#ops".into()));
        let e = Pushbullet::parse_url("pbul://o.abc123/?to=me@example.com").unwrap();
        assert_eq!(e[1].1, "me@example.com");
        assert!(Pushbullet::parse_url("pbul://o.abc123/dev1/dev2").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Pushbullet>().setting("access_token", "o.Tok3n")
    }

    fn created() -> Reply {
        Reply::json(
            200,
            json!({"active": true, "iden": "ujpah72o0sjAoRtnM0jc", "type": "note", "dismissed": false}),
        )
    }

    /// The documented request: POST `/v2/pushes`, `Access-Token` (only on
    /// the wire), a note, or a link when the message has one, aimed as the
    /// target says.
    #[test]
    fn pushes_the_documented_json() {
        let h = harness().reply(created());
        let receipt = h.send(&message("Backup", "ok")).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("ujpah72o0sjAoRtnM0jc"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://api.pushbullet.com/v2/pushes");
        assert_ne!(req.header("access-token"), Some("o.Tok3n"));
        assert_eq!(h.on_the_wire()[0].header("access-token"), Some("o.Tok3n"));
        assert_eq!(
            req.json(),
            json!({"type": "note", "title": "Backup", "body": "ok"})
        );
        for (target, key, value) in [
            ("#ops", "channel_tag", "ops"),
            ("me@example.com", "email", "me@example.com"),
            (
                "ujpah72o0sjAoRtnM0jc",
                "device_iden",
                "ujpah72o0sjAoRtnM0jc",
            ),
        ] {
            let h = harness().setting("target", target).reply(created());
            let mut msg = message("T", "B");
            msg.link = Some("https://ci.example.com/7".into());
            h.send(&msg).unwrap();
            let mut want = json!({"type": "link", "title": "T", "body": "B", "url": "https://ci.example.com/7"});
            want[key] = json!(value);
            assert_eq!(h.requests()[0].json(), want);
        }
    }

    #[test]
    fn a_long_body_is_sent_whole() {
        let h = harness().reply(created());
        let long = "x".repeat(70000);
        h.send(&message("T", &long)).unwrap();
        assert_eq!(h.requests()[0].json()["body"], long.as_str());
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"error": {"cat": "~(=^‥^)ノ", "code": code, "type": "invalid_request", "message": message}}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(error(
                401,
                "invalid_access_token",
                "Access token is missing or invalid."
            )),
            SendError::Rejected("HTTP 401: Access token is missing or invalid.".into())
        );
        assert_eq!(
            outcome(error(
                403,
                "pushbullet_pro_required",
                "Pushbullet Pro is required."
            )),
            SendError::Rejected("HTTP 403: Pushbullet Pro is required.".into())
        );
        assert_eq!(
            outcome(error(400, "invalid_param", "Invalid email address.")),
            SendError::Rejected("HTTP 400: Invalid email address.".into())
        );
        assert_eq!(
            outcome(
                error(
                    429,
                    "ratelimited",
                    "You have been ratelimited for making too many requests."
                )
                .header("x-ratelimit-reset", "1764780000")
            ),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(error(503, "server_error", "The server is busy.")),
            SendError::Unavailable(m) if m == "HTTP 503: The server is busy."
        ));
    }
}
