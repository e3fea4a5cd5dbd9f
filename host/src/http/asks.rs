//! `/v1/asks`: questions asked of the user over HTTP, and the reply page.
//!
//! The API (`POST /v1/asks`, `GET /v1/asks/{id}`, `.../cancel`, a JSON
//! `POST .../answer`) is behind the bearer token like the rest of `/v1`.
//! The reply page, `GET /v1/asks/{id}/answer?channel=…&token=…`, is what a
//! question's link opens: the token, made for that question and channel,
//! is the person's only credential, so the page and its form need no
//! account. Opening the page never answers (chat apps fetch links to
//! preview them); only its form's POST does. A wrong token is refused and
//! logged, without the token.

use super::AppState;
use super::error::ApiError;
use super::rest::{number, object_body, params};
use crate::html::escape;
use crate::hub::reply_link;
use crate::model::AskId;
use crate::notification::ChannelId;
use crate::ops::OpError;
use crate::ops::asks::{self, AskInput, AskView, Reply};
use crate::redact::redact_json;
use crate::store::{Answering, Ask, AskState, Source};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// How long `?wait=` may hold a request.
pub const MAX_WAIT_SECS: u64 = 30;

/// Set by the bearer check on a reply path it let through without a token:
/// only a reply token can answer then.
#[derive(Debug, Clone, Copy)]
pub struct WithoutBearer;

/// Whether `path` is a reply page (`/v1/asks/{id}/answer`), which the
/// bearer check lets through to be checked by its reply token.
pub fn is_reply_path(path: &str) -> bool {
    path.strip_prefix("/v1/asks/")
        .and_then(|rest| rest.strip_suffix("/answer"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn refused(e: OpError) -> ApiError {
    let message = match &e {
        OpError::NoSuchAsk(_) => format!("{e}: GET /v1/asks lists the open ones"),
        other => other.to_string(),
    };
    ApiError::from_op(e, message)
}

fn ask_id(p: Result<Path<String>, PathRejection>) -> Result<AskId, ApiError> {
    let raw = p.map(|Path(s)| s).unwrap_or_default();
    asks::parse_id(&raw).map_err(|e| {
        ApiError::from_op(
            e,
            format!("{raw:?} is not a question's id: ask ids are positive whole numbers"),
        )
    })
}

fn view(status: StatusCode, ask: &Ask) -> Response {
    let body = redact_json(serde_json::to_value(AskView::of(ask)).unwrap_or(Value::Null));
    (status, axum::Json(body)).into_response()
}

/// Wait up to `secs` for the question to be decided.
async fn waited(state: &AppState, ask: Ask, secs: u64) -> Result<Ask, ApiError> {
    if secs == 0 || ask.state != AskState::Open {
        return Ok(ask);
    }
    let id = ask.id;
    match tokio::time::timeout(
        Duration::from_secs(secs),
        asks::wait(state.hub(), id, |_| {}),
    )
    .await
    {
        Ok(r) => r.map_err(refused),
        Err(_) => asks::status(state.hub(), id).await.map_err(refused),
    }
}

/// `POST /v1/asks?wait=SECONDS`: ask; 201 with the question (still open),
/// or 200 when it was decided within `wait`.
pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let q = params(q, &["wait"])?;
    let wait = number(&q, "wait", 0..=MAX_WAIT_SECS)?.unwrap_or(0);
    let body = object_body(body)?;
    let input: AskInput = crate::notification::InputError::parse(Value::Object(body))
        .map_err(|e| refused(e.into()))?;
    let asking = asks::check(input, state.hub()).map_err(refused)?;
    let (ask, _) = asks::ask(state.hub(), &asking, Source::Http)
        .await
        .map_err(refused)?;
    let ask = waited(&state, ask, wait).await?;
    let status = if ask.state == AskState::Open {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(view(status, &ask))
}

/// `GET /v1/asks`: the open questions, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    params(q, &[])?;
    let store = state.hub().store().clone();
    let open = crate::hub::blocking(move || store.open_asks(100))
        .await
        .map_err(|e| refused(OpError::Store(e)))?;
    let now = state.hub().clock().now();
    let views: Vec<AskView> = open
        .iter()
        .filter(|a| a.deadline > now)
        .map(AskView::of)
        .collect();
    let body = redact_json(json!({ "asks": views }));
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// `GET /v1/asks/{ask_id}?wait=SECONDS`: the question as it stands, after
/// waiting up to `wait` for it to be decided.
pub async fn get(
    State(state): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = ask_id(p)?;
    let q = params(q, &["wait"])?;
    let wait = number(&q, "wait", 0..=MAX_WAIT_SECS)?.unwrap_or(0);
    let ask = asks::status(state.hub(), id).await.map_err(refused)?;
    let ask = waited(&state, ask, wait).await?;
    Ok(view(StatusCode::OK, &ask))
}

/// `POST /v1/asks/{ask_id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = ask_id(p)?;
    params(q, &[])?;
    let ask = asks::close(state.hub(), id, AskState::Cancelled)
        .await
        .map_err(refused)?;
    Ok(view(StatusCode::OK, &ask))
}

/// The reply page's parameters, from the query (GET) or the form (POST).
struct Presented {
    channel: Option<ChannelId>,
    token: String,
}

fn presented(fields: &HashMap<String, String>) -> Option<Presented> {
    let token = fields.get("token")?.clone();
    Some(Presented {
        channel: fields.get("channel").and_then(|c| ChannelId::new(c).ok()),
        token,
    })
}

/// Whether the token answers `id` for its channel (and that channel was
/// asked); a refusal is logged without the token.
async fn admitted(state: &AppState, ask: &Ask, p: &Presented) -> bool {
    let ok = match (&p.channel, state.hub().reply_key().await) {
        (Some(ch), Ok(key)) => {
            ask.question.channels.contains(ch) && reply_link::verify(&key, ask.id, ch, &p.token)
        }
        _ => false,
    };
    if !ok {
        tracing::warn!(
            "a reply to question {} was refused: its link is not one sent for channel {}",
            ask.id,
            p.channel
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "(none)".into())
        );
    }
    ok
}

fn page(status: StatusCode, title: &str, inner: String) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;\
         margin:2rem auto;padding:0 1rem}}button{{font-size:1.1rem;margin:.3rem .3rem 0 0;\
         padding:.5rem 1.2rem}}textarea{{width:100%;min-height:6rem}}.q{{white-space:pre-wrap;\
         font-size:1.2rem}}</style></head><body><main>{inner}</main></body></html>\n",
        title = escape(title)
    );
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            // The token is in the address: never send it on.
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                 frame-ancestors 'none'",
            ),
        ],
        Html(html),
    )
        .into_response()
}

