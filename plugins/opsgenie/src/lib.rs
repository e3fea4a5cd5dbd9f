//! Opsgenie alerts (`OPSGENIE_API_KEY`, Apprise's
//! `opsgenie://API_KEY[/TARGETS]`).
//!
//! Sources: Opsgenie's Alert API docs (docs.opsgenie.com/docs/alert-api:
//! POST `https://api.opsgenie.com/v2/alerts` with `Authorization: GenieKey
//! KEY`, JSON `message` (at most 130 characters), `alias` (the
//! de-duplication key, 512), `description` (15,000), `responders` (`{type:
//! team|user|escalation|schedule, id|name|username}`), `tags`, `entity`,
//! `source`, `priority` `P1` (highest) to `P5`, `P3` by default;
//! `https://api.eu.opsgenie.com` for the EU instance; close with POST
//! `/v2/alerts/{alias}/close?identifierType=alias`, JSON `source`, `note`;
//! requests are processed asynchronously: 202 `{result: "Request will be
//! processed", took, requestId}`); docs.opsgenie.com/docs/response (errors
//! as `{message, took, requestId}`: 400 invalid JSON, 401 a bad key or a
//! disabled integration, 402 the plan does not allow it, 403, 404, 422
//! semantic errors, 429 too many requests, 5xx); the OpenAPI spec's
//! `X-RateLimit-Period-In-Sec` ("time of throttle"); Apprise's
//! `opsgenie.py` (the URL form, targets `#team`, `*schedule`,
//! `^escalation`, `@user` or a bare user, a UUID as `id`, else a name;
//! `?region=`, `?priority=`, `?entity=`, `?alias=`, `?tags=`, `?to=`). Not
//! in qinglong's notify.py: `OPSGENIE_*` are mcp-push's own names.
//!
//! A run is one alert: its events carry the run id as the `alias`, so
//! Opsgenie folds `start`, `update` and `error` into one open alert, and
//! the run's `end` closes it.
//!
//! Where the sources differ: Apprise numbers its named priorities upwards
//! (`low` is its 1, sent as `P1`, which Opsgenie documents as its highest);
//! here `?priority=low` means Opsgenie's lowest, `P5`, and numbers (`1`,
//! `p1`) are Opsgenie's own. Apprise sends one alert per target unless
//! `?batch=yes`; here one alert names all targets as its responders (the
//! API takes up to 50), so they share one alert. A 202 only says the
//! request will be processed; whether Opsgenie created the alert is not
//! asked afterwards (it would need a second, delayed request).
//!
//! Length: `message` holds 130 characters (the title, else the text's
//! first line, cut with `…`); the description 15,000 (cut with `…`).

use mcp_push_sdk::prelude::*;

struct Opsgenie;

const OFFICIAL: &str = "https://api.opsgenie.com";
const OFFICIAL_EU: &str = "https://api.eu.opsgenie.com";

const MESSAGE_CHARS: usize = 130;
const DESCRIPTION: Limit = Limit::Chars(15000);
const ALIAS: Limit = Limit::Chars(512);
/// Opsgenie takes up to 50 responders.
const MAX_RESPONDERS: usize = 50;

