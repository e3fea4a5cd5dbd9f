//! PagerDuty alerts through the Events API v2 (`PAGERDUTY_ROUTING_KEY`,
//! Apprise's `pagerduty://INTEGRATION_KEY@API_KEY[/SOURCE[/COMPONENT]]`).
//!
//! Sources: PagerDuty's developer docs (developer.pagerduty.com, "Send an
//! Alert Event": POST `https://events.pagerduty.com/v2/enqueue`, JSON
//! `routing_key` (the integration key), `event_action` `trigger`,
//! `acknowledge` or `resolve`, `dedup_key` (at most 255 characters; made up
//! by PagerDuty and returned when a trigger has none), `payload.summary` (at
//! most 1,024 characters), `payload.source`, `payload.severity` (`critical`,
//! `error`, `warning`, `info`), optional `component`, `group`, `class`,
//! `custom_details`, and `links`; a resolve needs only the routing key and
//! the dedup key; "Response Codes & Retry Logic": 202 accepted, 400 a bad
//! event (not retried), 429 too many calls and 5xx (retried); the body
//! `{status: "success", message: "Event processed", dedup_key}` and
//! `{status: "invalid event", message: "Event object is invalid", errors: [...]}`
//! as client libraries' tests show it; events.eu.pagerduty.com for EU
//! accounts); Apprise's `pagerduty.py` (the URL form, `?region=us|eu`,
//! `?group=`, `?class=`, `?click=`, `?severity=`, source `Apprise` and
//! component `Notification` by default). Not in qinglong's notify.py:
//! `PAGERDUTY_*` are mcp-push's own names.
//!
//! A run is one alert: every event of the run carries the run id as the
//! `dedup_key`, so `start`, `update` and `error` trigger (or add to) the
//! same alert and the run's `end` resolves it. A message outside a run
//! triggers an alert of its own, its key PagerDuty's.
//!
//! Where the sources differ: Apprise also sends its API key (`Authorization:
//! Token token=…`), which the Events API does not use; the key in the URL
//! is accepted and not sent. Apprise's summary is the body alone; here it is
//! the title and the body, as PagerDuty shows it as the alert's title.
//!
//! Length: the summary holds 1,024 characters; a longer message is cut with
//! `…` there and sent whole in `custom_details.message`.

use mcp_push_sdk::prelude::*;

struct PagerDuty;

const OFFICIAL: &str = "https://events.pagerduty.com";
const OFFICIAL_EU: &str = "https://events.eu.pagerduty.com";

/// `payload.summary` holds 1,024 characters.
const SUMMARY: Limit = Limit::Chars(1024);
/// `dedup_key` holds 255 characters.
const DEDUP_KEY: Limit = Limit::Chars(255);

const SEVERITIES: [&str; 4] = ["info", "warning", "error", "critical"];

