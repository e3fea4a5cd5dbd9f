//! Home Assistant persistent notifications (`HASS_SERVER`, `HASS_TOKEN`,
//! Apprise's `hassio://` and `hassios://`).
//!
//! Sources: Home Assistant's REST API docs (developers.home-assistant.io,
//! docs/api/rest: every call carries `Authorization: Bearer TOKEN`, a
//! long-lived access token; POST `/api/services/{domain}/{service}` with
//! the service data as JSON returns the list of states changed; success is
//! 200 or 201, other codes 400, 401, 404, 405); the
//! `persistent_notification.create` service (`message`, `title`,
//! `notification_id`: a notification created again under the same id
//! replaces it); Apprise's `home_assistant.py` (the URL form
//! `hassio[s]://[USER[:PASSWORD]@]HOST[:PORT][/PATH]/TOKEN`, port 8123 for
//! `hassio://` when none is given, `?token=`/`?accesstoken=`, `?nid=` for a
//! fixed notification id, else a new id per message). `HASS_SERVER` and
//! `HASS_TOKEN` are the names Home Assistant's own command line
//! (home-assistant-cli, `hass-cli`) reads; `HASS_NOTIFICATION_ID` is
//! mcp-push's own.
//!
//! A run is one notification: its messages use the run id as the
//! `notification_id`, so each replaces the last in place. A message outside
//! a run gets the delivery's key, the same on every attempt, so a retry
//! does not show it twice.
//!
//! Where the sources differ: Apprise's newest versions read path segments
//! around the token as `notify` service targets; this channel sends
//! persistent notifications only and, as older Apprise versions did, takes
//! the segments before the token as the server's path (a reverse proxy's
//! prefix), `?prefix=` overriding it.
//!
//! Length: Home Assistant documents no limit for a notification, so a
//! message is sent whole.

use mcp_push_sdk::prelude::*;

struct HomeAssistant;

/// Home Assistant's port when a `hassio://` URL names none.
const DEFAULT_PORT: u16 = 8123;

