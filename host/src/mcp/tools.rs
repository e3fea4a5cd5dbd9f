//! The tools: their schemas, and each call from arguments to a result that an
//! agent can read (short text) and a program can parse (structured content).

use crate::app::App;
use crate::catalog::Catalog;
use crate::hub::{Hub, HubError, Outcome, Overall, Report, Submission, blocking};
use crate::notification::{
    EventInput, InputError, Notification, RunId, SendInput, check_idempotency_key,
};
use crate::redact::{redact, redact_json};
use crate::store::{DeliveryState, EventId, EventQuery, RunStatus, Source, StoreError, Target};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const NOTIFY_SEND: &str = "notify_send";
pub const NOTIFY_EVENT: &str = "notify_event";
pub const LIST_CHANNELS: &str = "list_channels";
pub const GET_RUN: &str = "get_run";
pub const LIST_RUNS: &str = "list_runs";
pub const GET_DELIVERIES: &str = "get_deliveries";
pub const NAMES: [&str; 6] = [
    NOTIFY_SEND,
    NOTIFY_EVENT,
    LIST_CHANNELS,
    GET_RUN,
    LIST_RUNS,
    GET_DELIVERIES,
];

pub fn definitions() -> Vec<Tool> {
    let empty = Arc::new(JsonObject::new());
    vec![
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
            empty,
        )
        .with_input_schema::<GetDeliveriesInput>()
        .with_title("Get deliveries")
        .with_annotations(reading()),
    ]
}

fn reading() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false)
}

fn sending() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(false)
        .destructive(false)
        .idempotent(false)
        .open_world(true)
}

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
        only,
        idempotency_key: key,
        hold: None,
    })
}

pub async fn notify_send(hub: &Hub, app: &App, args: JsonObject) -> CallToolResult {
    send_from(hub, app, args, Source::Mcp, TOOL_WAIT).await
}

/// `notify_send` for a caller other than MCP (the REST API), waiting at most `wait`.
pub async fn send_from(
    hub: &Hub,
    app: &App,
    args: JsonObject,
    source: Source,
    wait: Duration,
) -> CallToolResult {
    match send_submission(Value::Object(args), source) {
        Ok(sub) => deliver(hub, app, sub, Map::new(), wait).await,
        Err(e) => invalid(&e),
    }
}

pub async fn notify_event(hub: &Hub, app: &App, args: JsonObject) -> CallToolResult {
    event_from(hub, app, args, Source::Mcp, TOOL_WAIT).await
}