fn not_yours(id: AskId) -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Not your question",
        format!(
            "<h1>This link does not answer question {id}</h1><p>Open the link from the \
             message you received, as it is.</p>"
        ),
    )
}

fn closed(ask: &Ask, heading: &str) -> String {
    let v = AskView::of(ask);
    format!(
        "<h1>{}</h1><p class=\"q\">{}</p><p>{}</p>",
        escape(heading),
        escape(&v.question),
        escape(&v.summary)
    )
}

/// `GET /v1/asks/{ask_id}/answer?channel=…&token=…`: the reply page.
pub async fn page_get(
    State(state): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(id) = ask_id(p) else {
        return page(
            StatusCode::NOT_FOUND,
            "No such question",
            "<h1>No such question</h1>".into(),
        );
    };
    let Some(presented) = presented(&q) else {
        return not_yours(id);
    };
    let ask = match asks::status(state.hub(), id).await {
        Ok(a) => a,
        Err(_) => return not_yours(id),
    };
    if !admitted(&state, &ask, &presented).await {
        return not_yours(id);
    }
    if ask.state != AskState::Open {
        return page(
            StatusCode::OK,
            "Question closed",
            closed(&ask, "This question is closed"),
        );
    }
    let channel = presented
        .channel
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    let hidden = format!(
        "<input type=\"hidden\" name=\"channel\" value=\"{}\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">",
        escape(&channel),
        escape(&presented.token)
    );
    let inputs = if ask.question.choices.is_empty() {
        "<p><textarea name=\"answer\" required maxlength=\"2000\"></textarea></p>\
         <p><button type=\"submit\">Send the answer</button></p>"
            .to_string()
    } else {
        ask.question
            .choices
            .iter()
            .map(|c| {
                format!(
                    "<button type=\"submit\" name=\"answer\" value=\"{0}\">{0}</button>",
                    escape(c)
                )
            })
            .collect()
    };
    page(
        StatusCode::OK,
        "Question",
        format!(
            "<h1>Question {id}</h1><p class=\"q\">{}</p>\
             <form method=\"post\" action=\"/v1/asks/{id}/answer\">{hidden}{inputs}</form>\
             <p><small>Open until {}.</small></p>",
            escape(&ask.question.question),
            escape(&ask.deadline.to_rfc3339()),
        ),
    )
}

