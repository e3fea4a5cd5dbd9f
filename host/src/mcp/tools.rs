//! The tools: their schemas, and each call from arguments to a result that an
//! agent can read (short text) and a program can parse (structured content).

use crate::app::App;
use crate::catalog::Catalog;
use crate::hub::{Hub, HubError, Overall, Report};
use crate::notification::{EventInput, InputError, Notification, SendInput};
use crate::redact::{redact, redact_json};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub const NOTIFY_SEND: &str = "notify_send";
pub const NOTIFY_EVENT: &str = "notify_event";
pub const LIST_CHANNELS: &str = "list_channels";
pub const NAMES: [&str; 3] = [NOTIFY_SEND, NOTIFY_EVENT, LIST_CHANNELS];

pub fn definitions() -> Vec<Tool> {
    let empty = Arc::new(JsonObject::new());
    vec![
        Tool::new(
            NOTIFY_SEND,
            "Send a message to the user's notification channels (all configured ones, or those \
             named in `channels`). Returns status success, partial or failed with each channel's \
             outcome.",
            empty.clone(),
        )
        .with_input_schema::<SendInput>()
        .with_title("Send a notification")
        .with_annotations(sending()),
        Tool::new(
            NOTIFY_EVENT,
            "Report one step of a long-running job: `start`, `update` (with data.progress 0..1 \
             and data.step), `end` (succeeded) or `error` (failed, with data.error_code). Use \
             the same run_id for every event of one run. Delivered like notify_send.",
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
        .with_annotations(
            ToolAnnotations::new()
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        ),
    ]
}

fn sending() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(false)
        .destructive(false)
        .idempotent(false)
        .open_world(true)
}

pub async fn notify_send(hub: &Hub, app: &App, args: JsonObject) -> CallToolResult {
    let parsed =
        InputError::parse::<SendInput>(Value::Object(args)).and_then(SendInput::into_notification);
    match parsed {
        Ok((msg, only)) => deliver(hub, app, &msg, &only, Map::new()).await,
        Err(e) => invalid(&e),
    }
}

pub async fn notify_event(hub: &Hub, app: &App, args: JsonObject) -> CallToolResult {
    let parsed = InputError::parse::<EventInput>(Value::Object(args))
        .and_then(EventInput::into_notification);
    let (msg, only) = match parsed {
        Ok(p) => p,
        Err(e) => return invalid(&e),
    };
    let mut about = Map::new();
    if let Some(ev) = &msg.event {
        about.insert("run_id".into(), json!(ev.run_id.0));
        about.insert("event".into(), json!(ev.kind));
        about.insert("title".into(), json!(msg.title));
    }
    deliver(hub, app, &msg, &only, about).await
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

async fn deliver(
    hub: &Hub,
    app: &App,
    msg: &Notification,
    only: &[String],
    mut about: Map<String, Value>,
) -> CallToolResult {
    let report = match hub.send(msg, only).await {
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
    };
    let overall = report.overall();
    let (text, channels) = match &report {
        Report::Skipped { reason } => (format!("Skipped: {reason}."), Vec::new()),
        Report::Sent { outcomes } => {
            let failed: Vec<String> = outcomes
                .iter()
                .filter_map(|o| {
                    o.result
                        .as_ref()
                        .err()
                        .map(|e| format!("{} ({e})", o.channel))
                })
                .collect();
            let ok = outcomes.len() - failed.len();
            let text = match overall {
                Overall::Success => format!(
                    "Delivered to {} channel{}.",
                    ok,
                    if ok == 1 { "" } else { "s" }
                ),
                Overall::Partial => format!(
                    "Delivered to {ok} of {} channels. Failed: {}.",
                    outcomes.len(),
                    failed.join("; ")
                ),
                _ => format!("Not delivered. Failed: {}.", failed.join("; ")),
            };
            let channels = outcomes
                .iter()
                .map(|o| {
                    let mut c = json!({
                        "channel": o.channel, "plugin": o.plugin, "ok": o.result.is_ok(),
                        "elapsed_ms": o.elapsed.as_millis() as u64,
                    });
                    match &o.result {
                        Ok(r) => {
                            if let Some(id) = &r.remote_id {
                                c["remote_id"] = json!(id);
                            }
                        }
                        Err(e) => c["error"] = json!(e.to_string()),
                    }
                    c
                })
                .collect();
            (text, channels)
        }
    };
    about.insert("status".into(), json!(overall));
    about.insert("channels".into(), Value::Array(channels));
    if let Report::Skipped { reason } = &report {
        about.insert("reason".into(), json!(reason));
    }
    result(text, Value::Object(about), overall == Overall::Failed)
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
