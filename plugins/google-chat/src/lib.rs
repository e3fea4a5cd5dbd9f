//! Google Chat space webhooks (`GOOGLE_CHAT_WEBHOOK_URL`, Apprise's
//! `gchat://SPACE/KEY/TOKEN`).
//!
//! Sources: Google Chat's "Build a Google Chat app as a webhook"
//! (developers.google.com/workspace/chat/quickstart/webhooks: POST JSON
//! `text` to the webhook URL `https://chat.googleapis.com/v1/spaces/{space}/messages?key=…&token=…`,
//! a thread with `thread.threadKey` and
//! `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`); the
//! `spaces.messages.create` reference (the created Message, its `name`
//! `spaces/…/messages/…`, on success; a message, text and cards together,
//! holds 32,000 bytes); Google's API error JSON (`{"error": {code, message,
//! status}}`) and the Chat API's usage limits (429 `RESOURCE_EXHAUSTED`,
//! back off and retry); text formatting (`*bold*`); Apprise's
//! `gchat://WORKSPACE/KEY/TOKEN[/THREAD]` form. Not in qinglong's notify.py:
//! `GOOGLE_CHAT_*` are mcp-push's own names.
//!
//! Length: Apprise cuts at 4,000 characters (Hangouts Chat's old limit);
//! Google's reference says 32,000 bytes, which is followed here.

use mcp_push_sdk::prelude::*;

struct GoogleChat;

const OFFICIAL: &str = "https://chat.googleapis.com";

/// A message, text and cards together, holds 32,000 bytes.
const LIMIT: Limit = Limit::Bytes(32000);

impl Channel for GoogleChat {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "google-chat",
            "Google Chat",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Google Chat space through its webhook",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "webhook_url",
                "The space's webhook URL (https://chat.googleapis.com/v1/spaces/.../messages?key=...&token=...)",
            )
            .env(&["GOOGLE_CHAT_WEBHOOK_URL"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new("thread", "Post in the thread of this thread key (started if new)")
                .env(&["GOOGLE_CHAT_THREAD"]),
        )
        .allow_host("chat.googleapis.com")
        .allow_host("setting:webhook_url.origin")
        .schemes(&["gchat"])
    }

    /// `gchat://SPACE/KEY/TOKEN[/THREAD_KEY]`; `?workspace=`, `?key=`,
    /// `?token=`, `?thread=` (or `?threadKey=`) override the parts, as in
    /// Apprise.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["gchat"])?;
        let mut parts = u.path.iter().map(String::as_str);
        let space = u.param("workspace").unwrap_or(u.host.as_str());
        let key = parts.next();
        let token = parts.next();
        let thread = parts.next();
        let key = u.param("key").or(key);
        let token = u.param("token").or(token);
        let thread = u.param("thread").or(u.param("threadkey")).or(thread);
        let (Some(key), Some(token), false) = (key, token, space.is_empty()) else {
            return Err(
                "gchat:// needs the space, the key and the token: gchat://SPACE/KEY/TOKEN".into(),
            );
        };
        Pairs::new()
            .set(
                "webhook_url",
                format!(
                    "{OFFICIAL}/v1/spaces/{}/messages?key={}&token={}",
                    url_encode(space),
                    url_encode(key),
                    url_encode(token)
                ),
            )
            .maybe("thread", thread)
            .done()
    }

    /// The URL is a secret (its query holds the key and token); its origin
    /// is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // Chat has no title; it leads as a bold line (Chat's `*bold*`).
        let text = heading(&Bold::Mrkdwn.title(&msg.title), &msg.body, "\n");
        let mut body = json!({ "text": truncate(&msg.with_link(text), LIMIT, CUT_MARKER) });
        let mut request = Request::post(settings.require("webhook_url")?);
        if let Some(thread) = settings.get("thread") {
            body["thread"] = json!({ "threadKey": thread });
            request =
                request.query(&[("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")]);
        }
        // Success is the created Message (its `name`); an error is Google's
        // `{"error": {code, message, status}}`.
        let reply = request
            .json(&body)
            .send()?
            .check(&Check::field("name").message("error.message"))?;
        Ok(Receipt::from_reply(&reply, "name"))
    }
}

