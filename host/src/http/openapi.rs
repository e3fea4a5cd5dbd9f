//! `/v1/openapi.json`: the API described for tools and people. A test checks
//! that it names exactly the routes of [`super::rest::ROUTES`].

use serde_json::{Value, json};

fn error_response(what: &str) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn json_response(what: &str, schema: Value) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": schema}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// `T`'s JSON schema as a component; its `$defs` become components too, and
/// the references to them are rewritten to point there.
fn schema_of<T: schemars::JsonSchema>(components: &mut serde_json::Map<String, Value>) -> Value {
    let text = serde_json::to_string(&schemars::schema_for!(T))
        .unwrap_or_default()
        .replace("\"#/$defs/", "\"#/components/schemas/");
    let mut v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        if let Some(Value::Object(defs)) = o.remove("$defs") {
            components.extend(defs);
        }
    }
    v
}

/// A string with something besides white space in it (JSON Schema patterns
/// match anywhere in the string).
const NOT_BLANK: &str = r"\S";
/// No control characters (what `char::is_control` refuses), and not blank.
const PRINTABLE: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
/// An http(s) URL the server's URL parser accepts: host labels start with a
/// letter, so the host is never read as a (possibly invalid) IPv4 number.
const HTTP_URL: &str =
    r"^https?://[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)*(:[0-9]{1,4})?(/[A-Za-z0-9._~-]*)*$";

