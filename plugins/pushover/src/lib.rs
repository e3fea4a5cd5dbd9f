//! Pushover (`PUSHOVER_TOKEN`, `PUSHOVER_USER`, Apprise's
//! `pushover://USER_KEY@TOKEN`).
//!
//! Sources: Pushover's API (pushover.net/api: POST `/1/messages.json`,
//! title at most 250 characters, message at most 1024, `status == 1` on
//! success, reasons in `errors`), Apprise's `pover://USER_KEY@TOKEN` form.
//! Not in qinglong's notify.py: `PUSHOVER_*` are mcp-push's own names.

use mcp_push_sdk::prelude::*;

struct Pushover;

const OFFICIAL: &str = "https://api.pushover.net";

impl Channel for Pushover {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushover",
            "Pushover",
            env!("CARGO_PKG_VERSION"),
            "Pushes to Pushover's apps with an application token and a user key",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("token", "Application API token")
                .env(&["PUSHOVER_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("user", "User or group key")
                .env(&["PUSHOVER_USER"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("device", "Device name(s), comma-separated").env(&["PUSHOVER_DEVICE"]),
        )
        .setting(Setting::api_url("PUSHOVER_API_URL", OFFICIAL))
        .allow_host("api.pushover.net")
        .allow_host("setting:api_url")
        .schemes(&["pover", "pushover"])
    }

    /// `pover://USER_KEY@TOKEN[/DEVICE]` (also `pushover://`).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["pover", "pushover"])?;
        let Some(user) = u.user.clone() else {
            return Err("pover:// needs the user key and the token: pover://USER_KEY@TOKEN".into());
        };
        Pairs::new()
            .set("token", u.host.clone())
            .set("user", user)
            .maybe("device", (!u.path.is_empty()).then(|| u.path.join(",")))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // -2..2; 2 (emergency) needs `retry` and `expire`, so urgent is 1 too.
        let priority = msg.priority.on(["-1", "0", "1", "1"]);
        // A title holds 250 characters and a message 1024.
        let title = truncate(&msg.title, Limit::Chars(250), CUT_MARKER);
        let message = truncate(&msg.body, Limit::Chars(1024), CUT_MARKER);
        let mut form = vec![
            ("token", settings.require("token")?.to_string()),
            ("user", settings.require("user")?.to_string()),
            ("message", message),
            ("priority", priority.to_string()),
        ];
        if !title.trim().is_empty() {
            form.push(("title", title));
        }
        if msg.is_html() {
            form.push(("html", "1".into()));
        }
        if let Some(link) = &msg.link {
            form.push(("url", link.clone()));
        }
        if let Some(device) = settings.get("device") {
            form.push(("device", device.to_string()));
        }
        Request::post(format!(
            "{}/1/messages.json",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .form(&form)
        .send()?
        // `status` 1 is success; else the reasons are in `errors`.
        .check(&Check::field("status").eq(1).message("errors"))?;
        Ok(Receipt::none())
    }
}

export_channel!(Pushover);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Pushover>();
    }

    fn harness() -> Harness {
        Harness::new::<Pushover>()
            .setting("token", "app-tok-1")
            .setting("user", "user-key-2")
    }

    #[test]
    fn posts_a_form_within_pushovers_limits_without_the_keys_in_clear() {
        let h = harness().reply(Reply::json(200, json!({"status": 1, "request": "r"})));
        h.send(&message(&"T".repeat(300), &"b".repeat(2000)))
            .unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://api.pushover.net/1/messages.json");
        assert!(!req.text().contains("app-tok-1") && !req.text().contains("user-key-2"));
        let wire = h.on_the_wire()[0].text();
        assert!(wire.contains("token=app-tok-1") && wire.contains("user=user-key-2"));
        let field = |name: &str| -> String {
            wire.split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_string()
        };
        // Title 250 characters, message 1024, each cut with a marker.
        let title = field("title").matches('T').count();
        let body = field("message").matches('b').count();
        assert!((200..250).contains(&title), "{title}");
        assert!((1000..1024).contains(&body), "{body}");
    }

    #[test]
    fn a_refusal_says_why() {
        let h = harness().reply(Reply::json(
            400,
            json!({"status": 0, "errors": ["user identifier is invalid"]}),
        ));
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Rejected(ref m) if m.contains("user identifier is invalid")),
            "{err:?}"
        );
    }

    #[test]
    fn parses_pushover_urls() {
        let s = Pushover::parse_url("pover://ukey@atoken/phone").unwrap();
        assert_eq!(s[0].1, "atoken");
        assert_eq!(s[1].1, "ukey");
        assert_eq!(s[2].1, "phone");
    }

    /// An HTML message of high priority: a form with `html=1` and priority
    /// 1 (moved from tests/channels_intl.rs).
    #[test]
    fn html_and_priority_go_in_the_form() {
        let h = harness().reply(Reply::json(200, json!({"status": 1, "request": "r"})));
        let mut msg = message("Alert", "<b>disk</b> full");
        msg.format = Format::Html;
        msg.priority = Priority::High;
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("title").as_deref(), Some("Alert"));
        assert_eq!(wire.form("message").as_deref(), Some("<b>disk</b> full"));
        assert_eq!(wire.form("html").as_deref(), Some("1"));
        assert_eq!(wire.form("priority").as_deref(), Some("1"));
    }

    /// A wrong token in Pushover's words, and its message limit (moved from
    /// tests/channels_intl.rs).
    #[test]
    fn refusals_and_rate_limits_map_to_kinds() {
        let h = harness()
            .reply(Reply::json(
                400,
                json!({"token": "invalid", "errors": ["application token is invalid"], "status": 0, "request": "5042853c"}),
            ))
            .reply(Reply::json(
                429,
                json!({"errors": ["message limit reached"], "status": 0, "request": "1"}),
            ));
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("status 0: application token is invalid".into())
        );
        assert!(matches!(h.send(&msg), Err(SendError::RateLimited(_))));
    }
}
