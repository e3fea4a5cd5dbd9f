//! Send a notification or a run's event: check the arguments, write it, wait
//! a bounded time for its deliveries, and say in one sentence how it went.
//! `serve` and `mcp` run one delivery worker for the whole process and use
//! [`send`]; a process without one (the CLI) uses [`send_alone`], which runs
//! a worker for that one event.

use super::OpError;
use crate::hub::Submitted;
use crate::hub::{Hub, Outcome, Overall, Report, Submission};
use crate::notification::{
    EventInput, EventKind, InputError, Notification, RunId, SendInput, check_idempotency_key,
};
use crate::store::{ClaimScope, EventId};
use crate::store::{DeliveryState, Run, Source};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a send waits for its deliveries by default, and at most over
/// REST (retries due later stay in the outbox).
pub const WAIT: Duration = Duration::from_secs(30);

/// The checked arguments of `notify_send` as a submission from `source`.
pub fn send_submission(args: Value, source: Source) -> Result<Submission, InputError> {
    let input = InputError::parse::<SendInput>(args)?;
    let key = input.idempotency_key.clone();
    submission(input.into_notification(), key, source)
}

/// The checked arguments of `notify_event` as a submission from `source`.
pub fn event_submission(args: Value, source: Source) -> Result<Submission, InputError> {
    let input = InputError::parse::<EventInput>(args)?;
    let key = input.idempotency_key.clone();
    submission(input.into_notification(), key, source)
}

fn submission(
    parsed: Result<(Notification, Vec<String>), InputError>,
    key: Option<String>,
    source: Source,
) -> Result<Submission, InputError> {
    let key = check_idempotency_key(key.as_deref())?;
    let (notification, only) = parsed?;
    Ok(Submission {
        notification,
        source,
        watcher: None,
        only,
        idempotency_key: key,
        hold: None,
    })
}

/// Which run step a send was.
#[derive(Debug, Clone)]
pub struct RunStep {
    pub run_id: RunId,
    pub kind: EventKind,
    pub title: String,
}

/// How a send went. Serialized as the MCP tools' structured result and the
/// REST API's body: `run_id`, `event` and `title` for a run's event, then
/// `status`, `event_id`, `duplicate`, `channels`, `reason` (skipped), `run`
/// and `summary`.
#[derive(Debug, Clone)]
pub struct Sent {
    pub step: Option<RunStep>,
    pub report: Report,
    pub overall: Overall,
    /// The run after a run's event, when it can be read.
    pub run: Option<Run>,
    /// The whole outcome in a sentence that reads on its own (Claude Code
    /// and Codex hand the model the structured result, not the text).
    pub summary: String,
}

impl Sent {
    /// Nothing delivered, and a delivery failed for good (or the outcome
    /// cannot be read).
    pub fn failed(&self) -> bool {
        self.overall == Overall::Failed
    }
}

impl Serialize for Sent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(step) = &self.step {
            m.serialize_entry("run_id", &step.run_id.0)?;
            m.serialize_entry("event", &step.kind)?;
            m.serialize_entry("title", &step.title)?;
        }
        m.serialize_entry("status", &self.overall)?;
        match &self.report {
            Report::Delivered {
                event_id,
                duplicate,
                outcomes,
            } => {
                m.serialize_entry("event_id", event_id)?;
                m.serialize_entry("duplicate", duplicate)?;
                m.serialize_entry("channels", outcomes)?;
            }
            Report::Skipped { reason } => {
                m.serialize_entry("channels", &[] as &[Outcome])?;
                m.serialize_entry("reason", reason)?;
            }
            Report::StoreFailed(_) => m.serialize_entry("channels", &[] as &[Outcome])?,
        }
        if let Some(run) = &self.run {
            m.serialize_entry("run", run)?;
        }
        m.serialize_entry("summary", &self.summary)?;
        m.end()
    }
}

/// Submit to a hub whose worker runs, and wait at most `wait` for the deliveries.
pub async fn send(hub: &Arc<Hub>, sub: Submission, wait: Duration) -> Result<Sent, OpError> {
    let step = sub.notification.event.as_ref().map(|ev| RunStep {
        run_id: ev.run_id.clone(),
        kind: ev.kind,
        title: sub.notification.title.clone(),
    });
    let report = hub.send(sub, wait).await?;
    let run = match &step {
        Some(step) => super::runs::state(hub.store(), step.run_id.clone())
            .await
            .ok()
            .flatten(),
        None => None,
    };
    Ok(sent(step, report, run))
}