export_channel!(GoogleChat);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const HOOK: &str =
        "https://chat.googleapis.com/v1/spaces/AAAAk6l/messages?key=AIzaKey-1&token=O7b1%3D";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<GoogleChat>();
    }

    #[test]
    fn parses_apprise_gchat_urls() {
        let s = GoogleChat::parse_url("gchat://AAAAk6l/AIzaKey-1/O7b1%3D").unwrap();
        assert_eq!(s, vec![("webhook_url".into(), HOOK.into())]);
        let t = GoogleChat::parse_url("gchat://AAAAk6l/AIzaKey-1/O7b1%3D/build-7").unwrap();
        assert_eq!(t[1], ("thread".into(), "build-7".into()));
        let q =
            GoogleChat::parse_url("gchat://AAAAk6l/?key=AIzaKey-1&token=O7b1%3D&thread=x").unwrap();
        assert_eq!(q[0].1, HOOK);
        assert_eq!(q[1].1, "x");
        assert!(GoogleChat::parse_url("gchat://AAAAk6l/AIzaKey-1").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<GoogleChat>().setting("webhook_url", HOOK)
    }

    fn created() -> Reply {
        Reply::json(
            200,
            json!({"name": "spaces/AAAAk6l/messages/m1.m1", "text": "…", "thread": {"name": "spaces/AAAAk6l/threads/t1"}}),
        )
    }

    /// The documented request: POST JSON `text` (the title as Chat's
    /// `*bold*` line, the link after), key and token only on the wire.
    #[test]
    fn posts_the_documented_json() {
        let h = harness().reply(created());
        let mut msg = message("Deploy", "done");
        msg.link = Some("https://ci.example.com/7".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("spaces/AAAAk6l/messages/m1.m1")
        );
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains("AIzaKey-1"), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, HOOK);
        assert_eq!(
            req.json(),
            json!({"text": "*Deploy*\ndone\n\nhttps://ci.example.com/7"})
        );
    }

    #[test]
    fn a_thread_key_replies_in_that_thread() {
        let h = harness().setting("thread", "build-7").reply(created());
        h.send(&message("", "b")).unwrap();
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://chat.googleapis.com/v1/spaces/AAAAk6l/messages\
             ?messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&key=AIzaKey-1&token=O7b1%3D"
        );
        assert_eq!(
            h.requests()[0].json(),
            json!({"text": "b", "thread": {"threadKey": "build-7"}})
        );
    }

    #[test]
    fn text_is_cut_at_32000_bytes() {
        let h = harness().reply(created());
        h.send(&message("", &"é".repeat(20000))).unwrap();
        let text = h.requests()[0].json()["text"].as_str().unwrap().to_string();
        assert!(text.len() <= 32000 && text.len() > 31990, "{}", text.len());
        assert!(text.ends_with(CUT_MARKER));
    }

    fn google_error(code: u16, status: &str, message: &str) -> Reply {
        Reply::json(
            code,
            json!({"error": {"code": code, "message": message, "status": status}}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(google_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key."
            )),
            SendError::Rejected("HTTP 400: API key not valid. Please pass a valid API key.".into())
        );
        assert_eq!(
            outcome(google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials."
            )),
            SendError::Rejected("HTTP 401: Request had invalid authentication credentials.".into())
        );
        assert_eq!(
            outcome(google_error(
                404,
                "NOT_FOUND",
                "Requested entity was not found."
            )),
            SendError::Rejected("HTTP 404: Requested entity was not found.".into())
        );
        assert_eq!(
            outcome(google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota)."
            )),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(
                google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
                    .header("retry-after", "30")
            ),
            SendError::RateLimited(Some(30))
        );
        assert_eq!(
            outcome(google_error(
                503,
                "UNAVAILABLE",
                "The service is currently unavailable."
            )),
            SendError::Unavailable("HTTP 503: The service is currently unavailable.".into())
        );
    }
}
