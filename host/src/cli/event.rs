//! `mcp-push event RUN_ID start|update|end|error MESSAGE`: a run's step from a script.

use super::inline;
use super::outbox::{self, Along};
use super::output::outln;
use super::send::DeliveryArgs;
use super::{Cli, fail};
use crate::hub::Submission;
use crate::notification::{
    ErrorCode, EventData, EventInput, EventKind, InputError, check_idempotency_key,
};
use crate::store::Source;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct EventArgs {
    /// The run's id: the same for all of its events
    run_id: String,
    #[arg(value_enum)]
    kind: EventKind,
    /// What happened, in a few words
    #[arg(default_value = "")]
    message: String,
    /// How far along, 0 to 1 (0.5 is half done)
    #[arg(long, value_name = "P")]
    progress: Option<f64>,
    /// The step it is on
    #[arg(long, value_name = "S")]
    step: Option<String>,
    /// A link to the run's output
    #[arg(long, value_name = "URL")]
    artifact_url: Option<String>,
    /// The error code (for `error`)
    #[arg(long, value_name = "CODE")]
    error_code: Option<String>,
    /// More fields, as a JSON object: {"progress": 0.5, "metadata": {...}}
    #[arg(long, value_name = "JSON")]
    data: Option<String>,
    /// When it happened (RFC 3339); default: now
    #[arg(long, value_name = "TIME")]
    timestamp: Option<String>,
    /// Send only to this channel (repeatable)
    #[arg(long = "channel", short = 'c', value_name = "NAME")]
    channels: Vec<String>,
    #[command(flatten)]
    delivery: DeliveryArgs,
}

pub async fn run(cli: &Cli, args: &EventArgs) -> ExitCode {
    let input = match input(args) {
        Ok(i) => i,
        Err(e) => return fail(&e.to_string()),
    };
    let key = match check_idempotency_key(args.delivery.idempotency_key.as_deref()) {
        Ok(k) => k,
        Err(e) => return fail(&format!("--idempotency-key: {}", e.message)),
    };
    let (msg, only) = match input.into_notification() {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    let app = match super::load(cli).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    super::targets::warm_up(&app, None, &only);
    let store = match app.open_store_brief() {
        Ok(store) => store,
        Err(e) => return fail(&e),
    };
    let run_id = msg.event.as_ref().map(|e| e.run_id.clone());
    let sub = Submission {
        notification: msg,
        source: Source::Cli,
        watcher: None,
        only,
        idempotency_key: key,
        hold: None,
    };
    let along = Along::start(&app, store.clone(), outbox::ALONG).await;
    let report = match inline::deliver(&app, store.clone(), sub, None, args.delivery.wait).await {
        Ok(r) => r,
        Err(code) => {
            along.finish().await.print_along(args.delivery.json);
            return code;
        }
    };
    let mut code = inline::print(&report, args.delivery.json);
    // A run's updates are meant to be coalesced: one held for later is the
    // rule working, not a delivery in trouble.
    if args.kind == EventKind::Update && inline::only_held(&report) {
        code = ExitCode::SUCCESS;
    }
    along.finish().await.print_along(args.delivery.json);
    if !args.delivery.json
        && let Some(run_id) = run_id
        && let Ok(Some(run)) = store.run(&run_id)
    {
        outln!("run {}: {}", run.run_id.0, run.summary());
    }
    code
}

/// The flags, checked by the same rules as the MCP tool's arguments.
fn input(args: &EventArgs) -> Result<EventInput, InputError> {
    let mut data: EventData = match &args.data {
        None => EventData::default(),
        Some(json) => {
            let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
                InputError::new(
                    "--data",
                    format!("not JSON ({e}); write e.g. '{{\"progress\": 0.5}}'"),
                )
            })?;
            InputError::parse(value).map_err(|e| InputError {
                field: format!("--data {}", e.field).trim_end().to_string(),
                message: e.message,
            })?
        }
    };
    if args.progress.is_some() {
        data.progress = args.progress;
    }
    if args.step.is_some() {
        data.step = args.step.clone();
    }
    if args.artifact_url.is_some() {
        data.artifact_url = args.artifact_url.clone();
    }
    if let Some(code) = &args.error_code {
        data.error_code = Some(match code.parse::<i64>() {
            Ok(n) => ErrorCode::Number(n),
            Err(_) => ErrorCode::Text(code.clone()),
        });
    }
    Ok(EventInput {
        run_id: args.run_id.clone(),
        event: args.kind,
        message: args.message.clone(),
        data: Some(data),
        timestamp: args.timestamp.clone(),
        channels: (!args.channels.is_empty()).then(|| args.channels.clone()),
        idempotency_key: None,
    })
}