/// The input limits the server checks in code, stated in the schemas that
/// schemars derived from the types, so a schema-driven client finds no
/// request that the document allows and the server refuses (or the reverse).
fn state_limits(schemas: &mut serde_json::Map<String, Value>, channels: &[String]) {
    use crate::notification::{MAX_CONTENT, MAX_IDEMPOTENCY_KEY, MAX_RUN_ID, MAX_TITLE};
    let mut set = |schema: &str, field: &str, extra: Value| {
        if let (Some(target), Value::Object(extra)) = (
            schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{field}")))
                .and_then(Value::as_object_mut),
            extra,
        ) {
            target.extend(extra);
        }
    };
    let key = json!({"minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY, "pattern": PRINTABLE});
    let only = if channels.is_empty() {
        json!({"uniqueItems": true})
    } else {
        json!({"uniqueItems": true, "items": {"type": "string", "enum": channels}})
    };
    for input in ["SendInput", "EventInput"] {
        set(input, "idempotency_key", key.clone());
        set(input, "channels", only.clone());
    }
    set("SendInput", "title", json!({"maxLength": MAX_TITLE}));
    set("SendInput", "content", json!({"maxLength": MAX_CONTENT}));
    set("SendInput", "link", json!({"pattern": HTTP_URL}));
    set(
        "EventInput",
        "run_id",
        json!({"maxLength": MAX_RUN_ID, "pattern": PRINTABLE}),
    );
    set("EventInput", "message", json!({"maxLength": MAX_CONTENT}));
    set("EventInput", "timestamp", json!({"format": "date-time"}));
    set("EventData", "artifact_url", json!({"pattern": HTTP_URL}));
    set("AskInput", "channels", only.clone());
    set(
        "AskInput",
        "question",
        json!({"minLength": 1, "maxLength": crate::ops::asks::MAX_QUESTION, "pattern": NOT_BLANK}),
    );
    set(
        "AskInput",
        "choices",
        json!({"maxItems": crate::ops::asks::MAX_CHOICES, "uniqueItems": true, "items": {"type": "string", "minLength": 1, "maxLength": crate::ops::asks::MAX_CHOICE, "pattern": NOT_BLANK}}),
    );
    set(
        "AskInput",
        "timeout_secs",
        json!({"type": ["integer", "null"], "minimum": 1, "maximum": crate::ops::asks::MAX_TIMEOUT.as_secs()}),
    );
    // The cross-field rule: something to say, in one field or another (an
    // event needs none: its kind alone says something).
    if let Some(send) = schemas.get_mut("SendInput").and_then(Value::as_object_mut) {
        send.insert(
            "anyOf".into(),
            json!([
                {"properties": {"title": {"pattern": NOT_BLANK}}},
                {"properties": {"content": {"pattern": NOT_BLANK}}},
            ]),
        );
    }
    if let Some(code) = schemas.get_mut("ErrorCode") {
        *code = json!({"description": code["description"], "anyOf": [
            {"type": "string"},
            {"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX},
        ]});
    }
}

/// The `/v1/asks` routes (apart: one `json!` for every route is too deep
/// for the macro).
fn asks_paths(ask: Value, ask_param: Value, ask_wait: Value) -> Value {
    json!({
            "/v1/asks": {
                "post": {
                    "summary": "Ask the user a question on their channels (the MCP tool ask_user): each channel's copy carries its own reply link when MCP_PUSH_REPLY_URL or this server's address gives one",
                    "description": "The body's `wait` is the MCP tool's; here `?wait=SECONDS` says how long to wait for the answer.",
                    "parameters": [ask_wait.clone()],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AskInput"}}}},
                    "responses": {
                        "200": json_response("Decided within `wait`", ask.clone()),
                        "201": json_response("Asked; still open", ask.clone()),
                        "400": error_response("Invalid input: `field` names what to fix"),
                        "409": error_response("No channel is configured"),
                        "413": error_response("The body is larger than 256 KiB"),
                    }
                },
                "get": {
                    "summary": "The open questions, oldest first",
                    "responses": {"200": json_response("The open questions", json!({"type": "object", "required": ["asks"], "properties": {"asks": {"type": "array", "items": ask.clone()}}}))}
                }
            },
            "/v1/asks/{ask_id}": {"get": {
                "summary": "A question as it stands (the MCP tool ask_status); one past its deadline is closed as timed out",
                "parameters": [ask_param.clone(), ask_wait],
                "responses": {"200": json_response("The question", ask.clone()), "400": error_response("Invalid id or query"), "404": error_response("No such question")}
            }},
            "/v1/asks/{ask_id}/cancel": {"post": {
                "summary": "Cancel an open question (the MCP tool ask_cancel); a decided one is returned as it is",
                "parameters": [ask_param.clone()],
                "responses": {"200": json_response("The question", ask.clone()), "400": error_response("Invalid id"), "404": error_response("No such question")}
            }},
            "/v1/asks/{ask_id}/answer": {
                "get": {
                    "summary": "The reply page a question's link opens (HTML; no bearer token: the link's token is the credential). Opening it never answers",
                    "parameters": [ask_param.clone(),
                        query("channel", "The channel the link was sent to", json!({"type": "string"})),
                        query("token", "The link's reply token", json!({"type": "string"}))],
                    "responses": {
                        "200": {"description": "The question and its choices", "content": {"text/html": {"schema": {"type": "string"}}}},
                        "403": {"description": "Not a link sent for this question", "content": {"text/html": {"schema": {"type": "string"}}}},
                        "404": {"description": "Not a question's id", "content": {"text/html": {"schema": {"type": "string"}}}},
                    }
                },
                "post": {
                    "summary": "Answer: the reply page's form (`answer`, `channel`, `token`; HTML back), or JSON `{\"answer\", \"by\"}` with the bearer token. The first answer in time decides; a later one is recorded and changes nothing (409)",
                    "parameters": [ask_param],
                    "requestBody": {"required": true, "content": {
                        "application/json": {"schema": {"type": "object", "required": ["answer"], "additionalProperties": false, "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": crate::ops::asks::MAX_ANSWER}, "by": {"type": "string", "minLength": 1, "maxLength": 100}}}},
                        "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["answer", "channel", "token"], "properties": {"answer": {"type": "string"}, "channel": {"type": "string"}, "token": {"type": "string"}}}},
                    }},
                    "responses": {
                        "200": {"description": "The answer decided the question", "content": {"application/json": {"schema": ask.clone()}, "text/html": {"schema": {"type": "string"}}}},
                        "400": {"description": "Not one of the choices, or an invalid body or id", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}, "text/html": {"schema": {"type": "string"}}}},
                        "401": error_response("No bearer token and no reply token"),
                        "403": {"description": "Not a link sent for this question", "content": {"text/html": {"schema": {"type": "string"}}}},
                        "404": error_response("No such question"),
                        "409": {"description": "Already decided, timed out or cancelled: the answer is recorded and changes nothing", "content": {"application/json": {"schema": ask}, "text/html": {"schema": {"type": "string"}}}},
                    }
                }
            }
    })
}

