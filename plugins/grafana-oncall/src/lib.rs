//! Grafana OnCall alerts through a Formatted Webhook integration
//! (`GRAFANA_ONCALL_URL`, `GRAFANA_ONCALL_IMAGE_URL`; no one-line URL).
//!
//! Sources: Grafana OnCall's "Inbound Webhook integrations" page (two
//! formats, Webhook and Formatted Webhook; the integration's unique URL,
//! `…/integrations/v1/formatted_webhook/{token}/`, receives a POST of JSON
//! whose recognized fields, none required, are `alert_uid` (a unique alert
//! ID for grouping), `title`, `image_url`, `state` (`ok` or `alerting`,
//! "helpful for auto-resolving"), `link_to_upstream_details` and `message`);
//! Grafana Cloud IRM's page for the same integration (the same table);
//! LibreNMS's OnCall transport (its autoresolution template reads
//! `payload.state` == `OK`). The reply, a 200 with `Ok.`, and the 403 for
//! a URL whose token OnCall does not know and its 429 when an integration
//! sends too much, are written from memory: the docs give no reply, so
//! success is any 2xx and the status decides the rest (429 waits, 5xx is
//! OnCall's trouble, another 4xx needs the user). `GRAFANA_ONCALL_*` are
//! mcp-push's own names.
//!
//! A run is one alert group: every message of a run carries the run's id
//! as `alert_uid` with `state: alerting`, and the run's end sends `state:
//! ok`, which resolves the group when the integration's autoresolution
//! template reads `state` (its default for this format does). A message
//! outside a run is an alert of its own (the delivery's key as its
//! `alert_uid`, the same on every retry).
//!
//! Length: the docs name no limit, so a message is sent whole; the link
//! (the message's, else the run's artifact) goes as
//! `link_to_upstream_details`, not into the text.

use mcp_push_sdk::prelude::*;

struct GrafanaOnCall;

impl Channel for GrafanaOnCall {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "grafana-oncall",
            "Grafana OnCall",
            env!("CARGO_PKG_VERSION"),
            "Raises Grafana OnCall alerts through a Formatted Webhook integration; a run's end resolves them",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "url",
                "The integration's URL (https://…/integrations/v1/formatted_webhook/TOKEN/)",
            )
            .env(&["GRAFANA_ONCALL_URL"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new("image_url", "An image to attach to every alert")
                .env(&["GRAFANA_ONCALL_IMAGE_URL"]),
        )
        .allow_host("*.grafana.net")
        .allow_host("setting:url.origin")
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = settings.require("url")?;
        let run = msg.event.as_ref();
        let alert_uid = run.map_or_else(delivery::key, |e| e.run_id.clone());
        let state = if run.is_some_and(|e| e.kind == EventKind::End) {
            "ok"
        } else {
            "alerting"
        };
        let mut alert = json!({
            "alert_uid": alert_uid,
            "title": msg.headline(1_000),
            "message": msg.body,
            "state": state,
        });
        if let Some(link) = msg
            .link
            .iter()
            .chain(run.and_then(|e| e.artifact_url.as_ref()))
            .find(|l| !l.is_empty())
        {
            alert["link_to_upstream_details"] = json!(link);
        }
        if let Some(image) = settings.get("image_url") {
            alert["image_url"] = json!(image);
        }
        // Success is any 2xx (OnCall answers `Ok.`); the status decides a
        // failure.
        Request::post(url).json(&alert).send()?.error_for_status()?;
        Ok(Receipt::maybe(Some(alert_uid)))
    }
}

export_channel!(GrafanaOnCall);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::RunEvent;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const URL: &str = "https://oncall-prod-us-central-0.grafana.net/oncall/integrations/v1/formatted_webhook/mReAoNwDm0eMwKo1mTeTwYo/";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<GrafanaOnCall>();
    }

    fn harness() -> Harness {
        Harness::new::<GrafanaOnCall>().setting("url", URL)
    }

    fn ok() -> Reply {
        Reply::text(200, "Ok.")
    }

    fn run(kind: EventKind) -> RunEvent {
        RunEvent {
            run_id: "r-20261204-7".into(),
            kind,
            progress: None,
            step: None,
            artifact_url: Some("https://ci.example.com/7/log".into()),
            data: None,
        }
    }

    /// The documented fields; the URL (the secret) only on the wire.
    #[test]
    fn posts_the_documented_fields() {
        let h = harness()
            .setting("image_url", "https://ci.example.com/graph.png")
            .reply(ok());
        let mut msg = message("Backup failed", "disk full");
        msg.link = Some("https://ci.example.com/7".into());
        let receipt = h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_ne!(req.url, URL);
        assert_eq!(h.on_the_wire()[0].url, URL);
        let body = req.json();
        assert_eq!(receipt.remote_id.as_deref(), body["alert_uid"].as_str());
        assert!(!body["alert_uid"].as_str().unwrap().is_empty());
        assert_eq!(
            body,
            json!({"alert_uid": body["alert_uid"], "title": "Backup failed", "message": "disk full",
                   "state": "alerting", "link_to_upstream_details": "https://ci.example.com/7",
                   "image_url": "https://ci.example.com/graph.png"})
        );
    }

    /// A run is one alert group: `alerting` until its end sends `ok`.
    #[test]
    fn a_runs_end_resolves_its_alert_group() {
        for (kind, state) in [
            (EventKind::Start, "alerting"),
            (EventKind::Error, "alerting"),
            (EventKind::End, "ok"),
        ] {
            let h = harness().reply(ok());
            let mut msg = message("", "nightly build");
            msg.event = Some(run(kind));
            assert_eq!(
                h.send(&msg).unwrap().remote_id.as_deref(),
                Some("r-20261204-7")
            );
            let body = h.requests()[0].json();
            assert_eq!(body["alert_uid"], "r-20261204-7");
            assert_eq!(body["state"], state);
            assert_eq!(body["title"], "nightly build");
            assert_eq!(
                body["link_to_upstream_details"],
                "https://ci.example.com/7/log"
            );
        }
    }

    #[test]
    fn each_status_maps_to_what_to_do_next() {
        let outcome = |reply: Reply| harness().reply(reply).send(&message("T", "B")).unwrap_err();
        assert!(matches!(
            outcome(Reply::text(403, "Invalid integration token")),
            SendError::Rejected(_)
        ));
        assert!(matches!(
            outcome(Reply::text(404, "")),
            SendError::Rejected(_)
        ));
        assert_eq!(
            outcome(
                Reply::text(429, "Rate-limit has been applied to your integration")
                    .header("retry-after", "60")
            ),
            SendError::RateLimited(Some(60))
        );
        assert!(matches!(
            outcome(Reply::text(502, "")),
            SendError::Unavailable(_)
        ));
    }
}
