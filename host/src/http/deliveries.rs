//! `/v1/deliveries`: the outbox as the dashboard shows it (recent deliveries
//! with their event's title, counts per channel for the chart) and the retry
//! button (what `mcp-push retry ID` does, sent by the server's own worker).

use super::AppState;
use super::error::ApiError;
use super::rest::{number, params};
use crate::ops::{self, OpError};
use crate::redact::redact_json;
use crate::store::{DeliveryId, DeliveryState, UnixMillis};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The longest window the stats take: a week (older rows are history, not health).
pub const MAX_WINDOW_SECS: u64 = 7 * 24 * 3600;

/// `GET /v1/deliveries?state=&limit=`: newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let q = params(q, &["state", "limit"])?;
    let limit = number::<usize>(&q, "limit", 1..=500)?.unwrap_or(50);
    let wanted = match q.get("state") {
        None => None,
        Some(s) => Some(
            DeliveryState::parse(s)
                .filter(|s| {
                    matches!(
                        s,
                        DeliveryState::Failed | DeliveryState::Pending | DeliveryState::Sent
                    )
                })
                .ok_or_else(|| {
                    ApiError::invalid(
                        "state",
                        format!("`state` is one of failed, pending, sent (got {s:?})"),
                    )
                })?,
        ),
    };
    let rows = ops::deliveries::recent_with_events(state.hub().store(), wanted, limit)
        .await
        .map_err(ApiError::store)?;
    Ok(axum::Json(redact_json(json!({ "deliveries": rows }))).into_response())
}

/// `GET /v1/deliveries/stats?window_secs=`: per channel, deliveries by state
/// among those updated in the last `window_secs` (default an hour).
pub async fn stats(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let q = params(q, &["window_secs"])?;
    let window = number::<u64>(&q, "window_secs", 1..=MAX_WINDOW_SECS)?.unwrap_or(3600);
    let now = state.hub().clock().now();
    let since = UnixMillis(now.0 - (window as i64) * 1000);
    let channels = ops::deliveries::stats(state.hub().store(), since)
        .await
        .map_err(refused)?;
    Ok(axum::Json(redact_json(json!({
        "window_secs": window,
        "since": since,
        "channels": channels,
    })))
    .into_response())
}

/// Why an operation on deliveries was refused, as an answer: 404 unknown,
/// 409 not retryable now, 500 the store.
fn refused(e: OpError) -> ApiError {
    match e {
        OpError::NoSuchDelivery(id) => {
            ApiError::not_found(format!("no delivery {id}: GET /v1/deliveries lists them"))
        }
        OpError::Store(e) => ApiError::store(e),
        other => {
            let message = other.to_string();
            ApiError::from_op(other, message)
        }
    }
}

/// `POST /v1/deliveries/{delivery_id}/retry`: a failed delivery gets a fresh
/// attempt budget (a pending one is made due now) and the server's worker,
/// woken, sends it. Answers with the delivery as it stands (usually
/// `pending`: the send follows; the stream reports its outcome).
pub async fn retry(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = delivery_id(id)?;
    let hub = state.hub();
    let row = ops::deliveries::retry(hub.store(), id, hub.clock().now())
        .await
        .map_err(refused)?;
    // The worker claims every due delivery; it need not wait for its next look.
    hub.wake();
    let row = serde_json::to_value(&row).unwrap_or(Value::Null);
    Ok(axum::Json(redact_json(row)).into_response())
}

fn delivery_id(id: Result<Path<String>, PathRejection>) -> Result<DeliveryId, ApiError> {
    let raw = id.map(|Path(p)| p).unwrap_or_default();
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(DeliveryId)
        .ok_or_else(|| {
            ApiError::invalid(
                "delivery_id",
                format!(
                    "the delivery id in the path must be a positive whole number (got {raw:?}): \
                     GET /v1/deliveries lists them"
                ),
            )
        })
}