impl Channel for PagerDuty {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pagerduty",
            "PagerDuty",
            env!("CARGO_PKG_VERSION"),
            "Triggers PagerDuty alerts (Events API v2); a run's end resolves its alert",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "routing_key",
                "Integration key of an Events API v2 integration",
            )
            .env(&["PAGERDUTY_ROUTING_KEY"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new("source", "The affected system (a host name, say)")
                .env(&["PAGERDUTY_SOURCE"])
                .default_value("mcp-push"),
        )
        .setting(Setting::new("component", "Component of the source").env(&["PAGERDUTY_COMPONENT"]))
        .setting(Setting::new("group", "Logical group of components").env(&["PAGERDUTY_GROUP"]))
        .setting(Setting::new("class", "Class or type of the event").env(&["PAGERDUTY_CLASS"]))
        .setting(
            Setting::new(
                "severity",
                "info, warning, error or critical (else from the message's priority)",
            )
            .env(&["PAGERDUTY_SEVERITY"]),
        )
        .setting(
            Setting::new("region", "us or eu (events.eu.pagerduty.com)")
                .env(&["PAGERDUTY_REGION"])
                .default_value("us"),
        )
        // No default: the region picks the official host.
        .setting(
            Setting::new("api_url", "API base URL, for a proxy or tests")
                .env(&["PAGERDUTY_API_URL"]),
        )
        .allow_host("events.pagerduty.com")
        .allow_host("events.eu.pagerduty.com")
        .allow_host("setting:api_url")
        .schemes(&["pagerduty"])
    }

    /// `pagerduty://INTEGRATION_KEY@API_KEY[/SOURCE[/COMPONENT]]` with
    /// `?region=`, `?group=`, `?class=`, `?severity=`, `?source=`,
    /// `?component=`, `?integrationkey=`, as in Apprise.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["pagerduty"])?;
        let key = u
            .param("integrationkey")
            .or(u.user.as_deref())
            .ok_or("pagerduty:// needs the integration key: pagerduty://INTEGRATION_KEY@API_KEY")?;
        let mut path = u.path.iter();
        let source = u.param("source").or(path.next().map(String::as_str));
        let component = u.param("component").or(path.next().map(String::as_str));
        let severity = match u.param("severity") {
            // Apprise takes any prefix of a severity's name.
            Some(s) => Some(
                SEVERITIES
                    .into_iter()
                    .find(|name| name.starts_with(&s.to_ascii_lowercase()))
                    .ok_or(format!(
                        "pagerduty:// severity {s:?} is not one of {SEVERITIES:?}"
                    ))?,
            ),
            None => None,
        };
        Pairs::new()
            .set("routing_key", key)
            .maybe("source", source)
            .maybe("component", component)
            .maybe("group", u.param("group"))
            .maybe("class", u.param("class"))
            .maybe("severity", severity)
            .maybe("region", u.param("region"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let region = settings.choice("region", &["us", "eu"], "us")?;
        let official = if region == "eu" {
            OFFICIAL_EU
        } else {
            OFFICIAL
        };
        let url = format!("{}/v2/enqueue", settings.base_url("api_url", official)?);
        let run = msg.event.as_ref();
        let dedup_key = run.map(|e| truncate(&e.run_id, DEDUP_KEY, ""));
        let mut event = json!({
            "routing_key": settings.require("routing_key")?,
            "event_action": "trigger",
        });
        if let Some(key) = &dedup_key {
            event["dedup_key"] = json!(key);
        }
        if run.is_some_and(|e| e.kind == EventKind::End) {
            // The run is over: its alert is resolved, nothing more.
            event["event_action"] = json!("resolve");
        } else {
            event["payload"] = payload(settings, msg)?;
            event["client"] = json!("mcp-push");
            let links: Vec<_> = msg
                .link
                .iter()
                .chain(run.and_then(|e| e.artifact_url.as_ref()))
                .filter(|l| !l.is_empty())
                .map(|l| json!({ "href": l }))
                .collect();
            if !links.is_empty() {
                event["links"] = json!(links);
            }
        }
        // Success is 202 with `status: "success"` and the alert's
        // `dedup_key`; a bad event says why in `errors`.
        let reply = Request::post(url).json(&event).send()?.check(
            &Check::field("status")
                .eq_str("success")
                .message("errors")
                .message("message"),
        )?;
        Ok(Receipt::maybe(id_at(&reply, "dedup_key").or(dedup_key)))
    }
}

/// The alert's `payload`: the summary (title and body), the source, the
/// severity (the setting, else the priority's: low and normal `info`, high
/// `warning`, urgent `critical`; a run's `error` at least `error`), the
/// optional fields that are set, the whole text when the summary cut it.
fn payload(
    settings: &Settings,
    msg: &Message,
) -> Result<mcp_push_sdk::serde_json::Value, SendError> {
    let text = join_title(msg.title.trim(), msg.body.trim(), ": ");
    let summary = truncate(&text, SUMMARY, CUT_MARKER);
    let severity = match settings.get("severity") {
        Some(_) => settings.choice("severity", &SEVERITIES, "info")?,
        None => {
            let by_priority = msg.priority.on(["info", "info", "warning", "critical"]);
            let failed = msg
                .event
                .as_ref()
                .is_some_and(|e| e.kind == EventKind::Error);
            if failed && by_priority != "critical" {
                "error"
            } else {
                by_priority
            }
        }
    };
    let mut payload = json!({
        "summary": if summary.is_empty() { "(no text)".to_string() } else { summary.clone() },
        "source": settings.get_or("source", "mcp-push"),
        "severity": severity,
    });
    settings.copy_into(&mut payload, &["component", "group", "class"]);
    if summary != text {
        payload["custom_details"] = json!({ "message": msg.text() });
    }
    Ok(payload)
}

