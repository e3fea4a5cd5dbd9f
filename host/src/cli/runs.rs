//! `mcp-push runs [--status S] [RUN_ID]`: the runs, or one run's timeline.

use super::inline::local_time;
use super::output::outln;
use super::{Cli, EXIT_USAGE, fail};
use crate::notification::{RunId, preview};
use crate::ops::{self, OpError};
use crate::redact::redact;
use crate::store::{Delivery, RunStatus};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    /// Show this run's status, progress and timeline
    run_id: Option<String>,
    /// Only runs in this state
    #[arg(long, value_parser = ["running", "succeeded", "failed"])]
    status: Option<String>,
    /// How many runs to list, newest first
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &RunsArgs) -> ExitCode {
    let store = match super::store_only(cli) {
        Ok(store) => store,
        Err(code) => return code,
    };
    if let Some(id) = &args.run_id {
        let detail = match ops::runs::detail(&store, RunId(id.clone()), 10_000).await {
            Ok(d) => d,
            Err(OpError::NoSuchRun(id)) => {
                eprintln!(
                    "error: no run {:?}; `mcp-push runs` lists the runs",
                    redact(&id.0)
                );
                return ExitCode::from(EXIT_USAGE);
            }
            Err(e) => return fail(&e.to_string()),
        };
        let (run, events, deliveries) = (&detail.run, &detail.events, &detail.deliveries);
        if args.json {
            let v = serde_json::json!({
                "run": run,
                "events": events.iter().map(|e| serde_json::json!({
                    "event_id": e.id, "kind": e.kind, "at": e.created_at,
                    "title": e.notification.title, "message": e.notification.body,
                    "deliveries": deliveries.iter().filter(|d| d.event_id == e.id).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            outln!(
                "{}",
                redact(&serde_json::to_string_pretty(&v).unwrap_or_default())
            );
            return ExitCode::SUCCESS;
        }
        outln!("run {}: {}", run.run_id.0, run.summary());
        outln!("started  {}", local_time(Some(run.started_at)));
        if let Some(end) = run.ended_at {
            outln!("ended    {}", local_time(Some(end)));
        }
        if let Some(url) = &run.artifact_url {
            outln!("artifact {url}");
        }
        outln!("timeline:");
        for e in events {
            let first = e.notification.body.lines().next().unwrap_or("");
            outln!(
                "  {}  {:<6}  {}",
                local_time(Some(e.created_at)),
                e.kind.map(|k| k.as_str()).unwrap_or("-"),
                redact(first)
            );
            for d in deliveries.iter().filter(|d| d.event_id == e.id) {
                outln!("      -> {}", redact(&delivery_line(d)));
            }
        }
        return ExitCode::SUCCESS;
    }
    let status = args.status.as_deref().and_then(RunStatus::parse);
    let runs: Vec<_> = match ops::runs::list(&store, status, args.limit, 0).await {
        Ok(r) => r.into_iter().map(|listed| listed.run).collect(),
        Err(e) => return fail(&e.to_string()),
    };
    if args.json {
        outln!(
            "{}",
            redact(&serde_json::to_string_pretty(&runs).unwrap_or_default())
        );
        return ExitCode::SUCCESS;
    }
    if runs.is_empty() {
        outln!("no runs yet: `mcp-push event RUN_ID start \"...\"` starts one");
        return ExitCode::SUCCESS;
    }
    let width = runs.iter().map(|r| r.run_id.0.len()).max().unwrap_or(0);
    for r in &runs {
        let last = r
            .last_message
            .as_deref()
            .and_then(|m| m.lines().next())
            .unwrap_or("");
        outln!(
            "{:width$}  {}  {}  {}",
            r.run_id.0,
            local_time(Some(r.started_at)),
            r.summary(),
            redact(&preview(last, 60))
        );
    }
    ExitCode::SUCCESS
}

/// `#12 slack sent (remote 1234)`, `#13 ops failed: rejected: ...`.
pub fn delivery_line(d: &Delivery) -> String {
    let mut line = format!("#{} {} {}", d.id, d.channel, d.state);
    if d.attempts > 1 {
        line.push_str(&format!(" after {} attempts", d.attempts));
    }
    if let Some(r) = &d.remote_id {
        line.push_str(&format!(" (message {r})"));
    }
    if d.state != crate::store::DeliveryState::Sent
        && let Some(e) = &d.last_error
    {
        line.push_str(&format!(": {e}"));
    }
    if d.state == crate::store::DeliveryState::Pending {
        line.push_str(&format!("; next at {}", local_time(d.next_attempt_at)));
    }
    line
}
