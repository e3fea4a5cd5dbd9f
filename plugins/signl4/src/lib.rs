//! SIGNL4 (`SIGNL4_TEAM_SECRET`, Apprise's `signl4://SECRET`).
//!
//! Sources: SIGNL4's webhook documentation (docs.signl4.com, "Integration
//! with Webhook", and its support article "HTTP details": POST JSON to
//! `https://connect.signl4.com/webhook/{teamSecret}`, the team or
//! integration secret being the only credential; `Title` and `Message` are
//! read as the alert's title and text, any other field is shown as a
//! parameter; 201 means received, its body an `eventId`; 400 a body that is
//! not what its content type says, 404 a wrong webhook URL, 405 a method
//! other than POST, 429 too many requests, blocked for a while), its control
//! parameters ("Control parameters": `X-S4-Service`, `X-S4-Location`
//! "lat,long", `X-S4-AlertingScenario` single_ack, multi_ack or emergency,
//! `X-S4-Filtering` a boolean, `X-S4-ExternalID` to correlate events to one
//! alert) and its July 2020 update on `X-S4-Status` (`new` opens an alert,
//! `resolved` closes the one with the same `X-S4-ExternalID`, any other
//! value is discarded); Apprise's `signl4.py` (`signl4://SECRET` or
//! `?secret=`, with `?service=`, `?location=`, `?alerting_scenario=`,
//! `?filtering=`, `?external_id=`, `?status=`). Not in qinglong's
//! notify.py: `SIGNL4_*` are mcp-push's own names (`SIGNL4_TEAM_SECRET` as
//! SIGNL4's own agent skill calls it).
//!
//! Environment: the SDK's rule that a setting read from a name that looks
//! like a credential's must be secret (`mcp_push_policy::masks`) finds "sig"
//! in every `SIGNL4_*` name. So the secret and `SIGNL4_API_URL` (secret, its
//! origin public) are the only environment names; the alert's options are
//! set in the config file or the one-line URL.
//!
//! A run: its events share one alert. Unless an external id and a status
//! are set, a message of a run carries the run's id as `X-S4-ExternalID`
//! and the status `new`, and the run's end sends `resolved`, which closes
//! the alert its start or error opened.
//!
//! Where they differ: Apprise sends `title` and `body` (SIGNL4 also reads
//! those names) and accepts any 200, 201 or 202; here the fields are named
//! as SIGNL4's own examples name them, and success is the documented 201
//! with its `eventId`. Apprise turns any non-empty `filtering` (even
//! `false`) on; here it is read as a yes/no value. SIGNL4 documents no
//! length limit, so a message is sent whole.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::{RunEvent, serde_json};

struct Signl4;

const OFFICIAL: &str = "https://connect.signl4.com";

const SCENARIOS: [&str; 3] = ["single_ack", "multi_ack", "emergency"];

impl Channel for Signl4 {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "signl4",
            "SIGNL4",
            env!("CARGO_PKG_VERSION"),
            "Raises an alert for a SIGNL4 team through its inbound webhook",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "secret",
                "Team or integration secret (the webhook URL's last part)",
            )
            .env(&["SIGNL4_TEAM_SECRET"])
            .required()
            .secret(),
        )
        .setting(Setting::new(
            "service",
            "Category (X-S4-Service) the alert is assigned to",
        ))
        .setting(Setting::new(
            "location",
            "Where it happened, \"latitude,longitude\"",
        ))
        .setting(Setting::new(
            "alerting_scenario",
            "single_ack, multi_ack or emergency (everyone in the team)",
        ))
        .setting(Setting::new(
            "filtering",
            "true: only alert when a category's keywords match",
        ))
        .setting(Setting::new(
            "external_id",
            "A fixed X-S4-ExternalID; else a run's id",
        ))
        .setting(Setting::new(
            "status",
            "A fixed X-S4-Status (new, resolved); else from the run",
        ))
        .setting(
            Setting::new("api_url", "API base URL, for a proxy or tests")
                .env(&["SIGNL4_API_URL"])
                .secret(),
        )
        .allow_host("connect.signl4.com")
        .allow_host("setting:api_url.origin")
        .schemes(&["signl4"])
    }

    /// `signl4://SECRET[?service=&location=&alerting_scenario=&filtering=&external_id=&status=]`
    /// (or `signl4://?secret=SECRET`).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["signl4"])?;
        let secret = u
            .param("secret")
            .map(str::to_string)
            .or_else(|| (!u.host.is_empty()).then(|| u.host.clone()))
            .ok_or("signl4:// needs the team secret: signl4://SECRET")?;
        let mut pairs = Pairs::new().set("secret", secret);
        for key in [
            "service",
            "location",
            "alerting_scenario",
            "filtering",
            "external_id",
            "status",
        ] {
            pairs = pairs.maybe(key, u.param(key));
        }
        let pairs = pairs.done()?;
        control(&Settings::from(pairs.clone()), None).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let secret = settings.require("secret")?;
        // A message without a title takes the start of its body's first
        // line, as the alert list shows titles.
        let title = match msg.title.trim() {
            "" => msg.headline(200),
            t => t.to_string(),
        };
        let mut event = json!({
            "Title": title,
            "Message": msg.body_with_link(),
            "X-S4-SourceSystem": "mcp-push",
        });
        for (field, value) in control(settings, msg.event.as_ref())? {
            event[field] = value;
        }
        let reply = Request::post(format!("{}/webhook/{secret}", api_url(settings)))
            .json(&event)
            .send()?;
        // 201 with the event's id is success; SIGNL4's refusals are HTTP
        // statuses (400, 404, 405, 429), their bodies only a description.
        if reply.status != 201 && reply.is_success() {
            return Err(SendError::Unavailable(format!(
                "HTTP {}: expected 201, got {}",
                reply.status,
                reply.snippet()
            )));
        }
        let value = reply.check(&Check::field("eventId").message("message").message("error"))?;
        Ok(Receipt::from_reply(&value, "eventId"))
    }

    /// The API URL's origin is public, the rest (a proxy's path, say) not;
    /// a lone trailing `/` belongs to neither.
    fn shapes() -> Vec<Shape> {
        vec![Shape::new("api_url").form(
            "url",
            r"(?P<origin>[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+)/?(?P<rest>[/?#].*)?",
            &["origin"],
        )]
    }
}