/// Submit from a process that runs no delivery worker: run one for this
/// event's deliveries only, wait at most `wait` for them, and leave whatever
/// is still retrying in the outbox for the next long-running mcp-push. A
/// duplicate (same idempotency key) is not delivered again: its report is the
/// first submission's.
pub async fn send_alone(
    hub: &Arc<Hub>,
    sub: Submission,
    wait: Duration,
) -> Result<Report, OpError> {
    let (event, at, duplicate) = match hub.submit(sub).await {
        Ok(Submitted::Skipped { reason }) => return Ok(Report::Skipped { reason }),
        Ok(Submitted::Logged { appended, at }) => {
            (appended.event_id, at, appended.duplicate_of.is_some())
        }
        Err(e) => return Err(OpError::from(e)),
    };
    if duplicate {
        let mut report = hub.wait(event, at, Instant::now()).await;
        if let Report::Delivered { duplicate: d, .. } = &mut report {
            *d = true;
        }
        return Ok(report);
    }
    Ok(deliver_alone(hub, event, at, wait).await)
}

/// Run a worker for one event's deliveries only, wait up to `wait` for them,
/// and report how they stand (also `deliveries --retry`'s path).
pub async fn deliver_alone(hub: &Arc<Hub>, event: EventId, at: Instant, wait: Duration) -> Report {
    let worker = hub.spawn_worker(ClaimScope::Event(event));
    hub.wait(event, at, at + wait).await;
    worker.finish().await;
    hub.wait(event, at, Instant::now()).await
}

/// The sentence and the overall word for a report.
pub fn sent(step: Option<RunStep>, report: Report, run: Option<Run>) -> Sent {
    let overall = report.overall();
    let mut summary = match &report {
        Report::Skipped { reason } => format!("Skipped: {reason}."),
        Report::StoreFailed(e) => {
            format!("Written to the outbox, but its state cannot be read: {e}.")
        }
        Report::Delivered {
            outcomes,
            duplicate,
            event_id,
        } => {
            let mut text = summarize(overall, outcomes);
            if *duplicate {
                text = format!(
                    "Already submitted as event {event_id} (same idempotency_key); nothing sent again. {text}"
                );
            }
            text
        }
    };
    if let Some(run) = &run {
        summary.push_str(&format!(" Run {}: {}.", run.run_id.0, run.summary()));
    }
    Sent {
        step,
        report,
        overall,
        run,
        summary,
    }
}

fn summarize(overall: Overall, outcomes: &[Outcome]) -> String {
    let list = |state: DeliveryState| -> Vec<String> {
        outcomes
            .iter()
            .filter(|o| o.state == state)
            .map(|o| match &o.error {
                Some(e) => format!("{} ({e})", o.channel),
                None => o.channel.to_string(),
            })
            .collect()
    };
    let sent = list(DeliveryState::Sent).len();
    let failed = list(DeliveryState::Failed);
    let pending = list(DeliveryState::Pending);
    let skipped = list(DeliveryState::Skipped);
    let mut parts = vec![match overall {
        Overall::Skipped => "No channel's rules take this notification.".to_string(),
        _ if sent > 0 => format!(
            "Delivered to {sent} channel{}.",
            if sent == 1 { "" } else { "s" }
        ),
        _ => "Not delivered yet.".to_string(),
    }];
    if !failed.is_empty() {
        parts.push(format!("Failed: {}.", failed.join("; ")));
    }
    if !pending.is_empty() {
        parts.push(format!(
            "Waiting in the outbox (retried or held, then sent by this server): {}.",
            pending.join("; ")
        ));
    }
    if !skipped.is_empty() && overall != Overall::Skipped {
        parts.push(format!("Skipped by rules: {}.", skipped.join("; ")));
    }
    parts.join(" ")
}