fn asks_wait_max() -> u64 {
    super::asks::MAX_WAIT_SECS
}

/// A question as every `/v1/asks` route answers with it.
fn ask_schema() -> Value {
    let maybe = |t: &str| json!({"type": [t, "null"]});
    json!({"type": "object",
    "required": ["ask_id", "status", "question", "choices", "channels", "defaulted", "deadline", "summary"],
    "properties": {
        "ask_id": {"type": "integer"},
        "status": {"enum": ["open", "answered", "timed_out", "cancelled"]},
        "question": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "string"}},
        "channels": {"type": "array", "items": {"type": "string"}},
        "answer": {"type": ["string", "null"], "description": "The answer given, or the default of a question that timed out"},
        "answered_by": maybe("string"),
        "channel": {"type": ["string", "null"], "description": "The channel whose recipient answered (null: the API or the CLI)"},
        "defaulted": {"type": "boolean", "description": "The answer is the default: nobody answered in time"},
        "deadline": {"type": "string", "format": "date-time"},
        "summary": {"type": "string"},
    }})
}

/// A delivery row as `/v1/deliveries` lists it (with its event's title).
fn delivery_schema() -> Value {
    let maybe = |t: &str| json!({"type": [t, "null"]});
    json!({"type": "object",
    "required": ["id", "event_id", "channel", "state", "attempts", "updated_at"],
    "properties": {
        "id": {"type": "integer"}, "event_id": {"type": "integer"},
        "channel": {"type": "string"},
        "state": {"enum": ["pending", "sent", "failed", "skipped", "coalesced"]},
        "attempts": {"type": "integer", "minimum": 0},
        "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
        "last_error": maybe("string"),
        "remote_id": maybe("string"),
        "updated_at": {"type": "string", "format": "date-time"},
        "title": {"type": ["string", "null"], "description": "The event's title"},
        "run_id": maybe("string"),
    }})
}

/// A watcher as every `/v1/watchers` route answers with it.
fn watcher_schema() -> Value {
    let maybe = |t: &str| json!({"type": [t, "null"]});
    let when = |what: &str| json!({"type": ["string", "null"], "format": "date-time", "description": what});
    json!({"type": "object",
    "required": ["id", "name", "kind", "origin", "state", "spec", "consecutive_failures",
                 "failing_reported", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "kind": {"type": "string", "description": "schedule, web, feed or threshold"},
        "origin": {"enum": ["api", "file"], "description": "file: from the config file's [watchers.NAME] (not deleted or edited here)"},
        "state": {"enum": ["active", "paused"]},
        "spec": {"type": "object", "description": "What it watches and sends, as created (URL passwords masked)"},
        "last_check_at": when("The last check's end"),
        "last_result": maybe("string"),
        "last_fired_at": when("The last check that sent something"),
        "last_error": maybe("string"),
        "consecutive_failures": {"type": "integer", "minimum": 0},
        "failing_reported": {"type": "boolean", "description": "The \"watcher failing\" notification went out and \"recovered\" has not yet"},
        "next_check_at": when("When it is checked next (null: not scheduled)"),
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    }})
}

/// What `POST /v1/watchers/{watcher}/run` found.
fn trial_schema() -> Value {
    json!({"type": "object",
    "required": ["watcher", "sent", "result", "notifications", "events"],
    "properties": {
        "watcher": {"$ref": "#/components/schemas/Watcher"},
        "sent": {"type": "boolean", "description": "The notifications went out (send=true)"},
        "result": {"type": "string"},
        "error": {"type": ["string", "null"]},
        "notifications": {"type": "array", "items": {"type": "object"}, "description": "What was (or would be) sent"},
        "events": {"type": "array", "items": {"type": "integer"}, "description": "The events written (send=true)"},
    }})
}