/// `api_url` is secret (see the top), so it arrives as a placeholder with
/// its origin in clear: a bare origin is used as such, a URL with a path
/// whole; absent, the official server.
fn api_url(settings: &Settings) -> String {
    match (settings.get("api_url.origin"), settings.get("api_url.rest")) {
        (Some(origin), None) => origin.to_string(),
        _ => settings.get_or("api_url", OFFICIAL).to_string(),
    }
}

/// The control parameters: the settings given, checked, then the run's
/// correlation when the message belongs to one.
fn control(
    settings: &Settings,
    run: Option<&RunEvent>,
) -> Result<Vec<(&'static str, serde_json::Value)>, SendError> {
    let mut out: Vec<(&'static str, serde_json::Value)> = settings
        .fields(&[
            ("service", "X-S4-Service"),
            ("location", "X-S4-Location"),
            ("external_id", "X-S4-ExternalID"),
        ])
        .into_iter()
        .map(|(field, value)| (field, json!(value.trim())))
        .collect();
    if let Some(scenario) = settings.get("alerting_scenario") {
        let scenario = settings.choice("alerting_scenario", &SCENARIOS, scenario)?;
        out.push(("X-S4-AlertingScenario", json!(scenario)));
    }
    if let Some(on) = settings.flag("filtering")? {
        out.push(("X-S4-Filtering", json!(on)));
    }
    if let Some(location) = settings.get("location") {
        let numbers: Vec<&str> = location.split(',').map(str::trim).collect();
        if numbers.len() != 2 || numbers.iter().any(|n| n.parse::<f64>().is_err()) {
            return Err(SendError::Config(format!(
                "location must be \"latitude,longitude\", not {location:?}"
            )));
        }
    }
    let status = settings.get("status").map(|s| s.trim().to_string());
    if let Some(run) = run {
        if settings.get("external_id").is_none() {
            out.push(("X-S4-ExternalID", json!(format!("mcp-push-{}", run.run_id))));
        }
        if status.is_none() {
            let state = if run.kind == EventKind::End {
                "resolved"
            } else {
                "new"
            };
            out.push(("X-S4-Status", json!(state)));
        }
    }
    if let Some(s) = status {
        out.push(("X-S4-Status", json!(s)));
    }
    Ok(out)
}

export_channel!(Signl4);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const SECRET: &str = "g93sdfm2843";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Signl4>();
    }

    #[test]
    fn parses_apprise_signl4_urls() {
        assert_eq!(
            Signl4::parse_url(&format!("signl4://{SECRET}")).unwrap(),
            vec![("secret".into(), SECRET.into())]
        );
        let s = Signl4::parse_url(&format!(
            "signl4://{SECRET}?service=Backup&alerting_scenario=multi_ack&filtering=yes&external_id=INC1&status=new&location=52.39,13.05"
        ))
        .unwrap();
        assert_eq!(
            s,
            vec![
                ("secret".into(), SECRET.into()),
                ("service".into(), "Backup".into()),
                ("location".into(), "52.39,13.05".into()),
                ("alerting_scenario".into(), "multi_ack".into()),
                ("filtering".into(), "yes".into()),
                ("external_id".into(), "INC1".into()),
                ("status".into(), "new".into()),
            ]
        );
        let q = Signl4::parse_url(&format!("signl4://?secret={SECRET}")).unwrap();
        assert_eq!(q[0].1, SECRET);
        assert!(Signl4::parse_url("signl4://").is_err());
        for bad in [
            "alerting_scenario=everyone",
            "filtering=maybe",
            "location=Berlin",
        ] {
            assert!(
                Signl4::parse_url(&format!("signl4://{SECRET}?{bad}")).is_err(),
                "{bad}"
            );
        }
    }

    fn harness() -> Harness {
        Harness::new::<Signl4>().setting("secret", SECRET)
    }

    fn received() -> Reply {
        Reply::json(
            201,
            json!({"eventId": "2518981069381242800_2ab1b5e0-f1b7-4c3e-9adf-6c157eeb4685"}),
        )
    }

    /// The documented request: JSON POSTed to `/webhook/{secret}`, the
    /// secret only on the wire, the control parameters beside the text.
    #[test]
    fn posts_the_documented_event() {
        let h = harness()
            .setting("service", "Backup")
            .setting("location", "52.3984235,13.0544149")
            .setting("alerting_scenario", "Emergency")
            .setting("filtering", "false")
            .reply(received());
        let mut msg = message("Disk full", "/var at 99%");
        msg.link = Some("https://grafana.example.com/d/1".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("2518981069381242800_2ab1b5e0-f1b7-4c3e-9adf-6c157eeb4685")
        );
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains(SECRET));
        assert_eq!(
            h.on_the_wire()[0].url,
            format!("https://connect.signl4.com/webhook/{SECRET}")
        );
        assert_eq!(
            req.json(),
            json!({
                "Title": "Disk full",
                "Message": "/var at 99%\n\nhttps://grafana.example.com/d/1",
                "X-S4-SourceSystem": "mcp-push",
                "X-S4-Service": "Backup",
                "X-S4-Location": "52.3984235,13.0544149",
                "X-S4-AlertingScenario": "emergency",
                "X-S4-Filtering": false,
            })
        );
    }

    fn run_message(kind: EventKind) -> Message {
        let mut msg = message("nightly", "step 3");
        msg.event = Some(RunEvent {
            run_id: "r-42".into(),
            kind,
            progress: None,
            step: None,
            artifact_url: None,
            data: None,
        });
        msg
    }

    /// A run's messages share one alert: `new` until its end, which
    /// resolves it; fixed settings win.
    #[test]
    fn a_runs_end_resolves_the_alert_its_start_opened() {
        for (kind, status) in [
            (EventKind::Start, "new"),
            (EventKind::Update, "new"),
            (EventKind::Error, "new"),
            (EventKind::End, "resolved"),
        ] {
            let h = harness().reply(received());
            h.send(&run_message(kind)).unwrap();
            let b = h.requests()[0].json();
            assert_eq!(b["X-S4-ExternalID"], "mcp-push-r-42", "{kind:?}");
            assert_eq!(b["X-S4-Status"], status, "{kind:?}");
        }
        let h = harness()
            .setting("external_id", "INC7")
            .setting("status", "new")
            .reply(received());
        h.send(&run_message(EventKind::End)).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["X-S4-ExternalID"], "INC7");
        assert_eq!(b["X-S4-Status"], "new");
        // Outside a run, nothing correlates.
        let h = harness().reply(received());
        h.send(&message("T", "B")).unwrap();
        let b = h.requests()[0].json();
        assert!(b.get("X-S4-ExternalID").is_none() && b.get("X-S4-Status").is_none());
    }

    #[test]
    fn an_api_url_replaces_the_official_origin() {
        for given in ["http://127.0.0.1:9", "http://127.0.0.1:9/"] {
            let h = harness().setting("api_url", given).reply(received());
            h.send(&message("T", "B")).unwrap();
            assert_eq!(
                h.on_the_wire()[0].url,
                format!("http://127.0.0.1:9/webhook/{SECRET}")
            );
        }
    }

    #[test]
    fn a_body_alone_gives_the_title_its_first_line() {
        let h = harness().reply(received());
        h.send(&message("", "Backup failed\nexit 3")).unwrap();
        assert_eq!(h.requests()[0].json()["Title"], "Backup failed");
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert!(matches!(
            outcome(Reply::json(400, json!({"message": "The request body is invalid."}))),
            SendError::Rejected(m) if m == "HTTP 400: The request body is invalid."
        ));
        assert!(matches!(
            outcome(Reply::json(404, json!({"message": "Team not found."}))),
            SendError::Rejected(m) if m == "HTTP 404: Team not found."
        ));
        assert!(matches!(
            outcome(Reply::text(405, "Method Not Allowed")),
            SendError::Rejected(m) if m.contains("405")
        ));
        assert_eq!(
            outcome(
                Reply::json(429, json!({"message": "Too many requests."}))
                    .header("retry-after", "120")
            ),
            SendError::RateLimited(Some(120))
        );
        assert!(matches!(
            outcome(Reply::text(503, "Service Unavailable")),
            SendError::Unavailable(m) if m.contains("503")
        ));
        // Not the documented 201 with an event id: not known to be raised.
        assert!(matches!(
            outcome(Reply::text(200, "<html>portal</html>")),
            SendError::Unavailable(_)
        ));
        assert!(matches!(
            outcome(Reply::json(201, json!({}))),
            SendError::Rejected(_)
        ));
    }
}
