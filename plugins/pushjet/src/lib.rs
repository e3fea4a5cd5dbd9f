//! Pushjet, the self-hosted push server (`PUSHJET_URL`, `PUSHJET_SECRET`;
//! Apprise's `pjet://` and `pjets://`; qinglong's notify.py has no
//! Pushjet, so the names are mcp-push's own).
//!
//! Sources: the Pushjet server's own code (Pushjet/Pushjet-Server-Api:
//! `POST /message` reads the form fields `secret` (32 letters and digits,
//! also taken from the query), `message` (required), `title` (cut at 255),
//! `level` (1 to 5, default 3) and `link`; it answers `{"status": "ok"}`, or
//! `{"error": {"id", "message"}}` with an HTTP status: 3 invalid secret and
//! 7 a missing argument (400), 6 no service with that secret (404), 5 too
//! fast (429)); Apprise's `apprise/plugins/pushjet.py` for the URL form
//! (`pjet[s]://[user:password@]host[:port]/secret`, or `?secret=`; basic
//! auth for a server behind a login).
//!
//! Where sources disagree: Apprise posts a JSON body under a form content
//! type, which the server's `request.form` does not read (its `message`
//! comes out missing); this follows the server and sends a real form. The
//! hosted api.pushjet.io is gone (Apprise says so too), so there is no
//! default server.

use mcp_push_sdk::prelude::*;

struct Pushjet;

impl Channel for Pushjet {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushjet",
            "Pushjet",
            env!("CARGO_PKG_VERSION"),
            "Posts to a self-hosted Pushjet server with a service's secret",
        )
        .formats(&["text"])
        .setting(
            Setting::new("url", "Server URL")
                .env(&["PUSHJET_URL"])
                .required(),
        )
        .setting(
            Setting::new("secret", "The service's secret (32 letters and digits)")
                .env(&["PUSHJET_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("level", "1 to 5; else from the message's priority")
                .env(&["PUSHJET_LEVEL"]),
        )
        .setting(
            Setting::new(
                "username",
                "HTTP basic auth user, for a server behind a login",
            )
            .env(&["PUSHJET_USERNAME"]),
        )
        .setting(
            Setting::new("password", "HTTP basic auth password")
                .env(&["PUSHJET_PASSWORD"])
                .secret(),
        )
        .allow_host("setting:url")
        .schemes(&["pjet", "pjets"])
    }

    /// `pjet[s]://[user:password@]HOST[:PORT][/PATH]/SECRET` or
    /// `…/?secret=SECRET` (Apprise's forms).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let mut u = OneLine::parse(url, &["pjet", "pjets"])?;
        let secret = match u.param("secret") {
            Some(s) => s.to_string(),
            None => u
                .path
                .pop()
                .ok_or("pjet:// needs the service's secret: pjet://HOST/SECRET")?,
        };
        Pairs::new()
            .set("url", u.base_url(u.scheme == "pjets"))
            .set("secret", secret)
            .maybe("username", u.user.clone())
            .maybe("password", u.password.clone())
            .maybe("level", u.param("level"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let level: u8 = match settings.parse::<u8>("level")? {
            Some(l @ 1..=5) => l,
            Some(_) => {
                return Err(SendError::Config("setting `level` must be 1 to 5".into()));
            }
            // The server's default is 3; a message marked high or urgent
            // rises above it, a low one below.
            None => msg.priority.on([2, 3, 4, 5]),
        };
        let text = msg.body.trim();
        let mut form = vec![
            ("secret", settings.require("secret")?.to_string()),
            // The server requires a message: a title alone becomes one.
            (
                "message",
                if text.is_empty() {
                    msg.title.clone()
                } else {
                    msg.body.clone()
                },
            ),
            (
                "title",
                truncate(msg.title.trim(), Limit::Chars(255), CUT_MARKER),
            ),
            ("level", level.to_string()),
        ];
        if let Some(link) = &msg.link {
            form.push(("link", link.clone()));
        }
        let mut req =
            Request::post(format!("{}/message", settings.base_url("url", "")?)).form(&form);
        if let Some(user) = settings.get("username") {
            req = req.basic_auth(user, settings.get_or("password", ""));
        }
        req.send()?
            .check(&Check::field("status").eq_str("ok").message("error.message"))?;
        Ok(Receipt::none())
    }
}

export_channel!(Pushjet);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const SECRET: &str = "4Sj8qVkDa3Zx1PmN7tWcR2yLb9HgE5uF";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Pushjet>();
    }

    fn harness() -> Harness {
        Harness::new::<Pushjet>()
            .setting("url", "https://push.example.com/pj/")
            .setting("secret", SECRET)
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"status": "ok"}))
    }

    /// The server's request: a form to `/message` with the secret, message,
    /// title, level and link; the secret only on the wire.
    #[test]
    fn posts_the_servers_form() {
        let h = harness().reply(ok());
        let mut msg = message("Backup", "done in 3 min");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://push.example.com/pj/message");
        assert!(!req.text().contains(SECRET));
        assert_eq!(
            h.on_the_wire()[0].text(),
            format!(
                "secret={SECRET}&message=done%20in%203%20min&title=Backup&level=3\
                 &link=https%3A%2F%2Fci.example.com%2F7"
            )
        );
        assert!(req.header("authorization").is_none());
    }

    /// A title of more than 255 characters is cut (the server would cut it);
    /// a title alone is the message; a level out of range is refused.
    #[test]
    fn title_and_level_limits() {
        let h = harness().setting("level", "5").reply(ok());
        h.send(&message(&"t".repeat(300), "")).unwrap();
        let text = h.requests()[0].text();
        let title: String = text
            .split('&')
            .find_map(|kv| kv.strip_prefix("title="))
            .unwrap()
            .to_string();
        assert_eq!(title.chars().count(), 254 + "%E2%80%A6".len());
        assert!(text.contains("&message=tttt"), "{text}");
        assert!(text.contains("&level=5"), "{text}");
        let h = harness().setting("level", "6");
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(h.requests().is_empty());
    }

    /// Each error of the server's `Error` table, in its words.
    #[test]
    fn the_servers_errors_map_to_what_to_do_next() {
        let error = |status: u16, id: i64, text: &str| {
            Reply::json(status, json!({"error": {"message": text, "id": id}}))
        };
        let outcome = |reply: Reply| harness().reply(reply).send(&message("T", "B")).unwrap_err();
        assert_eq!(
            outcome(error(400, 3, "Invalid secret")),
            SendError::Rejected("HTTP 400: Invalid secret".into())
        );
        assert_eq!(
            outcome(error(404, 6, "Service not found")),
            SendError::Rejected("HTTP 404: Service not found".into())
        );
        assert_eq!(
            outcome(error(400, 7, "Missing argument message")),
            SendError::Rejected("HTTP 400: Missing argument message".into())
        );
        assert_eq!(
            outcome(error(429, 5, "Whoaw there cowboy, slow down!")),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(Reply::text(503, "")),
            SendError::Unavailable(_)
        ));
    }

    #[test]
    fn parses_apprise_urls() {
        let s =
            Pushjet::parse_url(&format!("pjets://bob:pw@push.example.com:8443/{SECRET}")).unwrap();
        assert_eq!(
            s,
            [
                ("url", "https://push.example.com:8443"),
                ("secret", SECRET),
                ("username", "bob"),
                ("password", "pw"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let s = Pushjet::parse_url(&format!("pjet://push.local/?secret={SECRET}")).unwrap();
        assert_eq!(s[0].1, "http://push.local");
        assert_eq!(s[1].1, SECRET);
        assert!(Pushjet::parse_url("pjet://push.local").is_err());
    }
}
