//! `ask_user`, `ask_status` and `ask_cancel`: a question to the user on
//! their channels, and the wait for the answer. While `ask_user` waits it
//! sends progress notifications (when the client gave a progress token), so
//! clients that reset their timeout on progress keep the call open.

use super::tools::{failure, reading, refused, result, sending};
use crate::hub::Hub;
use crate::ops::asks::{self, AskInput, AskView};
use crate::store::{AskState, Source};
use rmcp::RoleServer;
use rmcp::model::{CallToolResult, JsonObject, ProgressNotificationParam, Tool, ToolAnnotations};
use rmcp::service::RequestContext;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::ops::names::{ASK_CANCEL, ASK_STATUS, ASK_USER};

/// How often a waiting `ask_user` tells the client it is still waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRefInput {
    /// The question's id, as ask_user returned it.
    pub ask_id: i64,
}

pub fn definitions(empty: Arc<JsonObject>) -> Vec<Tool> {
    vec![
        Tool::new(
            ASK_USER,
            "Ask the user a question on their notification channels and wait for the answer \
             (the first one wins). Use it when a decision needs a human: offer `choices` \
             where you can, and a `default` for when nobody answers within `timeout_secs` \
             (default 600). Returns status answered (with the answer, who gave it and on \
             which channel), timed_out (with the default, if any) or cancelled. With \
             wait=false it returns the ask_id at once; poll ask_status.",
            empty.clone(),
        )
        .with_input_schema::<AskInput>()
        .with_title("Ask the user")
        .with_annotations(asking()),
        Tool::new(
            ASK_STATUS,
            "Look at a question asked with ask_user: open, answered (with the answer), \
             timed_out (with the default) or cancelled.",
            empty.clone(),
        )
        .with_input_schema::<AskRefInput>()
        .with_title("Question status")
        .with_annotations(reading()),
        Tool::new(
            ASK_CANCEL,
            "Cancel an open question (no answer is taken after); a decided one is returned \
             as it is.",
            empty,
        )
        .with_input_schema::<AskRefInput>()
        .with_title("Cancel a question")
        .with_annotations(sending().open_world(false).idempotent(true)),
    ]
}

fn asking() -> ToolAnnotations {
    sending()
}

fn view(ask: &crate::store::Ask) -> CallToolResult {
    let v = AskView::of(ask);
    result(
        v.summary.clone(),
        serde_json::to_value(&v).unwrap_or(Value::Null),
        false,
    )
}

pub async fn ask_user(
    hub: &Arc<Hub>,
    args: JsonObject,
    context: &RequestContext<RoleServer>,
) -> CallToolResult {
    let input: AskInput = match crate::notification::InputError::parse(Value::Object(args)) {
        Ok(i) => i,
        Err(e) => return refused(&e.into()),
    };
    let asking = match asks::check(input, hub) {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let ask = match asks::ask(hub, &asking, Source::Mcp).await {
        Ok((a, _)) => a,
        Err(e) => return refused(&e),
    };
    if !asking.wait {
        return view(&ask);
    }
    let token = context.meta.get_progress_token();
    let started = Instant::now();
    // The first look says it at once: the question is out, the wait begun.
    let mut told: Option<Instant> = None;
    let total = asking.timeout.as_secs_f64();
    let peer = context.peer.clone();
    let waiting = asks::wait(hub, ask.id, |_| {
        if let Some(token) = &token
            && told.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY)
        {
            told = Some(Instant::now());
            let waited = started.elapsed().as_secs_f64();
            let note = ProgressNotificationParam::new(token.clone(), waited)
                .with_total(total)
                .with_message(format!(
                    "waiting for the user's answer to question {} ({}s of {}s)",
                    ask.id, waited as u64, total as u64
                ));
            let peer = peer.clone();
            tokio::spawn(async move {
                let _ = peer.notify_progress(note).await;
            });
        }
    });
    tokio::select! {
        done = waiting => match done {
            Ok(ask) => view(&ask),
            Err(e) => refused(&e),
        },
        // The client gave up on the call: the question stays open, for
        // ask_status (or an answer that still comes).
        _ = context.ct.cancelled() => failure(
            "cancelled",
            &format!("the call was cancelled; question {} stays open (ask_status, ask_cancel)", ask.id),
            None,
        ),
    }
}

fn ask_ref(args: JsonObject) -> Result<crate::model::AskId, crate::ops::OpError> {
    let input: AskRefInput = crate::notification::InputError::parse(Value::Object(args))?;
    asks::parse_id(&input.ask_id.to_string())
}

pub async fn ask_status(hub: &Arc<Hub>, args: JsonObject) -> CallToolResult {
    let id = match ask_ref(args) {
        Ok(id) => id,
        Err(e) => return refused(&e),
    };
    match asks::status(hub, id).await {
        Ok(ask) => view(&ask),
        Err(e) => refused(&e),
    }
}

pub async fn ask_cancel(hub: &Arc<Hub>, args: JsonObject) -> CallToolResult {
    let id = match ask_ref(args) {
        Ok(id) => id,
        Err(e) => return refused(&e),
    };
    match asks::close(hub, id, AskState::Cancelled).await {
        Ok(ask) => view(&ask),
        Err(e) => refused(&e),
    }
}
