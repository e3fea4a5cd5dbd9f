//! Splunk On-Call, formerly VictorOps (`SPLUNK_ONCALL_API_KEY`,
//! `SPLUNK_ONCALL_ROUTING_KEY`, Apprise's `splunk://ROUTING_KEY@APIKEY` and
//! `victorops://`).
//!
//! Sources: Splunk On-Call's REST Endpoint integration guide (Splunk's
//! observability docs, "REST Endpoint integration for Splunk On-Call", and
//! VictorOps' older knowledge-base page of the same name): POST JSON to
//! `https://alert.victorops.com/integrations/generic/20131114/alert/{REST
//! endpoint key}/{routing key}`; only `message_type` is required: CRITICAL
//! (triggers an incident), WARNING (may, by the team's settings),
//! ACKNOWLEDGEMENT, INFO (a timeline entry, no incident), RECOVERY (resolves);
//! `entity_id` is the incident's identity through its life-cycle (random when
//! left out), `entity_display_name` its summary, `state_message` the long
//! text ("a high character limit"), `monitoring_tool` the sender; the reply
//! is `{"result": "success", "entity_id": …}` or `{"result": "failure",
//! "message": "Missing fields: message_type"}`. Apprise's `splunk.py`:
//! `splunk://ROUTING_KEY@APIKEY[/ENTITY_ID]` (or `victorops://`, and
//! `?apikey=`, `?routing_key=`/`?route=`, `?entity_id=`), `?action=` one of
//! map, info, warning, critical, acknowledgement, recovery, resolve (a prefix
//! picks), the entity `Apprise/{routing key}` unless given. Not in qinglong's
//! notify.py: `SPLUNK_ONCALL_*` are mcp-push's own names.
//!
//! `action` "map" (the default) picks the message type from the message: a
//! run's start and updates are INFO, its error CRITICAL and its end RECOVERY
//! (the run's own entity, so the end resolves the incident its error
//! opened); outside a run, urgent is CRITICAL, high WARNING, the rest INFO.
//!
//! Where they differ: Apprise cuts the title at 60 characters and the body
//! at 400; the guide gives no limit and calls `state_message`'s high, so a
//! message is sent whole. Apprise's `:info=critical`-style remapping is not
//! taken; `action` fixes one type instead. The routing key is a secret here
//! (the SDK takes any setting named like a key for one), so the default
//! entity is `mcp-push/{routing key}` filled in by the host.

use mcp_push_sdk::prelude::*;

struct SplunkOnCall;

const OFFICIAL: &str = "https://alert.victorops.com";

/// Apprise's actions, in its order (a given prefix picks the first that
/// starts with it), and the message type each one fixes; `map` fixes none.
const ACTIONS: [(&str, Option<&str>); 7] = [
    ("map", None),
    ("info", Some("INFO")),
    ("acknowledgement", Some("ACKNOWLEDGEMENT")),
    ("warning", Some("WARNING")),
    ("recovery", Some("RECOVERY")),
    ("resolve", Some("RECOVERY")),
    ("critical", Some("CRITICAL")),
];

