//! The watcher tools (`watch_*`) and `hub_status`: their schemas, and each
//! call from arguments to [`crate::ops::watchers`] or
//! [`crate::ops::status`]. Rendering is the other tools' (`super::tools`).

use super::tools::{failure, reading, refused, result, sending};
use crate::hub::Hub;
use crate::notification::InputError;
use crate::ops::watchers::{self as ops, Trial, WatcherRef, WatcherView};
use crate::ops::{OpError, names::*};
use crate::store::{UnixMillis, WatcherId, WatcherOrigin};
use crate::watch::Runner;
use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

const CREATE: &str = "\
Create a watcher: mcp-push then checks something by itself and notifies the user when it \
matters, so you do not have to poll. Use it for \"tell me when...\", \"every morning...\", \
\"remind me...\", \"alert me if...\". One flat object: `name` (starts with a letter; letters, \
digits, - and _), `kind`, the kind's fields, and the notification's fields: `title` and `body` \
(templates with {placeholders}), `format`, `priority`, `tags`, `channels` (default: all). \
Kinds:
- schedule: `schedule` is `every 30m`, `daily 08:00`, `weekdays 09:00` or 5-field cron \
(`0 9 * * 1-5`), `timezone` an IANA name (default UTC); sends `title`/`body` at each time. \
Example: {\"name\":\"standup\",\"kind\":\"schedule\",\"schedule\":\"weekdays 09:00\",\
\"timezone\":\"Europe/Berlin\",\"title\":\"Check the project status\"}
- web: `urls` checked `every` (e.g. `30m`); optional `selector` (CSS) to watch one part of \
the page, `keywords` to fire only when a new line mentions one. The first check records a \
baseline. Example: {\"name\":\"ai-news\",\"kind\":\"web\",\"urls\":[\"https://techcrunch.com\"],\
\"every\":\"30m\",\"selector\":\"h2\",\"keywords\":[\"AI\"]}
- feed: RSS/Atom/JSON Feed `urls` checked `every`; optional `keywords`; one notification per \
new item, or with `digest` (`daily 08:00`, + `timezone`) one digest grouped by feed. \
Example: {\"name\":\"morning-news\",\"kind\":\"feed\",\"urls\":[\"https://hnrss.org/frontpage\"],\
\"every\":\"1h\",\"digest\":\"daily 08:00\"}
- threshold: `url` answering JSON with a JSON `pointer` (or `regex` on text, first group), \
`above` or `below` a number, checked `every`; fires once on crossing and once on recovery. \
Example: {\"name\":\"btc\",\"kind\":\"threshold\",\"url\":\"https://api.coingecko.com/api/v3/\
simple/price?ids=bitcoin&vs_currencies=usd\",\"pointer\":\"/bitcoin/usd\",\"above\":50000,\
\"every\":\"5m\",\"title\":\"BTC at {value}\"}
Errors name the field to fix. Returns the watcher with its id and next check.";

pub fn definitions(empty: Arc<JsonObject>) -> Vec<Tool> {
    vec![
        Tool::new(
            WATCH_CREATE,
            CREATE,
            Arc::new(object(crate::watch::model::input_schema())),
        )
        .with_title("Create a watcher")
        .with_annotations(sending()),
        Tool::new(
            WATCH_LIST,
            "List every watcher: id, name, kind, state (active, paused), origin (api, or file \
             for the config file's), its spec (secrets masked), last check, last result, last \
             fired, last error, consecutive failures, next check.",
            no_arguments(),
        )
        .with_title("List watchers")
        .with_annotations(reading()),
        Tool::new(
            WATCH_GET,
            "Get one watcher by id or name, with its spec and where its checks stand.",
            empty.clone(),
        )
        .with_input_schema::<WatcherInput>()
        .with_title("Get a watcher")
        .with_annotations(reading()),
        Tool::new(
            WATCH_UPDATE,
            "Change some of a watcher's fields: `changes` holds the fields to set, as \
             watch_create takes them (null removes one), e.g. {\"watcher\":\"ai-news\",\
             \"changes\":{\"every\":\"1h\",\"keywords\":[\"AI\",\"LLM\"]}}. The name stays; \
             the watcher starts over (a new baseline). Watchers from the config file are \
             edited there.",
            empty.clone(),
        )
        .with_input_schema::<UpdateInput>()
        .with_title("Update a watcher")
        .with_annotations(changing(true)),
        Tool::new(
            WATCH_PAUSE,
            "Pause a watcher: no checks until watch_resume; what it remembers is kept.",
            empty.clone(),
        )
        .with_input_schema::<WatcherInput>()
        .with_title("Pause a watcher")
        .with_annotations(changing(true)),
        Tool::new(
            WATCH_RESUME,
            "Resume a paused watcher: it checks again when due (a check missed while paused \
             runs at once; a schedule waits for its next time).",
            empty.clone(),
        )
        .with_input_schema::<WatcherInput>()
        .with_title("Resume a watcher")
        .with_annotations(changing(true)),
        Tool::new(
            WATCH_DELETE,
            "Delete a watcher made with watch_create (one from the config file is removed \
             there). Its past events stay in the log.",
            empty.clone(),
        )
        .with_input_schema::<WatcherInput>()
        .with_title("Delete a watcher")
        .with_annotations(
            ToolAnnotations::new()
                .read_only(false)
                .destructive(true)
                .idempotent(false)
                .open_world(false),
        ),
        Tool::new(
            WATCH_RUN,
            "Check a watcher now and say what it would send (result, error, notifications). \
             Nothing is sent or remembered unless `send` is true; then the notifications go \
             out and the check counts as a scheduled one. Use it to test a new watcher.",
            empty,
        )
        .with_input_schema::<RunInput>()
        .with_title("Check a watcher now")
        .with_annotations(sending()),
        Tool::new(
            HUB_STATUS,
            "The hub's status: version, uptime, channels, watchers (active, paused, failing), \
             outbox depth (deliveries waiting), events in the last 24 hours, and the last \
             errors (failed deliveries, failing watchers).",
            no_arguments(),
        )
        .with_title("Hub status")
        .with_annotations(reading()),
    ]
}

fn changing(idempotent: bool) -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(false)
        .destructive(false)
        .idempotent(idempotent)
        .open_world(false)
}

fn object(v: Value) -> JsonObject {
    v.as_object().cloned().unwrap_or_default()
}

fn no_arguments() -> Arc<JsonObject> {
    Arc::new(object(
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
    ))
}

/// A watcher by its id (`12`) or name (`ai-news`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IdOrName {
    Id(i64),
    Name(String),
}

impl IdOrName {
    fn to_ref(&self) -> WatcherRef {
        match self {
            IdOrName::Id(n) => WatcherRef::Id(WatcherId(*n)),
            IdOrName::Name(s) => WatcherRef::parse(s),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatcherInput {
    /// The watcher's id or name.
    pub watcher: IdOrName,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    /// The watcher's id or name.
    pub watcher: IdOrName,
    /// The fields to set, as watch_create takes them; null removes a field.
    pub changes: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// The watcher's id or name.
    pub watcher: IdOrName,
    /// Send what the check finds (default false: only say what would be sent).
    #[serde(default)]
    pub send: bool,
}

/// Why the watch tools cannot answer in this process, and what to do.
pub const WATCHERS_OFF: &str = "watchers are off in this mcp-push process: they could not \
start (its log on stderr says why, e.g. the HTTP client's TLS setup failed). Fix that and \
restart mcp-push; until then create reminders with notify_send when the time comes";

fn off() -> CallToolResult {
    failure("unavailable", WATCHERS_OFF, None)
}

fn parse<T: serde::de::DeserializeOwned>(args: JsonObject) -> Result<T, CallToolResult> {
    InputError::parse(Value::Object(args)).map_err(|e| refused(&e.into()))
}

fn view(text: String, w: &WatcherView) -> CallToolResult {
    result(text, serde_json::to_value(w).unwrap_or(Value::Null), false)
}

fn when(t: Option<UnixMillis>) -> String {
    t.map_or_else(|| "not scheduled".to_string(), |t| t.to_rfc3339())
}

pub async fn call(tool: &str, runner: Option<&Arc<Runner>>, args: JsonObject) -> CallToolResult {
    let Some(runner) = runner else {
        return off();
    };
    match run_tool(tool, runner, args).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run_tool(
    tool: &str,
    runner: &Runner,
    args: JsonObject,
) -> Result<CallToolResult, CallToolResult> {
    let op = |e: OpError| refused(&e);
    Ok(match tool {
        WATCH_CREATE => {
            let w = ops::create(runner, Value::Object(args), WatcherOrigin::Api)
                .await
                .map_err(op)?;
            let text = format!(
                "Watcher {} ({}, id {}) created; next check {}.",
                w.name,
                w.kind,
                w.id,
                when(w.status.next_check_at)
            );
            view(text, &w)
        }
        WATCH_LIST => {
            if !args.is_empty() {
                return Err(refused(&OpError::invalid(
                    "",
                    "watch_list takes no arguments",
                )));
            }
            let all = ops::list(runner).await.map_err(op)?;
            let names: Vec<String> = all
                .iter()
                .map(|w| format!("{} ({}, {})", w.name, w.kind, w.state))
                .collect();
            let text = match names.len() {
                0 => "No watcher.".to_string(),
                n => format!(
                    "{n} watcher{}: {}.",
                    if n == 1 { "" } else { "s" },
                    names.join(", ")
                ),
            };
            result(text, json!({ "watchers": all }), false)
        }
        WATCH_GET | WATCH_PAUSE | WATCH_RESUME | WATCH_DELETE => {
            let input: WatcherInput = parse(args)?;
            let r = input.watcher.to_ref();
            let (w, done) = match tool {
                WATCH_GET => (ops::get(runner, &r).await, "is"),
                WATCH_PAUSE => (ops::pause(runner, &r).await, "paused"),
                WATCH_RESUME => (ops::resume(runner, &r).await, "resumed"),
                _ => (ops::delete(runner, &r).await, "deleted"),
            };
            let w = w.map_err(op)?;
            let text = if tool == WATCH_GET {
                format!(
                    "Watcher {} ({}, id {}) is {}; last result: {}; next check {}.",
                    w.name,
                    w.kind,
                    w.id,
                    w.state,
                    w.status.last_result.as_deref().unwrap_or("none yet"),
                    when(w.status.next_check_at)
                )
            } else {
                format!("Watcher {} (id {}) {done}.", w.name, w.id)
            };
            view(text, &w)
        }
        WATCH_UPDATE => {
            let input: UpdateInput = parse(args)?;
            let w = ops::update(
                runner,
                &input.watcher.to_ref(),
                Value::Object(input.changes),
            )
            .await
            .map_err(|e| match e {
                OpError::Invalid { field, message } if field != "name" => OpError::Invalid {
                    field: if field.is_empty() {
                        "changes".to_string()
                    } else {
                        format!("changes.{field}")
                    },
                    message,
                },
                e => e,
            })
            .map_err(op)?;
            let text = format!(
                "Watcher {} (id {}) updated; it starts over, next check {}.",
                w.name,
                w.id,
                when(w.status.next_check_at)
            );
            view(text, &w)
        }
        WATCH_RUN => {
            let input: RunInput = parse(args)?;
            let trial = ops::run(runner, &input.watcher.to_ref(), input.send)
                .await
                .map_err(op)?;
            result(trial_text(&trial), trial_value(&trial), false)
        }
        other => {
            return Err(refused(&OpError::invalid(
                "",
                format!("unknown tool {other}"),
            )));
        }
    })
}

fn trial_text(t: &Trial) -> String {
    let n = t.notifications.len();
    let what = match (n, t.sent) {
        (0, _) => "nothing to send".to_string(),
        (n, true) => format!("sent {n} notification{}", if n == 1 { "" } else { "s" }),
        (n, false) => format!(
            "would send {n} notification{} (not sent: pass send: true)",
            if n == 1 { "" } else { "s" }
        ),
    };
    let error = t
        .error
        .as_deref()
        .map(|e| format!(" Error: {e}."))
        .unwrap_or_default();
    format!("Watcher {}: {}; {what}.{error}", t.watcher.name, t.result)
}

fn trial_value(t: &Trial) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

pub async fn hub_status(hub: &Hub, started_at: UnixMillis, args: JsonObject) -> CallToolResult {
    if !args.is_empty() {
        return refused(&OpError::invalid("", "hub_status takes no arguments"));
    }
    match crate::ops::status::hub_status(hub, started_at).await {
        Ok(s) => {
            let w = s.watchers;
            let text = format!(
                "mcp-push {} up {} s; {} channel{}; watchers {} active, {} paused, {} failing; \
                 outbox {} waiting; {} events in 24 h; {} recent error{}.",
                s.version,
                s.uptime_secs,
                s.channels.len(),
                if s.channels.len() == 1 { "" } else { "s" },
                w.active,
                w.paused,
                w.failing,
                s.outbox_depth,
                s.events_24h,
                s.last_errors.len(),
                if s.last_errors.len() == 1 { "" } else { "s" },
            );
            result(text, serde_json::to_value(&s).unwrap_or(Value::Null), false)
        }
        Err(e) => refused(&e),
    }
}