impl Channel for Opsgenie {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "opsgenie",
            "Opsgenie",
            env!("CARGO_PKG_VERSION"),
            "Creates Opsgenie alerts; a run's end closes its alert",
        )
        .formats(&["text"])
        .setting(
            Setting::new("api_key", "API key of an API integration")
                .env(&["OPSGENIE_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "targets",
                "Responders, comma-separated: #team, *schedule, ^escalation, @user",
            )
            .env(&["OPSGENIE_TARGETS"]),
        )
        .setting(
            Setting::new(
                "priority",
                "P1 (highest) to P5, else from the message's priority",
            )
            .env(&["OPSGENIE_PRIORITY"]),
        )
        .setting(Setting::new("tags", "Tags, comma-separated").env(&["OPSGENIE_TAGS"]))
        .setting(Setting::new("entity", "The alert's domain").env(&["OPSGENIE_ENTITY"]))
        .setting(
            Setting::new("alias", "De-duplication key of messages outside a run")
                .env(&["OPSGENIE_ALIAS"]),
        )
        .setting(
            Setting::new("region", "us or eu (api.eu.opsgenie.com)")
                .env(&["OPSGENIE_REGION"])
                .default_value("us"),
        )
        // No default: the region picks the official host.
        .setting(
            Setting::new("api_url", "API base URL, for a proxy or tests")
                .env(&["OPSGENIE_API_URL"]),
        )
        .allow_host("api.opsgenie.com")
        .allow_host("api.eu.opsgenie.com")
        .allow_host("setting:api_url")
        .schemes(&["opsgenie"])
    }

    /// `opsgenie://API_KEY[/TARGET...]` with `?to=`, `?region=`,
    /// `?priority=`, `?entity=`, `?alias=`, `?tags=`, as in Apprise.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["opsgenie"])?;
        if u.host.is_empty() {
            return Err("opsgenie:// needs the API key: opsgenie://API_KEY".into());
        }
        let mut targets = u.path.clone();
        if let Some(to) = u.param("to") {
            targets.extend(to.split([',', ' ']).map(String::from));
        }
        targets.retain(|t| !t.trim().is_empty());
        let priority = u.param("priority").map(priority_of).transpose()?;
        Pairs::new()
            .set("api_key", u.host.clone())
            .maybe("targets", (!targets.is_empty()).then(|| targets.join(",")))
            .maybe("priority", priority)
            .maybe("tags", u.param("tags"))
            .maybe("entity", u.param("entity"))
            .maybe("alias", u.param("alias"))
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
        let base = format!("{}/v2/alerts", settings.base_url("api_url", official)?);
        let run = msg.event.as_ref();
        let alias = match run {
            Some(e) => Some(truncate(&e.run_id, ALIAS, "")),
            None => settings.get("alias").map(String::from),
        };
        let text = truncate(&msg.body_with_link(), DESCRIPTION, CUT_MARKER);
        let request = match (run, &alias) {
            // The run is over: close its alert.
            (Some(e), Some(alias)) if e.kind == EventKind::End => {
                let mut close = json!({ "source": "mcp-push" });
                if !text.trim().is_empty() {
                    close["note"] = json!(text);
                }
                Request::post(&base)
                    .segment(alias)
                    .segment("close")
                    .query(&[("identifierType", "alias")])
                    .json(&close)
            }
            _ => Request::post(&base).json(&alert(settings, msg, alias.as_deref(), text)?),
        };
        let reply = request
            .header(
                "Authorization",
                &format!("GenieKey {}", settings.require("api_key")?),
            )
            .send()?;
        // Success is 202 with `result` and the `requestId`; a refusal says
        // why in `message`; a throttled one how long it lasts in a header.
        match reply.check(&Check::field("result").non_empty().message("message")) {
            Ok(body) => Ok(Receipt::from_reply(&body, "requestId")),
            Err(SendError::RateLimited(None)) => Err(SendError::RateLimited(
                reply
                    .header("x-ratelimit-period-in-sec")
                    .and_then(|s| s.trim().parse().ok()),
            )),
            Err(e) => Err(e),
        }
    }
}