/// Why a send was refused, as the MCP tools and the REST API say it.
/// `config_file` is where the user can add a channel.
pub fn refusal(e: &OpError, config_file: &str) -> String {
    match e {
        OpError::NoChannels => format!(
            "No channel is configured, so nothing was sent. The user can set a plugin's \
             environment variables (for example WEBHOOK_URL) or add a [channels.NAME] \
             table to {config_file}; list_channels shows what each plugin needs."
        ),
        OpError::Store(_) => format!("Nothing was sent: {e}."),
        OpError::Invalid { .. } => format!("{e}."),
        OpError::UnknownChannel { .. }
        | OpError::NoSuchRun(_)
        | OpError::NoSuchWatcher(_)
        | OpError::NoSuchDelivery(_)
        | OpError::NoSuchAsk(_)
        | OpError::NotRetryable { .. }
        | OpError::Busy(_) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::ChannelId;
    use crate::store::{DeliveryId, EventId};

    fn outcome(channel: &str, state: DeliveryState, error: Option<&str>) -> Outcome {
        Outcome {
            channel: ChannelId::new(channel).unwrap(),
            plugin: "webhook".into(),
            delivery_id: DeliveryId(1),
            state,
            ok: state == DeliveryState::Sent,
            error: error.map(String::from),
            remote_id: None,
            attempts: 1,
            next_attempt_at: None,
            elapsed: Duration::from_millis(5),
        }
    }

    fn delivered(outcomes: Vec<Outcome>, duplicate: bool) -> Report {
        Report::Delivered {
            event_id: EventId(7),
            duplicate,
            outcomes,
        }
    }

    #[test]
    fn one_sentence_per_outcome() {
        use DeliveryState::*;
        let cases = [
            (
                delivered(
                    vec![outcome("a", Sent, None), outcome("b", Sent, None)],
                    false,
                ),
                "Delivered to 2 channels.",
            ),
            (
                delivered(
                    vec![outcome("a", Sent, None), outcome("b", Failed, Some("401"))],
                    false,
                ),
                "Delivered to 1 channel. Failed: b (401).",
            ),
            (
                delivered(vec![outcome("a", Pending, Some("busy"))], false),
                "Not delivered yet. Waiting in the outbox (retried or held, then sent by this \
                 server): a (busy).",
            ),
            (
                delivered(
                    vec![outcome("a", Sent, None), outcome("q", Skipped, None)],
                    true,
                ),
                "Already submitted as event 7 (same idempotency_key); nothing sent again. \
                 Delivered to 1 channel. Skipped by rules: q.",
            ),
            (
                delivered(vec![outcome("q", Skipped, None)], false),
                "No channel's rules take this notification.",
            ),
            (
                Report::Skipped {
                    reason: "title in SKIP_PUSH_TITLE".into(),
                },
                "Skipped: title in SKIP_PUSH_TITLE.",
            ),
            (
                Report::StoreFailed("disk I/O error".into()),
                "Written to the outbox, but its state cannot be read: disk I/O error.",
            ),
        ];
        for (report, want) in cases {
            assert_eq!(sent(None, report, None).summary, want);
        }
    }

    #[test]
    fn serialized_as_the_tools_structured_result() {
        let step = RunStep {
            run_id: RunId("r1".into()),
            kind: EventKind::Start,
            title: "r1 started".into(),
        };
        let v = serde_json::to_value(sent(
            Some(step),
            delivered(vec![outcome("a", DeliveryState::Sent, None)], false),
            None,
        ))
        .unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "channels",
                "duplicate",
                "event",
                "event_id",
                "run_id",
                "status",
                "summary",
                "title"
            ]
        );
        assert_eq!(v["status"], "success");
        assert_eq!(v["event"], "start");
        assert_eq!(v["run_id"], "r1");
        let skipped =
            serde_json::to_value(sent(None, Report::Skipped { reason: "r".into() }, None)).unwrap();
        assert_eq!(
            skipped,
            serde_json::json!({"status": "skipped", "channels": [], "reason": "r",
                               "summary": "Skipped: r."})
        );
    }

    #[test]
    fn refusals_say_what_to_do() {
        let invalid = OpError::invalid("title", "too long");
        assert_eq!(refusal(&invalid, "f"), "invalid `title`: too long.");
        assert!(refusal(&OpError::NoChannels, "/etc/x.toml").contains("table to /etc/x.toml;"));
        let store = OpError::Store(crate::store::StoreError::WriterGone);
        assert!(refusal(&store, "f").starts_with("Nothing was sent: "));
    }
}