/// What `GET /v1/status` (and the MCP tool `hub_status`) answers.
fn status_schema() -> Value {
    let count = json!({"type": "integer", "minimum": 0});
    json!({"type": "object",
    "required": ["version", "started_at", "uptime_secs", "channels", "watchers", "outbox_depth", "events_24h", "last_errors"],
    "properties": {
        "version": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"},
        "uptime_secs": count.clone(),
        "channels": {"type": "array", "items": {"type": "string"}},
        "watchers": {"type": "object", "required": ["total", "active", "paused", "failing"], "properties": {
            "total": count.clone(), "active": count.clone(), "paused": count.clone(),
            "failing": {"type": "integer", "minimum": 0, "description": "Whose last check failed, paused or not"},
        }},
        "outbox_depth": {"type": "integer", "minimum": 0, "description": "Deliveries waiting: queued, held by quiet hours, or to be retried"},
        "events_24h": count,
        "last_errors": {"type": "array", "description": "Newest first: failed deliveries and failing watchers", "items": {
            "type": "object", "required": ["source", "error", "at"], "properties": {
                "source": {"enum": ["delivery", "watcher"]},
                "error": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
            }}},
    }})
}

/// One channel's counts in `/v1/deliveries/stats`.
fn channel_counts_schema() -> Value {
    let count = |what: &str| json!({"type": "integer", "minimum": 0, "description": what});
    json!({"type": "object",
    "required": ["channel", "sent", "retrying", "pending", "failed", "skipped", "coalesced"],
    "properties": {
        "channel": {"type": "string"},
        "sent": count("Sent"),
        "retrying": count("Pending after at least one attempt"),
        "pending": count("Pending, not tried yet"),
        "failed": count("Failed for good (a retry sends it again)"),
        "skipped": count("Not sent: routing said no"),
        "coalesced": count("Not sent: a newer update of the run replaced it"),
    }})
}

fn stats_schema() -> Value {
    json!({"type": "object", "required": ["window_secs", "since", "channels"], "properties": {
        "window_secs": {"type": "integer"},
        "since": {"type": "string", "format": "date-time"},
        "channels": {"type": "array", "items": {"$ref": "#/components/schemas/ChannelCounts"}},
    }})
}

