//! How one event changes a run: a pure function, so every order of arrival can be tested.
//!
//! Rules:
//! - an event for an unknown run opens it (started at that event's time);
//! - `update` sets progress, step, artifact and last message, only while running;
//! - `end` marks it succeeded, `error` failed with its error code; the duration
//!   is end minus start, never negative;
//! - a run that ended stays ended: later events (a late update, a second end,
//!   a restart with the same id) are logged as events but leave the run alone;
//! - a `start` that arrives after other events of a running run only moves the
//!   start earlier, so out-of-order delivery gives the right duration.

use super::{RunStatus, UnixMillis};
use crate::notification::{EventKind, RunEvent, RunId, human_duration};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunState {
    pub run_id: RunId,
    pub status: RunStatus,
    pub progress: Option<f32>,
    pub step: Option<String>,
    pub started_at: UnixMillis,
    pub ended_at: Option<UnixMillis>,
    pub duration_ms: Option<i64>,
    pub last_message: Option<String>,
    pub artifact_url: Option<String>,
    pub error_code: Option<String>,
    pub updated_at: UnixMillis,
}

impl RunState {
    /// `succeeded  100%  2m 05s` / `running  40%  step 3` / `failed (137)  12.0s`.
    pub fn summary(&self) -> String {
        let run = self;
        let mut parts = vec![match (&run.status, &run.error_code) {
            (RunStatus::Failed, Some(code)) => format!("failed (error {code})"),
            (s, _) => s.to_string(),
        }];
        if let Some(p) = run.progress {
            parts.push(format!("{}%", (p * 100.0).round() as u32));
        }
        if let Some(ms) = run.duration_ms {
            parts.push(human_duration(ms));
        }
        if run.status == RunStatus::Running
            && let Some(step) = &run.step
        {
            parts.push(format!("step: {step}"));
        }
        parts.join("  ")
    }
}

/// The run after `event`. `message` is the notification's body; `received_at`
/// is used when the sender gave no timestamp.
pub fn apply(
    prev: Option<RunState>,
    event: &RunEvent,
    message: &str,
    received_at: UnixMillis,
) -> RunState {
    let at = event
        .timestamp
        .map(|t| UnixMillis(t.timestamp_millis()))
        .unwrap_or(received_at);
    let mut run = match prev {
        Some(run) if run.status != RunStatus::Running => return run,
        Some(run) => run,
        None => RunState {
            run_id: event.run_id.clone(),
            status: RunStatus::Running,
            progress: None,
            step: None,
            started_at: at,
            ended_at: None,
            duration_ms: None,
            last_message: None,
            artifact_url: None,
            error_code: None,
            updated_at: received_at,
        },
    };
    run.updated_at = received_at;
    if !message.trim().is_empty() {
        run.last_message = Some(message.to_string());
    }
    if event.artifact_url.is_some() {
        run.artifact_url = event.artifact_url.clone();
    }
    match event.kind {
        EventKind::Start => run.started_at = run.started_at.min(at),
        EventKind::Update => {
            if event.progress.is_some() {
                run.progress = event.progress;
            }
            if event.step.is_some() {
                run.step = event.step.clone();
            }
        }
        EventKind::End | EventKind::Error => {
            let ended = at.max(run.started_at);
            run.ended_at = Some(ended);
            run.duration_ms = Some(ended.0 - run.started_at.0);
            if event.kind == EventKind::End {
                run.status = RunStatus::Succeeded;
                run.progress = Some(1.0);
            } else {
                run.status = RunStatus::Failed;
                run.error_code = error_code(event);
            }
        }
    }
    run
}

/// The code an `error` event carries in its data, text or number.
fn error_code(event: &RunEvent) -> Option<String> {
    match event.data.as_ref()?.get("error_code")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, at: i64) -> RunEvent {
        RunEvent {
            run_id: RunId("train".into()),
            kind,
            progress: None,
            step: None,
            artifact_url: None,
            data: None,
            timestamp: Some(
                chrono::DateTime::from_timestamp_millis(at)
                    .unwrap()
                    .fixed_offset(),
            ),
        }
    }

    #[test]
    fn start_update_end() {
        let r = apply(None, &ev(EventKind::Start, 1_000), "go", UnixMillis(1_000));
        assert_eq!(r.status, RunStatus::Running);
        let mut up = ev(EventKind::Update, 2_000);
        up.progress = Some(0.5);
        up.step = Some("epoch 2".into());
        let r = apply(Some(r), &up, "half", UnixMillis(2_000));
        assert_eq!(
            (r.progress, r.step.as_deref()),
            (Some(0.5), Some("epoch 2"))
        );
        let r = apply(
            Some(r),
            &ev(EventKind::End, 5_000),
            "done",
            UnixMillis(5_000),
        );
        assert_eq!(r.status, RunStatus::Succeeded);
        assert_eq!(r.duration_ms, Some(4_000));
        assert_eq!(r.last_message.as_deref(), Some("done"));
    }

    #[test]
    fn error_records_the_code() {
        let r = apply(None, &ev(EventKind::Start, 0), "", UnixMillis(0));
        let mut e = ev(EventKind::Error, 3_000);
        e.data = Some(serde_json::json!({"error_code": 137}));
        let r = apply(Some(r), &e, "oom", UnixMillis(3_000));
        assert_eq!(r.status, RunStatus::Failed);
        assert_eq!(r.error_code.as_deref(), Some("137"));
        assert_eq!(r.duration_ms, Some(3_000));
    }

    #[test]
    fn unknown_run_is_opened_by_any_event() {
        let r = apply(None, &ev(EventKind::Update, 7), "x", UnixMillis(9));
        assert_eq!(
            (r.status, r.started_at),
            (RunStatus::Running, UnixMillis(7))
        );
        let r = apply(None, &ev(EventKind::End, 7), "x", UnixMillis(9));
        assert_eq!((r.status, r.duration_ms), (RunStatus::Succeeded, Some(0)));
    }

    #[test]
    fn an_ended_run_stays_ended() {
        let r = apply(None, &ev(EventKind::Start, 0), "", UnixMillis(0));
        let ended = apply(Some(r), &ev(EventKind::End, 10), "done", UnixMillis(10));
        let mut late = ev(EventKind::Update, 5);
        late.progress = Some(0.2);
        for e in [late, ev(EventKind::Start, 20), ev(EventKind::Error, 30)] {
            assert_eq!(
                apply(Some(ended.clone()), &e, "late", UnixMillis(40)),
                ended
            );
        }
    }

    #[test]
    fn late_start_moves_the_start_earlier() {
        let r = apply(None, &ev(EventKind::Update, 5_000), "", UnixMillis(5_000));
        let r = apply(Some(r), &ev(EventKind::Start, 1_000), "", UnixMillis(5_001));
        let r = apply(Some(r), &ev(EventKind::End, 9_000), "", UnixMillis(9_000));
        assert_eq!(r.duration_ms, Some(8_000));
    }
}
