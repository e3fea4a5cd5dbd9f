//! An Apprise API server (`APPRISE_API_URL`, `APPRISE_API_KEY`, Apprise's
//! `apprise://HOST/KEY` and `apprises://HOST/KEY`): the message goes to the
//! services saved under a key on a self-hosted apprise-api.
//!
//! Sources: apprise-api's README ("Persistent Storage Solution": POST
//! `/notify/{KEY}`, JSON (with `Content-Type: application/json`) `body` (the
//! only required field), `title`, `type` (`info`, `success`, `warning`,
//! `failure`), `format` (`text`, `markdown`, `html`), `tag`; `BASE_URL` for a
//! server under a path) and its `NotifyView` (`apprise_api/api/views.py`):
//! 200 "Notification(s) sent."; 204 "There was no configuration found." (an
//! unknown key: nothing was sent); 400 for a bad payload, format or
//! recursion value; 406 when the recursion limit is reached; 424 "One or
//! more notification could not be sent."; 500 when the configuration cannot
//! be read; with `Accept: application/json` an error is `{"error": ...}`);
//! Apprise's `NotifyAppriseAPI.py` (the URL form
//! `apprise[s]://[USER[:PASSWORD]@]HOST[:PORT][/PATH]/KEY`, the key the last
//! path segment or `?token=`/`?to=`, `?tags=`, HTTP Basic auth from the URL's
//! user and password, success only on 200). Not in qinglong's notify.py:
//! `APPRISE_API_*` are mcp-push's own names.
//!
//! Where the sources differ: Apprise can post a form (`?method=form`); this
//! channel always posts JSON (the server takes both), and Apprise's
//! `+HEADER=value` extra headers are not read from the URL. A 424 means some
//! of the key's services failed behind the server: it is retried, which sends
//! to all of them again (the server keeps no per-service state).
//!
//! Length: apprise-api documents no limit (each service behind it applies
//! its own), so a message is sent whole.

use mcp_push_sdk::prelude::*;

struct AppriseApi;

impl Channel for AppriseApi {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "apprise-api",
            "Apprise API",
            env!("CARGO_PKG_VERSION"),
            "Forwards to the services saved under a key on an apprise-api server",
        )
        .formats(&["text", "markdown", "html"])
        .setting(
            Setting::new("url", "The apprise-api server (http://localhost:8000)")
                .env(&["APPRISE_API_URL"])
                .required(),
        )
        .setting(
            Setting::new("key", "The configuration key ({KEY} of /notify/{KEY})")
                .env(&["APPRISE_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "tags",
                "Notify only the services with these tags, comma-separated",
            )
            .env(&["APPRISE_API_TAGS"]),
        )
        .setting(Setting::new("username", "HTTP Basic auth user").env(&["APPRISE_API_USER"]))
        .setting(
            Setting::new("password", "HTTP Basic auth password")
                .env(&["APPRISE_API_PASSWORD"])
                .secret(),
        )
        .allow_host("setting:url")
        .schemes(&["apprise", "apprises"])
    }

    /// `apprise[s]://[USER[:PASSWORD]@]HOST[:PORT][/PATH]/KEY[?tags=...]`,
    /// or the key in `?token=` or `?to=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let mut u = OneLine::parse(url, &["apprise", "apprises"])?;
        if u.host.is_empty() {
            return Err("apprise:// needs the server: apprise://HOST/KEY".into());
        }
        let key = match u.param("token").or(u.param("to")) {
            Some(k) => k.to_string(),
            None => u
                .path
                .pop()
                .ok_or("apprise:// needs the key: apprise://HOST/KEY")?,
        };
        Pairs::new()
            .set("url", u.base_url(u.scheme == "apprises"))
            .set("key", key)
            .maybe("tags", u.param("tags").or(u.param("tag")))
            .maybe("username", u.user.clone())
            .maybe("password", u.password.clone())
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let body = if msg.body.trim().is_empty() {
            msg.title.clone()
        } else {
            msg.body_with_link()
        };
        let mut payload = json!({
            "body": body,
            "title": msg.title,
            "type": notify_type(msg),
            "format": match msg.format {
                Format::Markdown => "markdown",
                Format::Html => "html",
                Format::Text => "text",
            },
        });
        let tags = settings.list("tags", &[',', ' ']);
        if !tags.is_empty() {
            payload["tag"] = json!(tags.join(","));
        }
        let mut req = Request::post(format!("{}/notify", settings.base_url("url", "")?))
            .segment(settings.require("key")?)
            .header("Accept", "application/json")
            .json(&payload);
        if let Some(user) = settings.get("username") {
            req = req.basic_auth(user, settings.get_or("password", ""));
        }
        let reply = req.send()?;
        // Success is 200 alone: 204 says the key has no configuration, so
        // nothing was sent. A refusal says why in `error`.
        match reply.status {
            200 => Ok(Receipt::none()),
            204 => Err(SendError::Rejected(
                "HTTP 204: there is no configuration under this key".into(),
            )),
            // Some of the key's services failed behind the server.
            424 => Err(SendError::Unavailable(reply.why_at("error"))),
            _ => Err(reply.status_error_at("error")),
        }
    }
}

