//! `/v1/watchers` and `/v1/status`: the watch tools and `hub_status` over
//! HTTP. A watcher in a path is its id (`12`) or its name (`ai-news`); the
//! bodies are what the MCP tools take, and the answers what they return as
//! structured content.

use super::AppState;
use super::error::ApiError;
use super::rest::{object_body, params};
use crate::ops::watchers::{self as ops, WatcherRef};
use crate::ops::{OpError, status};
use crate::redact::redact_json;
use crate::store::WatcherOrigin;
use crate::watch::Runner;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Why watchers cannot be managed by this server, and what to do.
pub const WATCHERS_OFF: &str = "watchers are off in this mcp-push server: they could not \
start (its log says why, e.g. the HTTP client's TLS setup failed). Fix that and restart \
`mcp-push serve`";

fn runner(state: &AppState) -> Result<&Arc<Runner>, ApiError> {
    state
        .watchers
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", WATCHERS_OFF))
}

/// An operation's refusal as an answer, with where to look for a watcher
/// that is not there.
fn refused(e: OpError) -> ApiError {
    let message = match &e {
        OpError::NoSuchWatcher(_) => format!("{e}: GET /v1/watchers lists them"),
        other => other.to_string(),
    };
    ApiError::from_op(e, message)
}

fn answer(status: StatusCode, value: &impl Serialize) -> Response {
    let body = redact_json(serde_json::to_value(value).unwrap_or(Value::Null));
    (status, axum::Json(body)).into_response()
}

fn watcher_ref(p: Result<Path<String>, PathRejection>) -> Result<WatcherRef, ApiError> {
    let Path(raw) = p.map_err(|e| {
        ApiError::invalid(
            "watcher",
            format!(
                "the watcher in the path cannot be read ({e}): give its id or its name, \
                 percent-encoded as UTF-8"
            ),
        )
    })?;
    Ok(WatcherRef::parse(&raw))
}

/// `GET /v1/watchers`: every watcher, by id.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    params(q, &[])?;
    let all = ops::list(runner(&state)?).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &json!({ "watchers": all })))
}

/// `POST /v1/watchers`: what `watch_create` takes; 201 with the watcher.
pub async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let spec = Value::Object(object_body(body)?);
    let w = ops::create(runner(&state)?, spec, WatcherOrigin::Api)
        .await
        .map_err(refused)?;
    Ok(answer(StatusCode::CREATED, &w))
}

/// `GET /v1/watchers/{watcher}`.
pub async fn get(
    State(state): State<AppState>,
    watcher: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let r = watcher_ref(watcher)?;
    let w = ops::get(runner(&state)?, &r).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &w))
}

/// `PATCH /v1/watchers/{watcher}`: the fields to change (`null` removes
/// one); the watcher starts over with a new baseline.
pub async fn update(
    State(state): State<AppState>,
    watcher: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let r = watcher_ref(watcher)?;
    let patch = Value::Object(object_body(body)?);
    let w = ops::update(runner(&state)?, &r, patch)
        .await
        .map_err(refused)?;
    Ok(answer(StatusCode::OK, &w))
}

/// `DELETE /v1/watchers/{watcher}`: the watcher as it was (its events stay).
pub async fn delete(
    State(state): State<AppState>,
    watcher: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let r = watcher_ref(watcher)?;
    let w = ops::delete(runner(&state)?, &r).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &w))
}

/// `POST /v1/watchers/{watcher}/pause`.
pub async fn pause(
    State(state): State<AppState>,
    watcher: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let r = watcher_ref(watcher)?;
    let w = ops::pause(runner(&state)?, &r).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &w))
}

/// `POST /v1/watchers/{watcher}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    watcher: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let r = watcher_ref(watcher)?;
    let w = ops::resume(runner(&state)?, &r).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &w))
}

/// `POST /v1/watchers/{watcher}/run?send=`: check now; without
/// `send=true`, say what would be sent and change nothing.
pub async fn run(
    State(state): State<AppState>,
    watcher: Result<Path<String>, PathRejection>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let q = params(q, &["send"])?;
    let send = match q.get("send").map(|s| s.trim()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "send",
                format!("`send` is true or false (got {other:?})"),
            ));
        }
    };
    let r = watcher_ref(watcher)?;
    let trial = ops::run(runner(&state)?, &r, send).await.map_err(refused)?;
    Ok(answer(StatusCode::OK, &trial))
}

/// `GET /v1/status`: what `hub_status` answers.
pub async fn hub_status(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    params(q, &[])?;
    let s = status::hub_status(state.hub(), state.started_at)
        .await
        .map_err(refused)?;
    Ok(answer(StatusCode::OK, &s))
}