impl Channel for SplunkOnCall {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "splunk-oncall",
            "Splunk On-Call (VictorOps)",
            env!("CARGO_PKG_VERSION"),
            "Raises, updates and resolves Splunk On-Call incidents through its REST endpoint",
        )
        .formats(&["text"])
        .setting(
            Setting::new("api_key", "The REST endpoint's key (from its URL)")
                .env(&["SPLUNK_ONCALL_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "routing_key",
                "Routing key: which team's escalation it reaches",
            )
            .env(&["SPLUNK_ONCALL_ROUTING_KEY"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new("entity_id", "A fixed incident identity; else the run's")
                .env(&["SPLUNK_ONCALL_ENTITY_ID"]),
        )
        .setting(
            Setting::new(
                "action",
                "map (from the message), info, warning, critical, acknowledgement or recovery",
            )
            .env(&["SPLUNK_ONCALL_ACTION"])
            .default_value("map"),
        )
        .setting(Setting::api_url("SPLUNK_ONCALL_API_URL", OFFICIAL))
        .allow_host("alert.victorops.com")
        .allow_host("setting:api_url")
        .schemes(&["splunk", "victorops"])
    }

    /// `splunk://ROUTING_KEY@APIKEY[/ENTITY_ID][?action=…]`, also
    /// `victorops://`; `?apikey=`, `?routing_key=` (`?route=`) and
    /// `?entity_id=` stand in for the parts.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["splunk", "victorops"])?;
        let api_key = u
            .param("apikey")
            .map(str::to_string)
            .or_else(|| (!u.host.is_empty()).then(|| u.host.clone()));
        let routing_key = u
            .param("routing_key")
            .or(u.param("route"))
            .map(str::to_string)
            .or_else(|| u.user.clone());
        let (Some(api_key), Some(routing_key)) = (api_key, routing_key) else {
            return Err(format!(
                "{}:// needs the routing key and the API key: {0}://ROUTING_KEY@APIKEY",
                u.scheme
            ));
        };
        let valid = |k: &str| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !valid(&api_key) || !valid(&routing_key) {
            return Err("the API key and the routing key are letters, digits, _ and -".into());
        }
        let entity = u
            .param("entity_id")
            .map(str::to_string)
            .or_else(|| (!u.path.is_empty()).then(|| u.path.join("/")));
        let action = u.param("action").map(str::to_string);
        if let Some(a) = &action {
            pick_action(a)?;
        }
        Pairs::new()
            .set("api_key", api_key)
            .set("routing_key", routing_key)
            .maybe("entity_id", entity)
            .maybe("action", action)
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let api_key = settings.require("api_key")?;
        let routing_key = settings.require("routing_key")?;
        let fixed = pick_action(settings.get_or("action", "map")).map_err(SendError::Config)?;
        let message_type = fixed.unwrap_or_else(|| message_type(msg));
        let entity_id = match (settings.get("entity_id"), &msg.event) {
            (Some(e), _) => e.trim().trim_matches('/').to_string(),
            (None, Some(run)) => format!("mcp-push/{}", run.run_id),
            (None, None) => format!("mcp-push/{routing_key}"),
        };
        let title = match msg.title.trim() {
            "" => msg.headline(200),
            t => t.to_string(),
        };
        let alert = json!({
            "message_type": message_type,
            "entity_id": entity_id,
            "entity_display_name": title,
            "state_message": msg.body_with_link(),
            "monitoring_tool": "mcp-push",
        });
        Request::post(format!(
            "{}/integrations/generic/20131114/alert/{api_key}/{routing_key}",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .json(&alert)
        .send()?
        // `result` says it: "success", else "failure" and why in `message`.
        .check(&Check::field("result").eq_str("success").message("message"))?;
        Ok(Receipt::none())
    }
}

/// The message type an action fixes (`None`: from the message).
fn pick_action(value: &str) -> Result<Option<&'static str>, String> {
    let v = value.trim().to_ascii_lowercase();
    ACTIONS
        .iter()
        .find(|(name, _)| !v.is_empty() && name.starts_with(&v))
        .map(|(_, fixed)| *fixed)
        .ok_or_else(|| {
            format!(
                "action must be map, info, warning, critical, acknowledgement, recovery or resolve, not {value:?}"
            )
        })
}

/// A run's place in its life-cycle, else the message's priority.
fn message_type(msg: &Message) -> &'static str {
    match &msg.event {
        Some(run) => match run.kind {
            EventKind::Error => "CRITICAL",
            EventKind::End => "RECOVERY",
            EventKind::Start | EventKind::Update => "INFO",
        },
        None => msg.priority.on(["INFO", "INFO", "WARNING", "CRITICAL"]),
    }
}