/// Apprise's notification type: a run's error is a `failure`, its end a
/// `success`; otherwise a high or urgent message is a `warning`.
fn notify_type(msg: &Message) -> &'static str {
    match msg.event.as_ref().map(|e| e.kind) {
        Some(EventKind::Error) => "failure",
        Some(EventKind::End) => "success",
        _ => msg.priority.on(["info", "info", "warning", "warning"]),
    }
}

export_channel!(AppriseApi);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::RunEvent;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<AppriseApi>();
    }

    #[test]
    fn parses_apprise_urls() {
        assert_eq!(
            AppriseApi::parse_url("apprise://localhost:8000/abc123").unwrap(),
            vec![
                ("url".into(), "http://localhost:8000".into()),
                ("key".into(), "abc123".into()),
            ]
        );
        assert_eq!(
            AppriseApi::parse_url(
                "apprises://me:s3cret@notify.example.com/apprise/abc123?tags=devops,admin"
            )
            .unwrap(),
            vec![
                ("url".into(), "https://notify.example.com/apprise".into()),
                ("key".into(), "abc123".into()),
                ("tags".into(), "devops,admin".into()),
                ("username".into(), "me".into()),
                ("password".into(), "s3cret".into()),
            ]
        );
        let q = AppriseApi::parse_url("apprise://localhost/?to=abc123").unwrap();
        assert_eq!(q[1], ("key".into(), "abc123".into()));
        assert!(AppriseApi::parse_url("apprise://localhost").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<AppriseApi>()
            .setting("url", "http://localhost:8000")
            .setting("key", "abc123")
    }

    fn sent() -> Reply {
        Reply::text(200, "Notification(s) sent.")
    }

    /// The documented request: JSON to `/notify/{KEY}` (the key only on the
    /// wire), `body`, `title`, `type`, `format`, the tags when set.
    #[test]
    fn posts_the_documented_json() {
        let h = harness()
            .setting("tags", "devops, admin")
            .setting("username", "me")
            .setting("password", "pw")
            .reply(sent());
        let mut msg = message("Deploy", "**done**");
        msg.format = Format::Markdown;
        msg.priority = Priority::High;
        msg.link = Some("https://ci.example.com/7".into());
        assert!(h.send(&msg).unwrap().remote_id.is_none());
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains("abc123"), "{}", req.url);
        assert_eq!(
            h.on_the_wire()[0].url,
            "http://localhost:8000/notify/abc123"
        );
        assert_eq!(req.header("accept"), Some("application/json"));
        assert_eq!(req.basic_auth.as_ref().map(|(u, _)| u.as_str()), Some("me"));
        assert_eq!(
            req.json(),
            json!({
                "body": "**done**\n\nhttps://ci.example.com/7", "title": "Deploy",
                "type": "warning", "format": "markdown", "tag": "devops,admin",
            })
        );
        // A title alone is the body too (the server requires one).
        let bare = harness().reply(sent());
        bare.send(&message("Only a title", "")).unwrap();
        assert_eq!(bare.requests()[0].json()["body"], "Only a title");
        assert!(bare.requests()[0].basic_auth.is_none());
    }

    #[test]
    fn a_runs_error_is_a_failure_and_its_end_a_success() {
        for (kind, want) in [
            (EventKind::Start, "info"),
            (EventKind::Error, "failure"),
            (EventKind::End, "success"),
        ] {
            let mut msg = message("Nightly", "step");
            msg.event = Some(RunEvent {
                run_id: "r1".into(),
                kind,
                progress: None,
                step: None,
                artifact_url: None,
                data: None,
            });
            assert_eq!(notify_type(&msg), want);
        }
    }

    #[test]
    fn a_long_message_is_sent_whole() {
        let h = harness().reply(sent());
        let long = "x".repeat(70000);
        h.send(&message("T", &long)).unwrap();
        assert_eq!(h.requests()[0].json()["body"], long.as_str());
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    fn error(status: u16, text: &str) -> Reply {
        Reply::json(status, json!({ "error": text }))
    }

    #[test]
    fn each_documented_answer_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(error(204, "There was no configuration found.")),
            SendError::Rejected("HTTP 204: there is no configuration under this key".into())
        );
        assert_eq!(
            outcome(error(400, "An invalid payload was specified.")),
            SendError::Rejected("HTTP 400: An invalid payload was specified.".into())
        );
        assert_eq!(
            outcome(Reply::text(406, "The recursion limit has been reached.")),
            SendError::Rejected("HTTP 406: The recursion limit has been reached.".into())
        );
        assert_eq!(
            outcome(error(424, "One or more notification could not be sent.")),
            SendError::Unavailable("HTTP 424: One or more notification could not be sent.".into())
        );
        assert_eq!(
            outcome(error(500, "An error occured accessing configuration.")),
            SendError::Unavailable("HTTP 500: An error occured accessing configuration.".into())
        );
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "3")),
            SendError::RateLimited(Some(3))
        );
    }
}