impl Channel for HomeAssistant {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "home-assistant",
            "Home Assistant",
            env!("CARGO_PKG_VERSION"),
            "Shows a persistent notification in Home Assistant",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "server",
                "Home Assistant's URL (http://homeassistant.local:8123)",
            )
            .env(&["HASS_SERVER"])
            .required(),
        )
        .setting(
            Setting::new("token", "A long-lived access token (your profile page)")
                .env(&["HASS_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "notification_id",
                "Replace this one notification each time instead of adding one per message",
            )
            .env(&["HASS_NOTIFICATION_ID"]),
        )
        .allow_host("setting:server")
        .schemes(&["hassio", "hassios"])
    }

    /// `hassio[s]://HOST[:PORT][/PATH]/TOKEN[?nid=ID]` (or `?token=`).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let mut u = OneLine::parse(url, &["hassio", "hassios"])?;
        let secure = u.scheme == "hassios";
        if u.host.is_empty() {
            return Err("hassio:// needs the host: hassio://HOST/TOKEN".into());
        }
        let token = match u.param("accesstoken").or(u.param("token")) {
            Some(t) => t.to_string(),
            None => u
                .path
                .pop()
                .ok_or("hassio:// needs the access token: hassio://HOST/TOKEN")?,
        };
        if let Some(prefix) = u.param("prefix") {
            u.path = prefix
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if !secure && u.port.is_none() {
            u.port = Some(DEFAULT_PORT);
        }
        Pairs::new()
            .set("server", u.base_url(secure))
            .set("token", token)
            .maybe("notification_id", u.param("nid"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let id = match (&msg.event, settings.get("notification_id")) {
            (Some(run), _) => run.run_id.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => delivery::key(),
        };
        let mut data = json!({ "message": msg.body_with_link(), "notification_id": id });
        if !msg.title.trim().is_empty() {
            data["title"] = json!(msg.title.trim());
        }
        let reply = Request::post(format!(
            "{}/api/services/persistent_notification/create",
            settings.base_url("server", "")?
        ))
        .bearer(settings.require("token")?)
        .json(&data)
        .send()?;
        // Success is 200 (or 201) with the JSON list of states changed; a
        // login page or a proxy's answer is not.
        if !reply.is_success() {
            return Err(reply.status_error_at("message"));
        }
        match reply.json()? {
            mcp_push_sdk::serde_json::Value::Array(_) => Ok(Receipt::id(id)),
            _ => Err(SendError::Unavailable(format!(
                "HTTP {}: expected the list of states changed, got {}",
                reply.status,
                reply.snippet()
            ))),
        }
    }
}

export_channel!(HomeAssistant);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::RunEvent;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhYmMifQ.c2lnbmF0dXJl";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<HomeAssistant>();
    }

    #[test]
    fn parses_apprise_hassio_urls() {
        assert_eq!(
            HomeAssistant::parse_url(&format!("hassio://ha.local/{TOKEN}")).unwrap(),
            vec![
                ("server".into(), "http://ha.local:8123".into()),
                ("token".into(), TOKEN.into()),
            ]
        );
        assert_eq!(
            HomeAssistant::parse_url(&format!("hassios://example.com/home/{TOKEN}?nid=ci"))
                .unwrap(),
            vec![
                ("server".into(), "https://example.com/home".into()),
                ("token".into(), TOKEN.into()),
                ("notification_id".into(), "ci".into()),
            ]
        );
        let q =
            HomeAssistant::parse_url(&format!("hassio://ha.local:80/?token={TOKEN}&prefix=/ha/"))
                .unwrap();
        assert_eq!(q[0].1, "http://ha.local:80/ha");
        assert_eq!(q[1].1, TOKEN);
        assert!(HomeAssistant::parse_url("hassio://ha.local").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<HomeAssistant>()
            .setting("server", "http://ha.local:8123")
            .setting("token", TOKEN)
    }

    fn created() -> Reply {
        Reply::json(200, json!([]))
    }

    /// The documented call: the service's URL, the Bearer token (only on
    /// the wire), JSON `title`, `message`, `notification_id` (the delivery's
    /// key: the same on a retry, another for the next message).
    #[test]
    fn creates_the_documented_notification() {
        let h = harness()
            .reply(Reply::text(502, "Bad Gateway"))
            .reply(created())
            .reply(created());
        let mut msg = message("Backup", "done");
        msg.link = Some("https://ci.example.com/7".into());
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        let first = h.send(&msg).unwrap();
        let next = h.send(&msg).unwrap();
        let reqs = h.requests();
        assert_eq!(
            reqs[0].json()["notification_id"],
            reqs[1].json()["notification_id"]
        );
        assert_ne!(first.remote_id, next.remote_id);
        let req = &reqs[1];
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.url,
            "http://ha.local:8123/api/services/persistent_notification/create"
        );
        assert_ne!(
            req.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        let id = first.remote_id.unwrap();
        assert!(!id.is_empty());
        assert_eq!(
            req.json(),
            json!({"title": "Backup", "message": "done\n\nhttps://ci.example.com/7", "notification_id": id})
        );
        let fixed = harness().setting("notification_id", "ci").reply(created());
        fixed.send(&message("", "x")).unwrap();
        assert_eq!(
            fixed.requests()[0].json(),
            json!({"message": "x", "notification_id": "ci"})
        );
    }

    /// A run's messages share the run id, so each replaces the last.
    #[test]
    fn a_runs_messages_replace_each_other() {
        let h = harness().reply(created()).reply(created());
        for kind in [EventKind::Start, EventKind::End] {
            let mut msg = message("Nightly", "step");
            msg.event = Some(RunEvent {
                run_id: "nightly-7".into(),
                kind,
                progress: None,
                step: None,
                artifact_url: None,
                data: None,
            });
            assert_eq!(
                h.send(&msg).unwrap().remote_id.as_deref(),
                Some("nightly-7")
            );
        }
        for req in h.requests() {
            assert_eq!(req.json()["notification_id"], "nightly-7");
        }
    }

    #[test]
    fn a_long_message_is_sent_whole() {
        let h = harness().reply(created());
        let long = "x".repeat(70000);
        h.send(&message("T", &long)).unwrap();
        assert_eq!(h.requests()[0].json()["message"], long.as_str());
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::text(401, "401: Unauthorized")),
            SendError::Rejected("HTTP 401: 401: Unauthorized".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"message": "Data should be valid JSON."})
            )),
            SendError::Rejected("HTTP 400: Data should be valid JSON.".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"message": "Service persistent_notification.create not found."})
            )),
            SendError::Rejected(
                "HTTP 400: Service persistent_notification.create not found.".into()
            )
        );
        assert!(matches!(
            outcome(Reply::text(404, "404: Not Found")),
            SendError::Rejected(m) if m == "HTTP 404: 404: Not Found"
        ));
        assert!(matches!(
            outcome(Reply::text(405, "405: Method Not Allowed")),
            SendError::Rejected(_)
        ));
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 502")
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>login</html>")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::json(200, json!({"message": "API running."}))),
            SendError::Unavailable(m) if m.contains("list of states")
        ));
    }
}
