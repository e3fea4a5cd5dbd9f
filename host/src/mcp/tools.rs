//! The tools: their schemas, and each call from arguments to an operation
//! ([`crate::ops`]) and its outcome to a result that an agent can read (short
//! text) and a program can parse (structured content).

use crate::app::App;
use crate::catalog::Catalog;
use crate::hub::Hub;
use crate::notification::{EventInput, InputError, RunId, SendInput};
use crate::ops::{self, OpError};
use crate::redact::{redact, redact_json};
use crate::store::{DeliveryState, EventId, RunStatus, Source, Target};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub use crate::ops::names::{
    ASK_CANCEL, ASK_STATUS, ASK_USER, GET_DELIVERIES, GET_RUN, HUB_STATUS, LIST_CHANNELS,
    LIST_RUNS, NAMES, NOTIFY_EVENT, NOTIFY_SEND, WATCH_CREATE, WATCH_DELETE, WATCH_GET, WATCH_LIST,
    WATCH_PAUSE, WATCH_RESUME, WATCH_RUN, WATCH_UPDATE,
};

pub fn definitions() -> Vec<Tool> {
    let empty = Arc::new(JsonObject::new());
    let mut tools = vec![
        Tool::new(
            NOTIFY_SEND,
            "Send a message to the user's notification channels (all configured ones, or those \
             named in `channels`). Every message is written to a durable outbox first; failed \
             sends are retried. Returns status success, partial, failed, queued (still retrying \
             or held by quiet hours) or skipped, with each channel's outcome. Pass an \
             idempotency_key to make a repeat safe.",
            empty.clone(),
        )
        .with_input_schema::<SendInput>()
        .with_title("Send a notification")
        .with_annotations(sending()),
        Tool::new(
            NOTIFY_EVENT,
            "Report one step of a long-running job: `start`, `update` (with data.progress 0..1 \
             and data.step), `end` (succeeded) or `error` (failed, with data.error_code). Use \
             the same run_id for every event of one run. Delivered like notify_send; progress \
             updates are coalesced per channel (latest wins). The result includes the run's \
             state.",
            empty.clone(),
        )
        .with_input_schema::<EventInput>()
        .with_title("Report a run event")
        .with_annotations(sending()),
        Tool::new(
            LIST_CHANNELS,
            "List the configured notification channels (plugin, version, allowed hosts, \
             settings with secrets masked) and the plugins available but not configured, with \
             the environment variables each needs.",
            Arc::new(
                json!({"type": "object", "properties": {}, "additionalProperties": false})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .with_title("List channels")
        .with_annotations(reading()),
        Tool::new(
            GET_RUN,
            "Get one run: status (running, succeeded, failed), progress, step, duration, \
             artifact link, and its timeline of events with each event's deliveries.",
            empty.clone(),
        )
        .with_input_schema::<GetRunInput>()
        .with_title("Get a run")
        .with_annotations(reading()),
        Tool::new(
            LIST_RUNS,
            "List runs, newest first, with status, progress and a preview of the last message.",
            empty.clone(),
        )
        .with_input_schema::<ListRunsInput>()
        .with_title("List runs")
        .with_annotations(reading()),
        Tool::new(
            GET_DELIVERIES,
            "List the deliveries of a run (run_id) or of one event (event_id): channel, state \
             (pending, sent, failed, skipped, coalesced), attempts, last error, remote id.",
            empty.clone(),
        )
        .with_input_schema::<GetDeliveriesInput>()
        .with_title("Get deliveries")
        .with_annotations(reading()),
    ];
    tools.extend(super::watch_tools::definitions(empty.clone()));
    tools.extend(super::ask_tools::definitions(empty));
    tools
}

pub(super) fn reading() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false)
}

pub(super) fn sending() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(false)
        .destructive(false)
        .idempotent(false)
        .open_world(true)
}

pub async fn notify_send(hub: &Arc<Hub>, app: &App, args: JsonObject) -> CallToolResult {
    let sub = ops::send::send_submission(Value::Object(args), Source::Mcp);
    send(hub, app, sub).await
}

pub async fn notify_event(hub: &Arc<Hub>, app: &App, args: JsonObject) -> CallToolResult {
    let sub = ops::send::event_submission(Value::Object(args), Source::Mcp);
    send(hub, app, sub).await
}

async fn send(
    hub: &Arc<Hub>,
    app: &App,
    sub: Result<crate::hub::Submission, InputError>,
) -> CallToolResult {
    let sent = match sub {
        Ok(sub) => ops::send::send(hub, sub, ops::send::WAIT).await,
        Err(e) => Err(e.into()),
    };
    match sent {
        Ok(sent) => result(
            sent.summary.clone(),
            serde_json::to_value(&sent).unwrap_or(Value::Null),
            sent.failed(),
        ),
        Err(e) => {
            let message = ops::send::refusal(&e, &app.config_file_hint());
            match e {
                OpError::NoChannels => failure("no_channels", &message, None),
                OpError::Store(_) => failure("store_error", &message, None),
                e => refused(&e),
            }
        }
    }
}