export_channel!(PagerDuty);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::RunEvent;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const KEY: &str = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<PagerDuty>();
    }

    #[test]
    fn parses_apprise_pagerduty_urls() {
        assert_eq!(
            PagerDuty::parse_url(&format!("pagerduty://{KEY}@apikey/db01/mysql?group=prod&class=deploy&severity=crit&region=eu")).unwrap(),
            vec![
                ("routing_key".into(), KEY.into()),
                ("source".into(), "db01".into()),
                ("component".into(), "mysql".into()),
                ("group".into(), "prod".into()),
                ("class".into(), "deploy".into()),
                ("severity".into(), "critical".into()),
                ("region".into(), "eu".into()),
            ]
        );
        assert_eq!(
            PagerDuty::parse_url(&format!("pagerduty://apikey?integrationkey={KEY}")).unwrap(),
            vec![("routing_key".into(), KEY.into())]
        );
        assert!(PagerDuty::parse_url("pagerduty://apikey").is_err());
        assert!(PagerDuty::parse_url(&format!("pagerduty://{KEY}@apikey?severity=loud")).is_err());
    }

    fn harness() -> Harness {
        Harness::new::<PagerDuty>().setting("routing_key", KEY)
    }

    fn accepted(key: &str) -> Reply {
        Reply::json(
            202,
            json!({"status": "success", "message": "Event processed", "dedup_key": key}),
        )
    }

    fn run(kind: EventKind) -> RunEvent {
        RunEvent {
            run_id: "r-20261204-7".into(),
            kind,
            progress: None,
            step: None,
            artifact_url: None,
            data: None,
        }
    }

    /// The documented trigger: the routing key (only on the wire), the
    /// summary, source and severity, the optional fields when set, the link;
    /// PagerDuty's dedup key is the receipt.
    #[test]
    fn triggers_the_documented_event() {
        let h = harness()
            .setting("component", "mysql")
            .setting("group", "prod-datapipe")
            .reply(accepted("5f1e3c0a"));
        let mut msg = message("Backup failed", "disk full");
        msg.priority = Priority::High;
        msg.link = Some("https://ci.example.com/7".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("5f1e3c0a"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://events.pagerduty.com/v2/enqueue");
        let body = req.json();
        assert_ne!(body["routing_key"], KEY);
        assert_eq!(h.on_the_wire()[0].json()["routing_key"], KEY);
        assert_eq!(
            body,
            json!({
                "routing_key": body["routing_key"],
                "event_action": "trigger",
                "client": "mcp-push",
                "payload": {
                    "summary": "Backup failed: disk full", "source": "mcp-push",
                    "severity": "warning", "component": "mysql", "group": "prod-datapipe",
                },
                "links": [{"href": "https://ci.example.com/7"}],
            })
        );
        let eu = harness()
            .setting("region", "eu")
            .setting("severity", "critical")
            .reply(accepted("k"));
        eu.send(&message("T", "B")).unwrap();
        assert_eq!(
            eu.requests()[0].url,
            "https://events.eu.pagerduty.com/v2/enqueue"
        );
        assert_eq!(eu.requests()[0].json()["payload"]["severity"], "critical");
    }

    /// A run is one alert: its events trigger with the run id as the dedup
    /// key, an `error` at least at `error` severity; its `end` resolves it.
    #[test]
    fn a_runs_end_resolves_its_alert() {
        let h = harness()
            .reply(accepted("r-20261204-7"))
            .reply(accepted("r-20261204-7"))
            .reply(accepted("r-20261204-7"));
        for kind in [EventKind::Start, EventKind::Error, EventKind::End] {
            let mut msg = message("Nightly", "step");
            msg.event = Some(run(kind));
            let receipt = h.send(&msg).unwrap();
            assert_eq!(receipt.remote_id.as_deref(), Some("r-20261204-7"));
        }
        let reqs = h.requests();
        assert_eq!(reqs[0].json()["event_action"], "trigger");
        assert_eq!(reqs[0].json()["dedup_key"], "r-20261204-7");
        assert_eq!(reqs[0].json()["payload"]["severity"], "info");
        assert_eq!(reqs[1].json()["event_action"], "trigger");
        assert_eq!(reqs[1].json()["payload"]["severity"], "error");
        let end = reqs[2].json();
        assert_eq!(
            end,
            json!({"routing_key": end["routing_key"], "event_action": "resolve", "dedup_key": "r-20261204-7"})
        );
    }

    /// Over 1,024 characters the summary is cut; the whole text goes along.
    #[test]
    fn a_long_summary_is_cut_and_the_text_kept_in_details() {
        let h = harness().reply(accepted("k"));
        let long = "x".repeat(3000);
        h.send(&message("T", &long)).unwrap();
        let payload = &h.requests()[0].json()["payload"];
        let summary = payload["summary"].as_str().unwrap();
        assert_eq!(summary.chars().count(), 1024);
        assert!(summary.ends_with(CUT_MARKER));
        assert_eq!(payload["custom_details"]["message"], format!("T\n\n{long}"));
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"status": "invalid event", "message": "Event object is invalid",
                       "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"]})
            )),
            SendError::Rejected(
                "status invalid event: Length of 'routing_key' is incorrect (should be 32 characters)"
                    .into()
            )
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"status": "invalid event", "message": "Event object is invalid"})
            )),
            SendError::Rejected("status invalid event: Event object is invalid".into())
        );
        assert_eq!(
            outcome(Reply::text(429, "Request Limit Exceeded")),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(Reply::text(500, "Internal Server Error")),
            SendError::Unavailable(m) if m.starts_with("HTTP 500")
        ));
        assert!(matches!(
            outcome(Reply::text(503, "")),
            SendError::Unavailable(_)
        ));
    }
}
