//! The REST API under `/v1`: the operations ([`crate::ops`]) over HTTP, with
//! the MCP tools' inputs and results as JSON, and reads of the log. Every route is listed once, in [`ROUTES`]: the
//! router is built from that list and the OpenAPI document must describe
//! exactly it (a test checks both ways).

use super::error::ApiError;
use super::{AppState, asks, dashboard, deliveries, metrics, openapi, stream, watchers};
use crate::catalog::Catalog;
use crate::hub::Overall;
use crate::notification::{EventKind, RunId};
use crate::ops::{self, OpError};
use crate::redact::redact_json;
use crate::store::{EventId, EventQuery, RunStatus, Source, WatcherId};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Larger request bodies are refused with 413.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Every route but `/mcp` and the dashboard's static files: (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/notify"),
    ("post", "/v1/events"),
    ("get", "/v1/events"),
    ("get", "/v1/runs"),
    ("get", "/v1/runs/{run_id}"),
    ("get", "/v1/channels"),
    ("get", "/v1/deliveries"),
    ("get", "/v1/deliveries/stats"),
    ("post", "/v1/deliveries/{delivery_id}/retry"),
    ("get", "/v1/watchers"),
    ("post", "/v1/watchers"),
    ("get", "/v1/watchers/{watcher}"),
    ("patch", "/v1/watchers/{watcher}"),
    ("delete", "/v1/watchers/{watcher}"),
    ("post", "/v1/watchers/{watcher}/pause"),
    ("post", "/v1/watchers/{watcher}/resume"),
    ("post", "/v1/watchers/{watcher}/run"),
    ("get", "/v1/status"),
    ("get", "/v1/stream"),
    ("post", "/v1/asks"),
    ("get", "/v1/asks"),
    ("get", "/v1/asks/{ask_id}"),
    ("post", "/v1/asks/{ask_id}/cancel"),
    ("get", "/v1/asks/{ask_id}/answer"),
    ("post", "/v1/asks/{ask_id}/answer"),
];

fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("get", "/healthz") => get(|| async { "ok\n" }),
        ("get", "/metrics") => get(metrics::handler),
        ("get", "/v1/openapi.json") => get(|State(state): State<AppState>| async move {
            let names: Vec<String> = state
                .app()
                .loaded()
                .config
                .channels
                .iter()
                .map(|c| c.id.as_str().to_string())
                .collect();
            axum::Json(openapi::document(&names))
        }),
        ("post", "/v1/notify") => post(post_notify),
        ("post", "/v1/events") => post(post_event),
        ("get", "/v1/events") => get(list_events),
        ("get", "/v1/runs") => get(list_runs),
        ("get", "/v1/runs/{run_id}") => get(get_run),
        ("get", "/v1/channels") => get(channels),
        ("get", "/v1/deliveries") => get(deliveries::list),
        ("get", "/v1/deliveries/stats") => get(deliveries::stats),
        ("post", "/v1/deliveries/{delivery_id}/retry") => post(deliveries::retry),
        ("get", "/v1/watchers") => get(watchers::list),
        ("post", "/v1/watchers") => post(watchers::create),
        ("get", "/v1/watchers/{watcher}") => get(watchers::get),
        ("patch", "/v1/watchers/{watcher}") => patch(watchers::update),
        ("delete", "/v1/watchers/{watcher}") => delete(watchers::delete),
        ("post", "/v1/watchers/{watcher}/pause") => post(watchers::pause),
        ("post", "/v1/watchers/{watcher}/resume") => post(watchers::resume),
        ("post", "/v1/watchers/{watcher}/run") => post(watchers::run),
        ("get", "/v1/status") => get(watchers::hub_status),
        ("get", "/v1/stream") => get(stream::handler),
        ("post", "/v1/asks") => post(asks::create),
        ("get", "/v1/asks") => get(asks::list),
        ("get", "/v1/asks/{ask_id}") => get(asks::get),
        ("post", "/v1/asks/{ask_id}/cancel") => post(asks::cancel),
        ("get", "/v1/asks/{ask_id}/answer") => get(asks::page_get),
        ("post", "/v1/asks/{ask_id}/answer") => post(asks::answer),
        _ => panic!("ROUTES lists {method} {path} but no handler serves it"),
    }
}

/// The routes of [`ROUTES`], the dashboard, and the JSON 404 and 405.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (method, path) in ROUTES {
        router = router.route(path, handler(method, path));
    }
    dashboard::routes(router)
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::not_found(format!(
                "no route {}: /v1/openapi.json lists the API's routes",
                uri.path()
            ))
        })
        .method_not_allowed_fallback(
            |method: axum::http::Method, uri: axum::http::Uri| async move {
                ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    format!(
                        "{method} is not served at {}: /v1/openapi.json lists each route's methods",
                        uri.path()
                    ),
                )
            },
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Query parameters, refusing any the route does not know.
pub(super) fn params(
    q: HashMap<String, String>,
    known: &[&str],
) -> Result<HashMap<String, String>, ApiError> {
    if let Some(k) = q.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            k,
            format!(
                "unknown query parameter `{k}` (this route takes: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    Ok(q)
}

pub(super) fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    q: &HashMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<Option<T>, ApiError> {
    let Some(raw) = q.get(name) else {
        return Ok(None);
    };
    match raw.trim().parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::invalid(
            name,
            format!(
                "`{name}` must be a whole number from {} to {} (got {raw:?})",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The JSON object of a POST body, with an `Idempotency-Key` header folded in.
fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let mut map = object_body(body)?;
    if let Some(h) = headers.get("idempotency-key") {
        let key = h.to_str().map_err(|_| {
            ApiError::invalid(
                "Idempotency-Key",
                "the Idempotency-Key header must be printable ASCII",
            )
        })?;
        match map.get("idempotency_key") {
            Some(Value::String(b)) if b != key => {
                return Err(ApiError::invalid(
                    "idempotency_key",
                    "the Idempotency-Key header and the body's idempotency_key differ: send one, \
                     or the same value in both",
                ));
            }
            _ => {
                map.insert("idempotency_key".into(), json!(key));
            }
        }
    }
    Ok(map)
}

/// The JSON object a request's body holds.
pub(super) fn object_body(
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "the request body is larger than {} KiB: shorten `content` (a notification \
                     should be a short message; link to anything long)",
                    BODY_LIMIT / 1024
                ),
            )
        } else {
            ApiError::invalid("", format!("cannot read the request body: {e}"))
        }
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid(
            "",
            format!(
                "the body is not valid JSON ({e}): send a JSON object with \
                 `Content-Type: application/json`"
            ),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(ApiError::invalid(
            "",
            "the body must be a JSON object, e.g. {\"title\": \"...\", \"content\": \"...\"}",
        ));
    };
    Ok(map)
}