/// `POST /v1/asks/{ask_id}/answer`: the reply page's form (with its
/// token), or the API (JSON `{"answer": …, "by": …}` with the bearer token).
/// A form posted to the reply link itself (`?channel=…&token=…`, as an
/// ntfy `http` action button does with the body `answer=…`) takes the
/// link's channel and token for those the form leaves out.
pub async fn answer(
    State(state): State<AppState>,
    p: Result<Path<String>, PathRejection>,
    Query(link): Query<HashMap<String, String>>,
    without_bearer: Option<Extension<WithoutBearer>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = ask_id(p)?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        let bytes = body.map_err(|e| ApiError::invalid("", e.body_text()))?;
        let mut fields: HashMap<String, String> =
            form_urlencoded::parse(&bytes).into_owned().collect();
        for key in ["channel", "token"] {
            if let (false, Some(v)) = (fields.contains_key(key), link.get(key)) {
                fields.insert(key.to_string(), v.clone());
            }
        }
        return Ok(form_answer(&state, id, &fields).await);
    }
    if without_bearer.is_some() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token: send `Authorization: Bearer <MCP_PUSH_TOKEN>`, or \
             answer through the question's reply link",
        ));
    }
    let body = object_body(body)?;
    let text = match body.get("answer") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(ApiError::invalid(
                "answer",
                "`answer` (a string) is required",
            ));
        }
    };
    if let Some(k) = body
        .keys()
        .find(|k| !["answer", "by"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            k,
            format!("unknown field `{k}` (this route takes: answer, by)"),
        ));
    }
    let by = match body.get("by") {
        None | Some(Value::Null) => "api".to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 100 => {
            s.trim().to_string()
        }
        Some(_) => return Err(ApiError::invalid("by", "`by` must be 1 to 100 characters")),
    };
    let reply = Reply {
        text,
        by,
        channel: None,
    };
    let (answering, _) = asks::answer(state.hub(), id, reply)
        .await
        .map_err(refused)?;
    Ok(match answering {
        Answering::Accepted(a) => view(StatusCode::OK, &a),
        Answering::Late(a) => {
            let mut r = view(StatusCode::CONFLICT, &a);
            r.headers_mut()
                .insert("x-answer", header::HeaderValue::from_static("late"));
            r
        }
    })
}

async fn form_answer(state: &AppState, id: AskId, fields: &HashMap<String, String>) -> Response {
    let Some(presented) = presented(fields) else {
        return not_yours(id);
    };
    let Ok(ask) = asks::status(state.hub(), id).await else {
        return not_yours(id);
    };
    if !admitted(state, &ask, &presented).await {
        return not_yours(id);
    }
    let text = fields.get("answer").cloned().unwrap_or_default();
    let reply = Reply {
        text,
        by: "reply link".into(),
        channel: presented.channel.clone(),
    };
    match asks::answer(state.hub(), id, reply).await.map(|(a, _)| a) {
        Ok(Answering::Accepted(a)) => page(StatusCode::OK, "Thank you", closed(&a, "Thank you")),
        Ok(Answering::Late(a)) => page(
            StatusCode::CONFLICT,
            "Already decided",
            closed(&a, "Your answer came too late; it was recorded"),
        ),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            "Not an answer",
            format!(
                "<h1>That is not an answer</h1><p>{}</p><p>Go back and try again.</p>",
                escape(&e.to_string())
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answer_pages_pass_the_bearer_check() {
        assert!(is_reply_path("/v1/asks/12/answer"));
        for p in [
            "/v1/asks/12",
            "/v1/asks//answer",
            "/v1/asks/x/answer",
            "/v1/asks/1/answer/x",
            "/v1/asks/1/cancel",
            "/v1/asks/../notify/answer",
        ] {
            assert!(!is_reply_path(p), "{p}");
        }
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
