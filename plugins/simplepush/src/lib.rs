//! SimplePush notifications (`SIMPLEPUSH_KEY`, `SIMPLEPUSH_EVENT`,
//! Apprise's `spush://KEY`).
//!
//! Sources: SimplePush's API docs (simplepush.io/api, "Message API": an
//! HTTPS request to `https://simplepu.sh` with `key` (the six or more
//! characters that identify the devices), `msg`, optional `title` and
//! `event` (which changes how the app presents it), as a form or JSON;
//! "Authentication": a key shared by several devices reaches them all);
//! Apprise's `simplepush.py` (the URL forms `spush://KEY` and
//! `spush://SALT:PASSWORD@KEY`, `?event=`; a form to
//! `https://api.simplepush.io/send`; success is HTTP 200 with `status:
//! "OK"`, the reason otherwise in `message`; the body cut at 10,000
//! characters, the title at 1,024). Not in qinglong's notify.py:
//! `SIMPLEPUSH_*` are mcp-push's own names.
//!
//! Where the sources differ: the docs' endpoint is `https://simplepu.sh`,
//! which is used; Apprise's `api.simplepush.io/send` is not reached. The
//! lengths are Apprise's (the docs state none). End-to-end encryption
//! (`spush://SALT:PASSWORD@KEY`: AES-CBC with a key derived by SHA-1 from
//! the password and salt) needs the password inside the plugin, which
//! never sees a secret's value; such a URL is refused rather than sent in
//! clear. Written from memory: the refusal's wording in the tests' replies
//! (`{"status": "error", "message": …}`).

use mcp_push_sdk::prelude::*;

struct SimplePush;

const OFFICIAL: &str = "https://simplepu.sh";

/// Apprise's limits (SimplePush's docs state none).
const BODY: Limit = Limit::Chars(10000);
const TITLE: Limit = Limit::Chars(1024);

impl Channel for SimplePush {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "simplepush",
            "SimplePush",
            env!("CARGO_PKG_VERSION"),
            "Pushes to the SimplePush app on the devices of a key",
        )
        .formats(&["text"])
        .setting(
            Setting::new("key", "The SimplePush key shown in the app")
                .env(&["SIMPLEPUSH_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "event",
                "An event defined in the app, which sets how the notification is shown",
            )
            .env(&["SIMPLEPUSH_EVENT"]),
        )
        .setting(Setting::api_url("SIMPLEPUSH_API_URL", OFFICIAL))
        .allow_host("simplepu.sh")
        .allow_host("setting:api_url")
        .schemes(&["spush"])
    }

    /// `spush://KEY`, with `?event=`; `spush://SALT:PASSWORD@KEY` (an
    /// encrypted key) is refused.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["spush"])?;
        if u.user.is_some() || u.password.is_some() {
            return Err(
                "spush://SALT:PASSWORD@KEY: SimplePush's end-to-end encryption is not supported \
                 (the plugin never sees the password); use spush://KEY with encryption off"
                    .into(),
            );
        }
        if u.host.is_empty() {
            return Err("spush:// needs the key: spush://KEY".into());
        }
        Pairs::new()
            .set("key", u.host.clone())
            .maybe("event", u.param("event"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let mut form = vec![
            ("key", settings.require("key")?.to_string()),
            ("msg", truncate(&msg.body_with_link(), BODY, CUT_MARKER)),
        ];
        if !msg.title.trim().is_empty() {
            form.push(("title", truncate(msg.title.trim(), TITLE, CUT_MARKER)));
        }
        form.extend(
            settings
                .fields(&[("event", "event")])
                .into_iter()
                .map(|(field, value)| (field, value.to_string())),
        );
        // Success is `status: "OK"`; a refusal says why in `message`.
        Request::post(base)
            .form(&form)
            .send()?
            .check(&Check::field("status").eq_str("OK").message("message"))?;
        Ok(Receipt::none())
    }
}

export_channel!(SimplePush);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "HuxgBB";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<SimplePush>();
    }

    #[test]
    fn parses_apprises_spush_urls() {
        assert_eq!(
            SimplePush::parse_url(&format!("spush://{KEY}/")).unwrap(),
            pairs(&[("key", KEY)])
        );
        assert_eq!(
            SimplePush::parse_url(&format!("spush://{KEY}?event=deploy")).unwrap(),
            pairs(&[("key", KEY), ("event", "deploy")])
        );
        let encrypted = SimplePush::parse_url(&format!("spush://salt:pw@{KEY}")).unwrap_err();
        assert!(encrypted.contains("encryption"), "{encrypted}");
        assert!(SimplePush::parse_url("spush://").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<SimplePush>().setting("key", KEY)
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"status": "OK"}))
    }

    /// The documented request: a form with `key`, `title`, `msg` (the link
    /// after the body) and `event` to simplepu.sh; the key only on the
    /// wire.
    #[test]
    fn posts_the_documented_form() {
        let h = harness().setting("event", "deploy").reply(ok());
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://simplepu.sh");
        assert_ne!(req.form("key").as_deref(), Some(KEY));
        assert_eq!(h.on_the_wire()[0].form("key").as_deref(), Some(KEY));
        assert_eq!(req.form("title").as_deref(), Some("Deploy"));
        assert_eq!(
            req.form("msg").as_deref(),
            Some("v2 is live\n\nhttps://ci.example.com/7")
        );
        assert_eq!(req.form("event").as_deref(), Some("deploy"));
        let untitled = harness().reply(ok());
        untitled.send(&message("", "B")).unwrap();
        assert_eq!(untitled.requests()[0].form("title"), None);
        assert_eq!(untitled.requests()[0].form("event"), None);
    }

    #[test]
    fn body_and_title_are_cut_to_apprises_limits() {
        let h = harness().reply(ok());
        h.send(&message(&"t".repeat(1100), &"é".repeat(12000)))
            .unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.form("msg").unwrap().chars().count(), 10000);
        assert_eq!(req.form("title").unwrap().chars().count(), 1024);
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn refusals_map_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                200,
                json!({"status": "error", "message": "Invalid key"})
            )),
            SendError::Rejected("status error: Invalid key".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"status": "error", "message": "Missing parameter: msg"})
            )),
            SendError::Rejected("status error: Missing parameter: msg".into())
        );
        assert_eq!(
            outcome(Reply::text(429, "Too Many Requests").header("Retry-After", "60")),
            SendError::RateLimited(Some(60))
        );
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::text(200, "OK")),
            SendError::Unavailable(_)
        ));
    }
}
