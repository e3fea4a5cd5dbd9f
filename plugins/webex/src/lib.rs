//! Webex incoming webhooks (`WEBEX_WEBHOOK_URL`, Apprise's `wxteams://TOKEN`
//! and `webex://TOKEN`).
//!
//! Sources: Webex's incoming-webhook integration (apphub.webex.com: POST
//! JSON `text` or `markdown` to `https://webexapis.com/v1/webhooks/incoming/{token}`,
//! the URL the integration gives); Webex's REST API basics and errors
//! (developer.webex.com: 200 or 204 on success; 400 with a message, 401,
//! 403, 404, 405, 409, 415 refused; 429 with `Retry-After` in seconds; 500,
//! 502, 503 retried; error bodies `{message, errors: [{description}],
//! trackingId}`); the Messages API's limit of 7,439 bytes for a message's
//! text or Markdown (developer.webex.com, "Create a Message", written from
//! memory; LibreNMS cuts Webex messages "just over 7 KB" likewise);
//! Apprise's `NotifyWebexTeams.py` (the URL form, Markdown by default, the
//! webhook's token as the host, its `https://api.ciscospark.com/v1/webhooks/incoming/TOKEN`
//! form). Not in qinglong's notify.py: `WEBEX_WEBHOOK_URL` is mcp-push's own.
//!
//! Where the sources differ: Apprise posts to `api.ciscospark.com`, Webex's
//! old host; the one-line URL here builds the `webexapis.com` URL the docs
//! give today (a `WEBEX_WEBHOOK_URL` on the old host still works: its
//! origin is allowed). Apprise cuts at 1,000 characters; the API's 7,439
//! bytes are followed here.

use mcp_push_sdk::prelude::*;

struct Webex;

const OFFICIAL: &str = "https://webexapis.com";

/// A message's text or Markdown holds 7,439 bytes.
const LIMIT: Limit = Limit::Bytes(7439);

impl Channel for Webex {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "webex",
            "Webex",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Webex space through an incoming webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "webhook_url",
                "The incoming webhook's URL (https://webexapis.com/v1/webhooks/incoming/...)",
            )
            .env(&["WEBEX_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .allow_host("webexapis.com")
        .allow_host("setting:webhook_url.origin")
        .schemes(&["wxteams", "webex"])
    }

    /// `wxteams://TOKEN` or `webex://TOKEN`, the token being the last part of
    /// the webhook's URL.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["wxteams", "webex"])?;
        if u.host.is_empty() {
            return Err("webex:// needs the webhook's token: webex://TOKEN".into());
        }
        Pairs::new()
            .set(
                "webhook_url",
                format!("{OFFICIAL}/v1/webhooks/incoming/{}", url_encode(&u.host)),
            )
            .done()
    }

    /// The URL is a secret (its path is the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // Webex renders Markdown; it has no title, so the title leads in bold.
        let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
        let reply = Request::post(settings.require("webhook_url")?)
            .json(&json!({ "markdown": truncate(&msg.with_link(text), LIMIT, CUT_MARKER) }))
            .send()?;
        // Success is the status alone (200, or 204 with no body); a refusal
        // says why in `message`.
        if reply.is_success() {
            Ok(Receipt::none())
        } else {
            Err(reply.status_error_at("message"))
        }
    }
}

export_channel!(Webex);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const TOKEN: &str =
        "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svZjE5OTJlNzItYjY1Ni00YTk5LWJiZjktYmU5MmFkYmI4NmZk";
    const HOOK: &str = "https://webexapis.com/v1/webhooks/incoming/Y2lzY29zcGFyazovL3VzL1dFQkhPT0svZjE5OTJlNzItYjY1Ni00YTk5LWJiZjktYmU5MmFkYmI4NmZk";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Webex>();
    }

    #[test]
    fn parses_apprise_wxteams_and_webex_urls() {
        for scheme in ["wxteams", "webex"] {
            assert_eq!(
                Webex::parse_url(&format!("{scheme}://{TOKEN}")).unwrap(),
                vec![("webhook_url".into(), HOOK.into())]
            );
        }
        assert!(Webex::parse_url("webex://").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Webex>().setting("webhook_url", HOOK)
    }

    /// The documented request: JSON `markdown` (the title bold) to the
    /// hook, its token only on the wire; 204 is success.
    #[test]
    fn posts_the_documented_json() {
        let h = harness().reply(Reply::text(204, ""));
        let mut msg = message("Deploy", "**done** in 3 min");
        msg.link = Some("https://ci.example.com/7".into());
        assert!(h.send(&msg).unwrap().remote_id.is_none());
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains(TOKEN), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, HOOK);
        assert_eq!(
            req.json(),
            json!({"markdown": "**Deploy**\n**done** in 3 min\n\nhttps://ci.example.com/7"})
        );
        let ok = harness().reply(Reply::json(200, json!({})));
        ok.send(&message("", "just text")).unwrap();
        assert_eq!(ok.requests()[0].json(), json!({"markdown": "just text"}));
    }

    #[test]
    fn a_long_message_is_cut_to_7439_bytes() {
        let h = harness().reply(Reply::text(204, ""));
        h.send(&message("", &"é".repeat(5000))).unwrap();
        let text = h.requests()[0].json()["markdown"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(text.len() <= 7439);
        assert!(text.len() > 7400);
        assert!(text.ends_with(CUT_MARKER));
    }

    fn error(status: u16, text: &str) -> Reply {
        Reply::json(
            status,
            json!({"message": text, "errors": [{"description": text}],
                   "trackingId": "ROUTER_5F1E3C0A-0B1C-2D3E-4F50-617283940A1B"}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, text) in [
            (400, "Unable to parse the request body."),
            (
                401,
                "The request requires a valid access token set in the Authorization request header.",
            ),
            (404, "The requested resource could not be found."),
            (415, "Unsupported media type."),
        ] {
            assert_eq!(
                outcome(error(status, text)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "12")),
            SendError::RateLimited(Some(12))
        );
        assert!(matches!(
            outcome(error(503, "Service Unavailable")),
            SendError::Unavailable(m) if m == "HTTP 503: Service Unavailable"
        ));
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 502")
        ));
    }
}