/// The document, with `channels` (the configured channel names) as the
/// values the inputs' `channels` lists may hold.
pub fn document(channels: &[String]) -> Value {
    let wait = query(
        "wait",
        "Seconds to wait for the deliveries (0 to 30, default 30); 202 when some are still queued",
        json!({"type": "integer", "minimum": 0, "maximum": 30}),
    );
    let result = json!({"$ref": "#/components/schemas/DeliveryResult"});
    let watcher = json!({"$ref": "#/components/schemas/Watcher"});
    let watcher_param = json!({"name": "watcher", "in": "path", "required": true,
        "description": "The watcher's id (`12`) or name (`ai-news`)", "schema": {"type": "string"}});
    let not_found = error_response("No such watcher");
    let unavailable =
        error_response("Watchers could not start in this server (`unavailable`): its log says why");
    let ask = json!({"$ref": "#/components/schemas/Ask"});
    let ask_param = json!({"name": "ask_id", "in": "path", "required": true,
        "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX}});
    let ask_wait = query(
        "wait",
        "Seconds to wait for the answer (0 to 30, default 0)",
        json!({"type": "integer", "minimum": 0, "maximum": asks_wait_max()}),
    );
    let mut defs = serde_json::Map::new();
    let send_input = schema_of::<crate::notification::SendInput>(&mut defs);
    let event_input = schema_of::<crate::notification::EventInput>(&mut defs);
    let ask_input = schema_of::<crate::ops::asks::AskInput>(&mut defs);
    let post = |summary: &str, body: &str| {
        json!({
            "summary": summary,
            // The Idempotency-Key header is served too, but is left out: it must
            // equal the body's key when both are sent, which a schema cannot say.
            "description": "An `Idempotency-Key` header may carry the body's `idempotency_key` (send one, or the same value in both): a repeat returns the first result and sends nothing.",
            "parameters": [wait.clone()],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}},
            "responses": {
                "200": json_response("Delivered (or failed, or skipped): each channel's outcome", result.clone()),
                "202": json_response("Written to the outbox; some deliveries are still queued", result.clone()),
                "400": error_response("Invalid input: `field` names what to fix"),
                "409": error_response("No channel is configured"),
                "408": error_response("The body did not arrive in time (serve --body-timeout)"),
                "413": error_response("The body is larger than 256 KiB"),
                "503": error_response("The event store cannot take it (locked, damaged, or its file deleted or replaced): nothing was sent"),
            }
        })
    };
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mcp-push",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A notification hub for AI agents and scripts. Beyond loopback every route but /healthz needs `Authorization: Bearer <MCP_PUSH_TOKEN>` (the stream also takes `?token=`). Errors are {\"error\": {\"code\", \"message\", \"field\"?}}. MCP (streamable HTTP) is served at /mcp and the dashboard at /.",
        },
        "paths": {
            "/healthz": {"get": {"summary": "Liveness probe (never needs a token)",
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (text exposition 0.0.4)",
                "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/v1/openapi.json": {"get": {"summary": "This document",
                "responses": {"200": json_response("OpenAPI 3.1", json!({"type": "object"}))}}},
            "/v1/notify": {"post": post("Send a notification (the fields of the MCP tool notify_send)", "SendInput")},
            "/v1/events": {
                "post": post("Report a run event (the fields of the MCP tool notify_event)", "EventInput"),
                "get": {
                    "summary": "Events from the log, oldest first",
                    "parameters": [
                        query("since", "Only events with a larger id", json!({"type": "integer", "minimum": 0, "maximum": i64::MAX})),
                        query("run_id", "Only this run's events", json!({"type": "string"})),
                        query("kind", "Only this kind", json!({"enum": ["start", "update", "end", "error"]})),
                        query("watcher", "Only the events this watcher raised (its id)", json!({"type": "integer", "minimum": 1, "maximum": i64::MAX})),
                        query("limit", "At most this many (1 to 1000, default 100)", json!({"type": "integer", "minimum": 1, "maximum": 1000})),
                    ],
                    "responses": {
                        "200": json_response("The events", json!({"type": "object", "properties": {"events": {"type": "array", "items": {"type": "object"}}}})),
                        "400": error_response("Invalid query"),
                    }
                }
            },
            "/v1/runs": {"get": {
                "summary": "Runs, newest first",
                "parameters": [
                    query("status", "Only runs in this state", json!({"enum": ["running", "succeeded", "failed"]})),
                    query("limit", "At most this many (1 to 200, default 20)", json!({"type": "integer", "minimum": 1, "maximum": 200})),
                    query("offset", "Skip this many of the newest", json!({"type": "integer", "minimum": 0, "maximum": i64::MAX})),
                ],
                "responses": {
                    "200": json_response("The runs", json!({"type": "object", "properties": {"runs": {"type": "array", "items": {"type": "object"}}}})),
                    "400": error_response("Invalid query"),
                }
            }},
            "/v1/runs/{run_id}": {"get": {
                "summary": "One run with its timeline of events and each event's deliveries",
                "parameters": [{"name": "run_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                    "200": json_response("The run", json!({"type": "object", "properties": {"run": {"type": "object"}, "events": {"type": "array"}}})),
                    "400": error_response("The run id is not UTF-8 once percent-decoded"),
                    "404": error_response("No such run"),
                }
            }},
            "/v1/channels": {"get": {
                "summary": "Configured channels (secrets masked), plugins with their allowed hosts, and plugins available",
                "responses": {"200": json_response("The catalog", json!({"type": "object"}))}
            }},
            "/v1/deliveries": {"get": {
                "summary": "Deliveries (one event to one channel), newest first, each with its event's title and run",
                "parameters": [
                    query("state", "Only deliveries in this state", json!({"enum": ["failed", "pending", "sent"]})),
                    query("limit", "At most this many (1 to 500, default 50)", json!({"type": "integer", "minimum": 1, "maximum": 500})),
                ],
                "responses": {
                    "200": json_response("The deliveries", json!({"type": "object", "required": ["deliveries"], "properties": {"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}}}})),
                    "400": error_response("Invalid query"),
                }
            }},
            "/v1/deliveries/stats": {"get": {
                "summary": "Per channel, how many deliveries updated in the window are in each state (the dashboard's chart)",
                "parameters": [
                    query("window_secs", "The window, in seconds back from now (1 to 604800, default 3600)", json!({"type": "integer", "minimum": 1, "maximum": super::deliveries::MAX_WINDOW_SECS})),
                ],
                "responses": {
                    "200": json_response("Counts per channel", stats_schema()),
                    "400": error_response("Invalid query"),
                }
            }},
            "/v1/deliveries/{delivery_id}/retry": {"post": {
                "summary": "Send a failed delivery again with a fresh attempt budget (a pending one is made due now), as `mcp-push retry ID` does; the server's worker sends it and the stream reports the outcome",
                "parameters": [{"name": "delivery_id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX}}],
                "responses": {
                    "200": json_response("The delivery as it now stands (usually pending: the send follows)", json!({"$ref": "#/components/schemas/Delivery"})),
                    "400": error_response("The delivery id is not a positive whole number"),
                    "404": error_response("No such delivery"),
                    "409": error_response("Not retryable: sent, skipped or coalesced (`not_retryable`), or being sent right now (`in_flight`)"),
                }
            }},
            "/v1/watchers": {
                "get": {
                    "summary": "Every watcher, by id (the MCP tool watch_list)",
                    "responses": {
                        "200": json_response("The watchers", json!({"type": "object", "required": ["watchers"], "properties": {"watchers": {"type": "array", "items": watcher}}})),
                        "503": unavailable.clone(),
                    }
                },
                "post": {
                    "summary": "Create a watcher (the fields of the MCP tool watch_create): mcp-push then checks by itself and notifies when it matters",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WatcherInput"}}}},
                    "responses": {
                        "201": json_response("Created; a web page's or feed's first check (its baseline) runs at once", watcher.clone()),
                        "400": error_response("Invalid: `field` names what to fix (an unknown channel, a URL the watchers may not fetch, too many watchers, ...)"),
                        "413": error_response("The body is larger than 256 KiB"),
                        "503": unavailable.clone(),
                    }
                }
            },
            "/v1/watchers/{watcher}": {
                "get": {
                    "summary": "One watcher, by id or name",
                    "parameters": [watcher_param.clone()],
                    "responses": {"200": json_response("The watcher", watcher.clone()), "404": not_found.clone(), "503": unavailable.clone()}
                },
                "patch": {
                    "summary": "Change some fields (as POST takes them; null removes one): the watcher starts over with a new baseline; its name stays",
                    "parameters": [watcher_param.clone()],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "The fields to change"}}}},
                    "responses": {
                        "200": json_response("The watcher as changed", watcher.clone()),
                        "400": error_response("Invalid: `field` names what to fix; a watcher from the config file is edited there"),
                        "404": not_found.clone(),
                        "413": error_response("The body is larger than 256 KiB"),
                        "503": unavailable.clone(),
                    }
                },
                "delete": {
                    "summary": "Delete a watcher (its events stay in the log); answers with it as it was",
                    "parameters": [watcher_param.clone()],
                    "responses": {
                        "200": json_response("The watcher, deleted", watcher.clone()),
                        "400": error_response("A watcher from the config file is removed there"),
                        "404": not_found.clone(),
                        "503": unavailable.clone(),
                    }
                }
            },
            "/v1/watchers/{watcher}/pause": {"post": {
                "summary": "Stop checking until resumed; what it remembers is kept",
                "parameters": [watcher_param.clone()],
                "responses": {"200": json_response("The watcher, paused", watcher.clone()), "404": not_found.clone(), "503": unavailable.clone()}
            }},
            "/v1/watchers/{watcher}/resume": {"post": {
                "summary": "Check again: when due, or at once if a check came due while paused (a schedule waits for its next time)",
                "parameters": [watcher_param.clone()],
                "responses": {"200": json_response("The watcher, active", watcher.clone()), "404": not_found.clone(), "503": unavailable.clone()}
            }},
            "/v1/watchers/{watcher}/run": {"post": {
                "summary": "Check now and say what would be sent; with send=true, send it and record the check (the MCP tool watch_run)",
                "parameters": [watcher_param, query("send", "Send what the check finds (default false)", json!({"type": "boolean"}))],
                "responses": {
                    "200": json_response("What the check found", json!({"$ref": "#/components/schemas/Trial"})),
                    "400": error_response("Invalid query"),
                    "409": error_response("The watcher is being checked right now (`in_flight`): ask again in a moment"),
                    "404": not_found,
                    "503": unavailable.clone(),
                }
            }},
            "/v1/status": {"get": {
                "summary": "How the hub is doing (the MCP tool hub_status): uptime, version, channels, watchers by state, outbox depth, events in the last 24 h, last errors",
                "responses": {"200": json_response("The status", json!({"$ref": "#/components/schemas/Status"}))}
            }},
            "/v1/stream": {"get": {
                "summary": "Live stream (WebSocket): connection_ack, then event, delivery, tool_execution and plugin messages as JSON text frames (an event a watcher raised names it in `watcher`)",
                "parameters": [
                    {"name": "types", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "Comma-separated: event, delivery, tool_execution, plugin, ask, reply (default all)",
                     "schema": {"type": "array", "items": {"enum": super::stream::TYPES}}},
                    query("run_id", "Only messages about this run", json!({"type": "string"})),
                    query("since", "Replay the log's events after this id first, then go live (no gap, no duplicate)", json!({"type": "integer", "minimum": 0, "maximum": i64::MAX})),
                    query("token", "The bearer token, for clients that cannot set headers", json!({"type": "string"})),
                ],
                "responses": {
                    "101": {"description": "Switching to the WebSocket protocol"},
                    "400": error_response("Invalid query, or not a WebSocket request"),
                }
            }},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": ["invalid", "not_found", "too_large", "request_timeout", "no_channels", "store_error", "unauthorized", "method_not_allowed", "not_retryable", "in_flight", "unavailable"]},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                }
            }}},
            "DeliveryResult": {"type": "object", "properties": {
                "status": {"enum": ["success", "partial", "failed", "queued", "skipped"]},
                "event_id": {"type": "integer"}, "duplicate": {"type": "boolean"},
                "channels": {"type": "array", "items": {"type": "object"}},
                "run": {"type": "object"}, "run_id": {"type": "string"}, "reason": {"type": "string"},
            }},
            "Delivery": delivery_schema(),
            "ChannelCounts": channel_counts_schema(),
            "Watcher": watcher_schema(),
            "WatcherInput": crate::watch::model::input_schema(),
            "Trial": trial_schema(),
            "Status": status_schema(),
            "SendInput": send_input,
            "EventInput": event_input,
            "AskInput": ask_input,
            "Ask": ask_schema(),
        }},
    });
    if let (Some(paths), Value::Object(more)) = (
        doc["paths"].as_object_mut(),
        asks_paths(ask, ask_param, ask_wait),
    ) {
        paths.extend(more);
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in defs {
            schemas.entry(name).or_insert(schema);
        }
        state_limits(schemas, channels);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_document_names_exactly_the_routes_served() {
        let doc = document(&["webhook".to_string()]);
        let mut documented = BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let served: BTreeSet<(String, String)> = super::super::rest::ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(documented, served);
        // Every reference resolves.
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a reference outside the components: {target}"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{target} does not resolve"
            );
        }
        // And the router builds from that list (a route without a handler panics).
        let _ = super::super::rest::router();
    }
}