pub fn list_channels(app: &App) -> CallToolResult {
    let catalog = Catalog::of(app);
    let mut text = if catalog.channels.is_empty() {
        "No channel is configured.".to_string()
    } else {
        let names: Vec<String> = catalog
            .channels
            .iter()
            .map(|c| format!("{} ({})", c.name, c.plugin))
            .collect();
        format!("Channels: {}.", names.join(", "))
    };
    if !catalog.available.is_empty() {
        let ids: Vec<&str> = catalog
            .available
            .iter()
            .map(|a| a.plugin.as_str())
            .collect();
        text.push_str(&format!(
            " Available but not configured: {}.",
            ids.join(", ")
        ));
    }
    let value = serde_json::to_value(&catalog).unwrap_or(Value::Null);
    result(text, value, false)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRunInput {
    /// The run's id, as given to notify_event.
    pub run_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRunsInput {
    /// Only runs in this state.
    #[serde(default)]
    pub status: Option<RunStatusInput>,
    /// At most this many (default 20, at most 200).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    /// Skip this many of the newest first.
    #[serde(default)]
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatusInput {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetDeliveriesInput {
    /// Every delivery of this run's events.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Or the deliveries of one event (event_id from a notify result).
    #[serde(default)]
    pub event_id: Option<i64>,
}

pub async fn get_run(hub: &Hub, args: JsonObject) -> CallToolResult {
    let input: GetRunInput = match InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return refused(&e.into()),
    };
    let run_id = RunId(input.run_id);
    match ops::runs::detail(hub.store(), run_id.clone(), ops::runs::TIMELINE).await {
        Ok(detail) => {
            let v = serde_json::to_value(&detail).unwrap_or(Value::Null);
            let text = format!(
                "Run {}: {}.",
                run_id.0,
                v["run"]["status"].as_str().unwrap_or("?")
            );
            result(text, v, false)
        }
        Err(e) => refused(&e),
    }
}

pub async fn list_runs(hub: &Hub, args: JsonObject) -> CallToolResult {
    let input: ListRunsInput = match InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return refused(&e.into()),
    };
    let limit = input.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return refused(&OpError::invalid(
            "limit",
            format!("{limit} is outside 1 to 200"),
        ));
    }
    let status = input.status.map(|s| match s {
        RunStatusInput::Running => RunStatus::Running,
        RunStatusInput::Succeeded => RunStatus::Succeeded,
        RunStatusInput::Failed => RunStatus::Failed,
    });
    let offset = input.offset.unwrap_or(0) as usize;
    match ops::runs::list(hub.store(), status, limit as usize, offset).await {
        Ok(runs) => {
            let n = runs.len();
            result(
                format!("{n} run{}.", if n == 1 { "" } else { "s" }),
                json!({ "runs": runs }),
                false,
            )
        }
        Err(e) => refused(&e),
    }
}

pub async fn get_deliveries(hub: &Hub, args: JsonObject) -> CallToolResult {
    let input: GetDeliveriesInput = match InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return refused(&e.into()),
    };
    let target = match (input.run_id, input.event_id) {
        (Some(r), None) => Target::Run(RunId(r)),
        (None, Some(e)) => Target::Event(EventId(e)),
        _ => {
            return refused(&OpError::invalid(
                "",
                "give exactly one of run_id or event_id",
            ));
        }
    };
    match ops::deliveries::of(hub.store(), target).await {
        Ok(rows) => {
            let failed = ops::deliveries::count(&rows, DeliveryState::Failed);
            let pending = ops::deliveries::count(&rows, DeliveryState::Pending);
            result(
                format!(
                    "{} deliveries ({failed} failed, {pending} waiting).",
                    rows.len()
                ),
                json!({ "deliveries": rows }),
                false,
            )
        }
        Err(e) => refused(&e),
    }
}

/// An operation that did nothing, as a failed call: `status` says why.
pub(super) fn refused(e: &OpError) -> CallToolResult {
    match e {
        OpError::Invalid { field, .. } => {
            let field = (!field.is_empty()).then_some(field.as_str());
            failure("invalid", &format!("{e}."), field)
        }
        OpError::UnknownChannel { .. } => failure("invalid", &e.to_string(), Some("channels")),
        OpError::NoSuchRun(run_id) => failure(
            "not_found",
            &format!("No run {:?}; list_runs shows the runs.", run_id.0),
            Some("run_id"),
        ),
        OpError::NoChannels => failure("no_channels", &e.to_string(), None),
        OpError::Store(_) => failure("store_error", &e.to_string(), None),
        OpError::NoSuchDelivery(_) => failure("not_found", &e.to_string(), None),
        OpError::NoSuchAsk(_) => failure("not_found", &e.to_string(), Some("ask_id")),
        OpError::NoSuchWatcher(_) => failure(
            "not_found",
            &format!("{e}; watch_list shows the watchers."),
            Some("watcher"),
        ),
        OpError::NotRetryable { .. } | OpError::Busy(_) => {
            failure("conflict", &e.to_string(), None)
        }
    }
}

pub(super) fn failure(status: &str, message: &str, field: Option<&str>) -> CallToolResult {
    let mut value = json!({"status": status, "error": redact(message), "channels": []});
    if let Some(f) = field {
        value["field"] = json!(f);
    }
    result(message.to_string(), value, true)
}

/// Text and structured content, both with any secret value redacted.
pub(super) fn result(text: String, structured: Value, is_error: bool) -> CallToolResult {
    let mut r = CallToolResult::structured(redact_json(structured));
    r.content = vec![ContentBlock::text(redact(&text))];
    r.is_error = Some(is_error);
    r
}