/// `?wait=SECONDS` (0 to 30, default 30): how long to wait for the deliveries.
fn wait(q: HashMap<String, String>) -> Result<Duration, ApiError> {
    let q = params(q, &["wait"])?;
    Ok(number::<u64>(&q, "wait", 0..=ops::send::WAIT.as_secs())?
        .map(Duration::from_secs)
        .unwrap_or(ops::send::WAIT))
}

/// A send as an HTTP answer: the outcome as JSON (the MCP tools' structured
/// result) with 200, or 202 while deliveries are still queued; a refusal in
/// the error shape.
fn answer(sent: Result<ops::send::Sent, OpError>, config_file: &str) -> Response {
    let e = match sent {
        Ok(sent) => {
            let status = match sent.overall {
                Overall::Queued => StatusCode::ACCEPTED,
                _ => StatusCode::OK,
            };
            let body = redact_json(serde_json::to_value(&sent).unwrap_or(Value::Null));
            return (status, axum::Json(body)).into_response();
        }
        Err(e) => e,
    };
    let message = ops::send::refusal(&e, config_file);
    ApiError::from_op(e, message).into_response()
}

/// Which tool a POST stands for.
#[derive(Clone, Copy)]
enum Post {
    Notify,
    Event,
}

async fn post_tool(
    state: AppState,
    q: HashMap<String, String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    tool: Post,
) -> Result<Response, ApiError> {
    let wait = wait(q)?;
    let args = json_body(&headers, body)?;
    let args = Value::Object(args);
    let sub = match tool {
        Post::Notify => ops::send::send_submission(args, Source::Http),
        Post::Event => ops::send::event_submission(args, Source::Http),
    };
    let sent = match sub {
        Ok(sub) => ops::send::send(state.hub(), sub, wait).await,
        Err(e) => Err(e.into()),
    };
    Ok(answer(sent, &state.app().config_file_hint()))
}

async fn post_notify(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_tool(state, q, headers, body, Post::Notify).await
}

async fn post_event(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_tool(state, q, headers, body, Post::Event).await
}

async fn list_events(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let q = params(q, &["since", "run_id", "kind", "watcher", "limit"])?;
    let since = number::<i64>(&q, "since", 0..=i64::MAX)?.map(EventId);
    let limit = number::<usize>(&q, "limit", 1..=1000)?.unwrap_or(100);
    let kind = match q.get("kind") {
        None => None,
        Some(k) => Some(serde_json::from_value::<EventKind>(json!(k)).map_err(|_| {
            ApiError::invalid(
                "kind",
                format!("`kind` is one of start, update, end, error (got {k:?})"),
            )
        })?),
    };
    let query = EventQuery {
        since,
        run_id: q.get("run_id").map(|r| RunId(r.clone())),
        kind,
        watcher: number::<i64>(&q, "watcher", 1..=i64::MAX)?.map(WatcherId),
        limit,
    };
    let events = ops::events::list(state.hub().store(), query)
        .await
        .map_err(ApiError::store)?;
    Ok(axum::Json(redact_json(json!({ "events": events }))).into_response())
}

async fn list_runs(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let q = params(q, &["status", "limit", "offset"])?;
    let limit = number::<usize>(&q, "limit", 1..=200)?.unwrap_or(20);
    let offset = number::<usize>(&q, "offset", 0..=i64::MAX as usize)?.unwrap_or(0);
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!("`status` is one of running, succeeded, failed (got {s:?})"),
            )
        })?),
    };
    let runs = ops::runs::list(state.hub().store(), status, limit, offset)
        .await
        .map_err(ApiError::store)?;
    Ok(axum::Json(redact_json(json!({ "runs": runs }))).into_response())
}

async fn get_run(
    State(state): State<AppState>,
    run_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(run_id) = run_id.map_err(|e| {
        ApiError::invalid(
            "run_id",
            format!("the run id in the path cannot be read ({e}): percent-encode it as UTF-8"),
        )
    })?;
    match ops::runs::detail(
        state.hub().store(),
        RunId(run_id.clone()),
        ops::runs::TIMELINE,
    )
    .await
    {
        Ok(detail) => Ok(axum::Json(redact_json(
            serde_json::to_value(&detail).unwrap_or(Value::Null),
        ))
        .into_response()),
        Err(OpError::NoSuchRun(_)) => Err(ApiError::not_found(format!(
            "no run {run_id:?}: GET /v1/runs lists the runs"
        ))),
        Err(e) => Err(ApiError::store(e)),
    }
}

async fn channels(State(state): State<AppState>) -> Response {
    let catalog = Catalog::of(state.app());
    axum::Json(redact_json(
        serde_json::to_value(&catalog).unwrap_or(Value::Null),
    ))
    .into_response()
}
