//! `send` and `event` deliver inline ([`ops::send::send_alone`]) and print one
//! line per channel, or the JSON report, with the exit code that goes with it.

use super::output::outln;
use super::{EXIT_FAILED, EXIT_QUEUED, EXIT_USAGE, fail};
use crate::app::App;
use crate::config::Channel;
use crate::hub::{Overall, Report, Submission};
use crate::ops::{self, OpError};
use crate::redact::redact;
use crate::store::{DeliveryState, Store, UnixMillis};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Parse `--wait 30s` style values: a plain number is seconds.
pub fn parse_wait(s: &str) -> Result<Duration, String> {
    let (n, unit) = match s.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => match s.strip_suffix('s') {
            Some(n) => (n, 1.0),
            None => match s.strip_suffix('m') {
                Some(n) => (n, 60.0),
                None => (s, 1.0),
            },
        },
    };
    n.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0 && *v * unit <= 86_400.0)
        .map(|v| Duration::from_secs_f64(v * unit))
        .ok_or_else(|| format!("{s:?} is not a wait time; write e.g. 30s, 2m or 0 (do not wait)"))
}

pub async fn deliver(
    app: &App,
    store: Arc<dyn Store>,
    sub: Submission,
    targets: Option<Vec<Channel>>,
    wait: Duration,
) -> Result<Report, ExitCode> {
    let hub = Arc::new(app.hub(store));
    // One-line URLs from the command line stand in for the configured channels.
    if let Some(channels) = targets {
        hub.set_channels(channels);
    }
    match ops::send::send_alone(&hub, sub, wait).await {
        Ok(report) => Ok(report),
        Err(OpError::NoChannels) => {
            let file = app.config_file_hint();
            eprintln!(
                "error: no channel is configured.\n\
                 Set a channel's environment variables (for example WEBHOOK_URL=https://example.com/hook),\n\
                 or add a [channels.NAME] table to {file}.\n\
                 `mcp-push channels` lists every plugin and the settings it reads."
            );
            Err(ExitCode::from(EXIT_USAGE))
        }
        Err(e) => Err(fail(&e.to_string())),
    }
}

/// Print one line per channel (or the JSON report) and choose the exit code.
pub fn print(report: &Report, json: bool) -> ExitCode {
    let overall = report.overall();
    if json {
        let mut value = serde_json::json!({ "status": overall.as_str() });
        match report {
            Report::Skipped { reason } => value["reason"] = serde_json::json!(reason),
            Report::StoreFailed(e) => value["error"] = serde_json::json!(e),
            Report::Delivered {
                event_id,
                duplicate,
                outcomes,
            } => {
                value["event_id"] = serde_json::json!(event_id);
                value["duplicate"] = serde_json::json!(duplicate);
                value["channels"] = serde_json::json!(outcomes);
            }
        }
        outln!(
            "{}",
            redact(&serde_json::to_string_pretty(&value).unwrap_or_default())
        );
    }
    match report {
        Report::Skipped { reason } => {
            if !json {
                outln!("skipped: {reason}");
            }
        }
        Report::StoreFailed(e) => {
            if !json {
                eprintln!("error: {}", redact(e));
            }
        }
        Report::Delivered {
            event_id,
            duplicate,
            outcomes,
        } => {
            if json {
                return code(overall);
            }
            if *duplicate {
                outln!(
                    "already sent as event {event_id} (same idempotency key); nothing sent again"
                );
            }
            let width = outcomes
                .iter()
                .map(|o| o.channel.as_str().len())
                .max()
                .unwrap_or(0);
            for o in outcomes {
                let why = o.error.as_deref().unwrap_or("");
                let line = match o.state {
                    DeliveryState::Sent => {
                        format!("{:width$}  ok      {} ms", o.channel, o.elapsed.as_millis())
                    }
                    DeliveryState::Failed => format!("{:width$}  failed  {why}", o.channel),
                    DeliveryState::Skipped => format!("{:width$}  skipped  {why}", o.channel),
                    DeliveryState::Coalesced => format!("{:width$}  coalesced  {why}", o.channel),
                    DeliveryState::Pending if o.attempts == 0 && why.is_empty() => format!(
                        "{:width$}  queued  until {}",
                        o.channel,
                        local_time(o.next_attempt_at)
                    ),
                    DeliveryState::Pending if o.attempts == 0 => format!(
                        "{:width$}  queued  until {}: {why}",
                        o.channel,
                        local_time(o.next_attempt_at)
                    ),
                    DeliveryState::Pending => format!(
                        "{:width$}  retrying  {why} (attempt {}; next at {})",
                        o.channel,
                        o.attempts,
                        local_time(o.next_attempt_at)
                    ),
                };
                outln!("{}", redact(&line));
            }
            let waiting = outcomes
                .iter()
                .filter(|o| o.state == DeliveryState::Pending)
                .count();
            if waiting > 0 {
                outln!(
                    "{waiting} deliver{} of event {event_id} wait in the outbox: the next \
                     `mcp-push send`, `event` or `flush` (or a running `serve` or `mcp`) \
                     sends {} when due (`mcp-push deliveries --pending` lists them).",
                    if waiting == 1 { "y" } else { "ies" },
                    if waiting == 1 { "it" } else { "them" },
                );
            }
        }
    }
    code(overall)
}

/// Nothing failed or is retrying: every delivery still waiting was held on
/// purpose (a run's `update` coalesced under `update_interval_secs`, or
/// quiet hours), not tried yet.
pub fn only_held(report: &Report) -> bool {
    report.overall() == Overall::Queued
        && report
            .outcomes()
            .iter()
            .all(|o| o.state != DeliveryState::Pending || o.attempts == 0)
}

fn code(overall: Overall) -> ExitCode {
    match overall {
        Overall::Success | Overall::Skipped => ExitCode::SUCCESS,
        Overall::Queued => ExitCode::from(EXIT_QUEUED),
        Overall::Failed | Overall::Partial => ExitCode::from(EXIT_FAILED),
    }
}

/// `2026-11-21 09:30:05` in the local time zone.
pub fn local_time(t: Option<UnixMillis>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp_millis(t.0))
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
}