/// `notify_event` for a caller other than MCP (the REST API), waiting at most `wait`.
pub async fn event_from(
    hub: &Hub,
    app: &App,
    args: JsonObject,
    source: Source,
    wait: Duration,
) -> CallToolResult {
    let sub = match event_submission(Value::Object(args), source) {
        Ok(p) => p,
        Err(e) => return invalid(&e),
    };
    let msg = &sub.notification;
    let mut about = Map::new();
    if let Some(ev) = &msg.event {
        about.insert("run_id".into(), json!(ev.run_id.0));
        about.insert("event".into(), json!(ev.kind));
        about.insert("title".into(), json!(msg.title));
    }
    deliver(hub, app, sub, about, wait).await
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

/// How long a tool call waits for its deliveries (retries due later stay in the outbox).
pub const TOOL_WAIT: Duration = Duration::from_secs(30);

async fn deliver(
    hub: &Hub,
    app: &App,
    sub: Submission,
    mut about: Map<String, Value>,
    wait: Duration,
) -> CallToolResult {
    let run_id = sub.notification.event.as_ref().map(|e| e.run_id.clone());
    let report = match hub.send(sub, wait).await {
        Ok(r) => r,
        Err(HubError::NoChannels) => {
            return failure(
                "no_channels",
                &format!(
                    "No channel is configured, so nothing was sent. The user can set a plugin's \
                     environment variables (for example WEBHOOK_URL) or add a [channels.NAME] \
                     table to {}; list_channels shows what each plugin needs.",
                    app.config_file_hint()
                ),
                None,
            );
        }
        Err(e @ HubError::UnknownChannel { .. }) => {
            return failure("invalid", &e.to_string(), Some("channels"));
        }
        Err(e @ HubError::Store(_)) => {
            return failure("store_error", &format!("Nothing was sent: {e}."), None);
        }
    };
    let overall = report.overall();
    let mut text = match &report {
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
    about.insert("status".into(), json!(overall));
    if let Report::Delivered {
        event_id,
        duplicate,
        outcomes,
    } = &report
    {
        about.insert("event_id".into(), json!(event_id));
        about.insert("duplicate".into(), json!(duplicate));
        about.insert("channels".into(), json!(outcomes));
    } else {
        about.insert("channels".into(), json!([]));
    }
    if let Report::Skipped { reason } = &report {
        about.insert("reason".into(), json!(reason));
    }
    if let Some(run_id) = run_id {
        let store = hub.store().clone();
        if let Ok(Some(run)) = blocking(move || store.run(&run_id)).await {
            text.push_str(&format!(" Run {}: {}.", run.run_id.0, run.summary()));
            about.insert("run".into(), json!(run));
        }
    }
    // Claude Code and Codex hand the model the structured result, not the
    // text: the sentence goes in it too, so it reads on its own.
    about.insert("summary".into(), json!(text));
    result(text, Value::Object(about), overall == Overall::Failed)
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

/// A run with its events (oldest first) and each event's deliveries.
pub async fn run_detail(hub: &Hub, run_id: RunId) -> Result<Option<Value>, StoreError> {
    let store = hub.store().clone();
    blocking(move || {
        let Some(run) = store.run(&run_id)? else {
            return Ok(None);
        };
        let events = store.events(&EventQuery {
            run_id: Some(run_id.clone()),
            limit: 1_000,
            ..Default::default()
        })?;
        let deliveries = store.deliveries_for(&Target::Run(run_id))?;
        let events: Vec<Value> = events
            .iter()
            .map(|e| {
                json!({
                    "event_id": e.id, "kind": e.kind, "at": e.created_at, "source": e.source,
                    "title": e.notification.title, "message": e.notification.body,
                    "deliveries": deliveries.iter().filter(|d| d.event_id == e.id).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(Some(json!({"run": run, "events": events})))
    })
    .await
}

pub async fn get_run(hub: &Hub, args: JsonObject) -> CallToolResult {
    let input: GetRunInput = match InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return invalid(&e),
    };
    match run_detail(hub, RunId(input.run_id.clone())).await {
        Ok(Some(v)) => {
            let text = format!(
                "Run {}: {}.",
                input.run_id,
                v["run"]["status"].as_str().unwrap_or("?")
            );
            result(text, v, false)
        }
        Ok(None) => failure(
            "not_found",
            &format!("No run {:?}; list_runs shows the runs.", input.run_id),
            Some("run_id"),
        ),
        Err(e) => failure("store_error", &e.to_string(), None),
    }
}

/// Newest first, each with a one-line preview of its last message.
pub async fn runs_page(
    hub: &Hub,
    status: Option<RunStatus>,
    limit: usize,
    offset: usize,
) -> Result<Value, StoreError> {
    let store = hub.store().clone();
    let runs = blocking(move || store.list_runs(status, limit, offset)).await?;
    Ok(Value::Array(
        runs.into_iter()
            .map(|r| {
                let preview = r
                    .last_message
                    .as_deref()
                    .and_then(|m| m.lines().next())
                    .map(|l| crate::notification::preview(l, 120));
                let mut v = json!(r);
                v["preview"] = json!(preview);
                v
            })
            .collect(),
    ))
}

pub async fn list_runs(hub: &Hub, args: JsonObject) -> CallToolResult {
    let input: ListRunsInput = match InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return invalid(&e),
    };
    let limit = input.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return invalid(&InputError::new(
            "limit",
            format!("{limit} is outside 1 to 200"),
        ));
    }
    let status = input.status.map(|s| match s {
        RunStatusInput::Running => RunStatus::Running,
        RunStatusInput::Succeeded => RunStatus::Succeeded,
        RunStatusInput::Failed => RunStatus::Failed,
    });
    match runs_page(
        hub,
        status,
        limit as usize,
        input.offset.unwrap_or(0) as usize,
    )
    .await
    {
        Ok(runs) => {
            let n = runs.as_array().map(Vec::len).unwrap_or(0);
            result(
                format!("{n} run{}.", if n == 1 { "" } else { "s" }),
                json!({"runs": runs}),
                false,
            )
        }
        Err(e) => failure("store_error", &e.to_string(), None),
    }
}

pub async fn get_deliveries(hub: &Hub, args: JsonObject) -> CallToolResult {
    let input: GetDeliveriesInput = match InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return invalid(&e),
    };
    let target = match (input.run_id, input.event_id) {
        (Some(r), None) => Target::Run(RunId(r)),
        (None, Some(e)) => Target::Event(EventId(e)),
        _ => {
            return invalid(&InputError::new(
                "",
                "give exactly one of run_id or event_id",
            ));
        }
    };
    let store = hub.store().clone();
    match blocking(move || store.deliveries_for(&target)).await {
        Ok(rows) => {
            let failed = rows
                .iter()
                .filter(|d| d.state == DeliveryState::Failed)
                .count();
            let pending = rows
                .iter()
                .filter(|d| d.state == DeliveryState::Pending)
                .count();
            result(
                format!(
                    "{} deliveries ({failed} failed, {pending} waiting).",
                    rows.len()
                ),
                json!({"deliveries": rows}),
                false,
            )
        }
        Err(e) => failure("store_error", &e.to_string(), None),
    }
}

fn invalid(e: &InputError) -> CallToolResult {
    let field = (!e.field.is_empty()).then_some(e.field.as_str());
    failure("invalid", &format!("{e}."), field)
}

fn failure(status: &str, message: &str, field: Option<&str>) -> CallToolResult {
    let mut value = json!({"status": status, "error": redact(message), "channels": []});
    if let Some(f) = field {
        value["field"] = json!(f);
    }
    result(message.to_string(), value, true)
}

/// Text and structured content, both with any secret value redacted.
fn result(text: String, structured: Value, is_error: bool) -> CallToolResult {
    let mut r = CallToolResult::structured(redact_json(structured));
    r.content = vec![ContentBlock::text(redact(&text))];
    r.is_error = Some(is_error);
    r
}