export_channel!(SplunkOnCall);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::RunEvent;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const API_KEY: &str = "3f2a6b1c-0d4e-4f5a-8b7c-9d0e1f2a3b4c";
    const ROUTE: &str = "database";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<SplunkOnCall>();
    }

    #[test]
    fn parses_apprise_splunk_urls() {
        assert_eq!(
            SplunkOnCall::parse_url(&format!("splunk://{ROUTE}@{API_KEY}")).unwrap(),
            vec![
                ("api_key".into(), API_KEY.into()),
                ("routing_key".into(), ROUTE.into()),
            ]
        );
        let s = SplunkOnCall::parse_url(&format!(
            "victorops://{ROUTE}@{API_KEY}/disk%20space/db01?action=crit"
        ))
        .unwrap();
        assert_eq!(s[2], ("entity_id".into(), "disk space/db01".into()));
        assert_eq!(s[3], ("action".into(), "crit".into()));
        let q = SplunkOnCall::parse_url(&format!(
            "splunk://?apikey={API_KEY}&route={ROUTE}&entity_id=web"
        ))
        .unwrap();
        assert_eq!(q[0].1, API_KEY);
        assert_eq!(q[1].1, ROUTE);
        assert_eq!(q[2].1, "web");
        assert!(SplunkOnCall::parse_url(&format!("splunk://{API_KEY}")).is_err());
        assert!(
            SplunkOnCall::parse_url(&format!("splunk://{ROUTE}@{API_KEY}?action=page")).is_err()
        );
        assert!(SplunkOnCall::parse_url(&format!("splunk://bad%20route@{API_KEY}")).is_err());
    }

    #[test]
    fn actions_by_apprise_prefix() {
        for (given, want) in [
            ("map", None),
            ("m", None),
            ("i", Some("INFO")),
            ("ack", Some("ACKNOWLEDGEMENT")),
            ("w", Some("WARNING")),
            ("rec", Some("RECOVERY")),
            ("res", Some("RECOVERY")),
            ("r", Some("RECOVERY")),
            ("CRITICAL", Some("CRITICAL")),
        ] {
            assert_eq!(pick_action(given).unwrap(), want, "{given}");
        }
        assert!(pick_action("").is_err());
        assert!(pick_action("page").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<SplunkOnCall>()
            .setting("api_key", API_KEY)
            .setting("routing_key", ROUTE)
    }

    fn success(entity: &str) -> Reply {
        Reply::json(200, json!({"result": "success", "entity_id": entity}))
    }

    /// The documented request: the keys in the path (only on the wire),
    /// the alert's fields in the JSON body.
    #[test]
    fn posts_the_documented_alert() {
        let h = harness().reply(success("mcp-push/database"));
        let mut msg = message("Disk low on DB01", "92% used");
        msg.priority = Priority::Urgent;
        msg.link = Some("https://grafana.example.com/d/1".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains(API_KEY) && !req.url.contains(ROUTE));
        assert_eq!(
            h.on_the_wire()[0].url,
            format!(
                "https://alert.victorops.com/integrations/generic/20131114/alert/{API_KEY}/{ROUTE}"
            )
        );
        let wire = h.on_the_wire()[0].json();
        assert_eq!(
            wire,
            json!({
                "message_type": "CRITICAL",
                "entity_id": "mcp-push/database",
                "entity_display_name": "Disk low on DB01",
                "state_message": "92% used\n\nhttps://grafana.example.com/d/1",
                "monitoring_tool": "mcp-push",
            })
        );
    }

    #[test]
    fn message_types_follow_the_priority_or_the_fixed_action() {
        for (priority, want) in [
            (Priority::Low, "INFO"),
            (Priority::Normal, "INFO"),
            (Priority::High, "WARNING"),
            (Priority::Urgent, "CRITICAL"),
        ] {
            let h = harness().reply(success("e"));
            let mut msg = message("T", "B");
            msg.priority = priority;
            h.send(&msg).unwrap();
            assert_eq!(h.requests()[0].json()["message_type"], want);
        }
        let h = harness()
            .setting("action", "ack")
            .setting("entity_id", "/disk space/db01/")
            .reply(success("e"));
        h.send(&message("T", "B")).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["message_type"], "ACKNOWLEDGEMENT");
        assert_eq!(b["entity_id"], "disk space/db01");
        let bad = harness().setting("action", "page").reply(success("e"));
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("action")
        ));
    }

    /// A run is one incident: its own entity, raised by its error and
    /// resolved by its end; its start and updates are timeline entries.
    #[test]
    fn a_runs_life_cycle_is_one_incident() {
        for (kind, want) in [
            (EventKind::Start, "INFO"),
            (EventKind::Update, "INFO"),
            (EventKind::Error, "CRITICAL"),
            (EventKind::End, "RECOVERY"),
        ] {
            let h = harness().reply(success("mcp-push/r-42"));
            let mut msg = message("nightly", "step");
            msg.event = Some(RunEvent {
                run_id: "r-42".into(),
                kind,
                progress: None,
                step: None,
                artifact_url: None,
                data: None,
            });
            h.send(&msg).unwrap();
            let b = h.requests()[0].json();
            assert_eq!(b["message_type"], want, "{kind:?}");
            assert_eq!(b["entity_id"], "mcp-push/r-42", "{kind:?}");
        }
    }

    #[test]
    fn a_long_message_is_sent_whole() {
        let h = harness().reply(success("e"));
        let long = "x".repeat(20000);
        h.send(&message(&"T".repeat(300), &long)).unwrap();
        let b = h.requests()[0].json();
        assert_eq!(b["state_message"], long.as_str());
        assert_eq!(b["entity_display_name"].as_str().unwrap().len(), 300);
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_reply_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"result": "failure", "message": "Missing fields: message_type"})
            )),
            SendError::Rejected("result failure: Missing fields: message_type".into())
        );
        // A failure in a 200 is still a failure.
        assert_eq!(
            outcome(Reply::json(
                200,
                json!({"result": "failure", "message": "Invalid routing key"})
            )),
            SendError::Rejected("result failure: Invalid routing key".into())
        );
        assert!(matches!(
            outcome(Reply::text(429, "slow down").header("retry-after", "30")),
            SendError::RateLimited(Some(30))
        ));
        assert!(matches!(
            outcome(Reply::json(503, json!({"result": "failure", "message": "busy"}))),
            SendError::Unavailable(m) if m == "result failure: busy"
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>maintenance</html>")),
            SendError::Unavailable(_)
        ));
    }
}