/// The alert to create: the headline as `message`, the text as its
/// description, the priority (the setting, else the message's: low `P5`,
/// normal `P3`, high `P2`, urgent `P1`), the responders, the message's and
/// the setting's tags, the entity and the alias.
fn alert(
    settings: &Settings,
    msg: &Message,
    alias: Option<&str>,
    description: String,
) -> Result<mcp_push_sdk::serde_json::Value, SendError> {
    let priority = match settings.get("priority") {
        Some(p) => priority_of(p).map_err(SendError::Config)?,
        None => msg.priority.on(["P5", "P3", "P2", "P1"]).to_string(),
    };
    let mut alert = json!({
        "message": match msg.headline(MESSAGE_CHARS) {
            h if h.is_empty() => "(no text)".to_string(),
            h => h,
        },
        "source": "mcp-push",
        "priority": priority,
    });
    if !description.trim().is_empty() {
        alert["description"] = json!(description);
    }
    let responders: Vec<_> = settings
        .list("targets", &[',', ' '])
        .into_iter()
        .filter_map(responder)
        .collect();
    if responders.len() > MAX_RESPONDERS {
        return Err(SendError::Config(format!(
            "setting `targets` names {} responders; Opsgenie takes at most {MAX_RESPONDERS}",
            responders.len()
        )));
    }
    if !responders.is_empty() {
        alert["responders"] = json!(responders);
    }
    let mut tags: Vec<&str> = Vec::new();
    for tag in msg
        .tags
        .iter()
        .map(String::as_str)
        .chain(settings.list("tags", &[',']))
    {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if !tags.is_empty() {
        alert["tags"] = json!(tags);
    }
    if let Some(alias) = alias {
        alert["alias"] = json!(alias);
    }
    settings.copy_into(&mut alert, &["entity"]);
    Ok(alert)
}

/// A responder as Apprise writes one: `#team`, `*schedule`, `^escalation`,
/// `@user` or a bare user; a UUID is an `id`, else a name (`username` for
/// a user). Apprise skips entries shorter than two characters.
fn responder(target: &str) -> Option<mcp_push_sdk::serde_json::Value> {
    if target.chars().count() < 2 {
        return None;
    }
    let (kind, name) = match target.split_at(1) {
        ("#", rest) => ("team", rest),
        ("*", rest) => ("schedule", rest),
        ("^", rest) => ("escalation", rest),
        ("@", rest) => ("user", rest),
        _ => ("user", target),
    };
    let field = match kind {
        _ if is_uuid(name) => "id",
        "user" => "username",
        _ => "name",
    };
    Some(json!({ "type": kind, field: name }))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Opsgenie's `P1`..`P5` from a number (`3`, `p3`) or a name by its meaning
/// (`low` is the lowest, `P5`; `emergency` the highest, `P1`), any prefix of
/// it as Apprise takes.
fn priority_of(given: &str) -> Result<String, String> {
    let p = given.trim().to_ascii_lowercase();
    let digit = p.strip_prefix('p').unwrap_or(&p);
    if let Ok(n @ 1..=5) = digit.parse::<u8>() {
        return Ok(format!("P{n}"));
    }
    let named = [
        ("low", 5),
        ("moderate", 4),
        ("normal", 3),
        ("high", 2),
        ("emergency", 1),
    ];
    named
        .iter()
        .find(|(name, _)| !p.is_empty() && name.starts_with(p.as_str()))
        .map(|(_, n)| format!("P{n}"))
        .ok_or_else(|| {
            format!("priority {given:?} is not P1..P5 or low, moderate, normal, high, emergency")
        })
}

export_channel!(Opsgenie);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::RunEvent;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const KEY: &str = "eb243592-faa2-4ba2-a551-1afdf565c889";
    const TEAM_ID: &str = "4513b7ea-3b91-438f-b7e4-e3e54af9147c";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Opsgenie>();
    }

    #[test]
    fn parses_apprise_opsgenie_urls() {
        assert_eq!(
            Opsgenie::parse_url(&format!(
                "opsgenie://{KEY}/%23ops/@alice?to=*oncall&region=eu&priority=high&tags=ci,nightly&entity=db"
            ))
            .unwrap(),
            vec![
                ("api_key".into(), KEY.into()),
                ("targets".into(), "#ops,@alice,*oncall".into()),
                ("priority".into(), "P2".into()),
                ("tags".into(), "ci,nightly".into()),
                ("entity".into(), "db".into()),
                ("region".into(), "eu".into()),
            ]
        );
        assert_eq!(
            Opsgenie::parse_url(&format!("opsgenie://{KEY}?priority=1")).unwrap()[1],
            ("priority".into(), "P1".into())
        );
        assert!(Opsgenie::parse_url("opsgenie://").is_err());
        assert!(Opsgenie::parse_url(&format!("opsgenie://{KEY}?priority=loud")).is_err());
    }

    #[test]
    fn priorities_by_number_or_by_meaning() {
        for (given, want) in [
            ("1", "P1"),
            ("p5", "P5"),
            ("P3", "P3"),
            ("low", "P5"),
            ("m", "P4"),
            ("normal", "P3"),
            ("h", "P2"),
            ("emergency", "P1"),
        ] {
            assert_eq!(priority_of(given).unwrap(), want, "{given}");
        }
        assert!(priority_of("6").is_err());
        assert!(priority_of("").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Opsgenie>().setting("api_key", KEY)
    }

    fn accepted() -> Reply {
        Reply::json(
            202,
            json!({"result": "Request will be processed", "took": 0.302,
                   "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}),
        )
    }

    /// The documented request: `GenieKey` (only on the wire), the headline
    /// as `message`, the text as `description`, responders as Apprise's
    /// prefixes say, tags, priority from the message's.
    #[test]
    fn creates_the_documented_alert() {
        let h = harness()
            .setting(
                "targets",
                &format!("#{TEAM_ID}, #ops, *oncall, ^night, @alice, bob, x"),
            )
            .setting("tags", "ci")
            .setting("entity", "db01")
            .reply(accepted());
        let mut msg = message("Backup failed", "disk full");
        msg.priority = Priority::Urgent;
        msg.tags = vec!["nightly".into()];
        msg.link = Some("https://ci.example.com/7".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("43a29c5c-3dbf-4fa4-9c26-f4f71023e120")
        );
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://api.opsgenie.com/v2/alerts");
        assert_ne!(
            req.header("authorization"),
            Some(format!("GenieKey {KEY}").as_str())
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("GenieKey {KEY}").as_str())
        );
        assert_eq!(
            req.json(),
            json!({
                "message": "Backup failed",
                "description": "disk full\n\nhttps://ci.example.com/7",
                "source": "mcp-push",
                "priority": "P1",
                "responders": [
                    {"type": "team", "id": TEAM_ID},
                    {"type": "team", "name": "ops"},
                    {"type": "schedule", "name": "oncall"},
                    {"type": "escalation", "name": "night"},
                    {"type": "user", "username": "alice"},
                    {"type": "user", "username": "bob"},
                ],
                "tags": ["nightly", "ci"],
                "entity": "db01",
            })
        );
        let eu = harness().setting("region", "eu").reply(accepted());
        eu.send(&message("T", "")).unwrap();
        assert_eq!(
            eu.requests()[0].url,
            "https://api.eu.opsgenie.com/v2/alerts"
        );
        assert_eq!(
            eu.requests()[0].json(),
            json!({"message": "T", "source": "mcp-push", "priority": "P3"})
        );
    }

    /// A run is one alert under the run id as its alias; its end closes it.
    #[test]
    fn a_runs_end_closes_its_alert() {
        let h = harness().reply(accepted()).reply(accepted());
        for (kind, body) in [(EventKind::Start, "began"), (EventKind::End, "all done")] {
            let mut msg = message("Nightly", body);
            msg.event = Some(RunEvent {
                run_id: "nightly 7".into(),
                kind,
                progress: None,
                step: None,
                artifact_url: None,
                data: None,
            });
            h.send(&msg).unwrap();
        }
        let reqs = h.requests();
        assert_eq!(reqs[0].json()["alias"], "nightly 7");
        assert_eq!(
            reqs[1].url,
            "https://api.opsgenie.com/v2/alerts/nightly%207/close?identifierType=alias"
        );
        assert_eq!(
            reqs[1].json(),
            json!({"source": "mcp-push", "note": "all done"})
        );
    }

    /// The message holds 130 characters, the description 15,000.
    #[test]
    fn long_headlines_and_texts_are_cut() {
        let h = harness().reply(accepted());
        h.send(&message(&"t".repeat(200), &"x".repeat(20000)))
            .unwrap();
        let body = h.requests()[0].json();
        let headline = body["message"].as_str().unwrap();
        assert_eq!(headline.chars().count(), 130);
        assert!(headline.ends_with(CUT_MARKER));
        assert_eq!(body["description"].as_str().unwrap().chars().count(), 15000);
    }

    fn failure(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"message": message, "took": 0.003, "requestId": "a1b2c3"}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, text) in [
            (400, "Invalid JSON body"),
            (401, "Could not authenticate"),
            (402, "Your plan does not allow using the API"),
            (403, "You are not authorized for this operation"),
            (
                422,
                "Request body is not processable. Please check the errors.",
            ),
        ] {
            assert_eq!(
                outcome(failure(status, text)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(
                failure(429, "You are making too many requests!")
                    .header("x-ratelimit-state", "THROTTLED")
                    .header("x-ratelimit-period-in-sec", "60")
            ),
            SendError::RateLimited(Some(60))
        );
        assert_eq!(
            outcome(failure(429, "You are making too many requests!")),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(failure(503, "Service unavailable")),
            SendError::Unavailable(m) if m == "HTTP 503: Service unavailable"
        ));
    }
}
