//! `/v1/stream`: the live stream over a WebSocket. First a `connection_ack`;
//! with `since=ID` the log's later events are replayed; then every live
//! message (`event`, `delivery`, `tool_execution`, `plugin`, `ask`, `reply`) that passes the
//! filters. A client that falls behind is closed with a reason, never waited
//! for: the hub's broadcast does not block, and each client has a bounded queue.
//!
//! Events go out in id order, each once, so `since=` the last id a client
//! saw is a cursor it can trust. Live events can arrive out of order (with
//! several hubs on one database, another hub's news comes later than this
//! hub's own); a live event past a gap first sends the gap's events from the
//! log, where they all are by then (a later id commits after them).

use super::AppState;
use super::error::ApiError;
use super::peer::Peer;
use crate::hub::Live;
use crate::notification::RunId;
use crate::redact::redact_json;
use crate::store::{EventId, EventQuery, StoredEvent, UnixMillis};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Messages a client may have waiting to be written before it is dropped.
pub const CLIENT_QUEUE: usize = 256;
/// The server pings this often; a client silent for three times as long is dropped.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a dropped client's writer may take to send its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(10);
/// Events read from the log per page while replaying.
const REPLAY_PAGE: usize = 500;

pub(super) const TYPES: [&str; 6] = [
    "event",
    "delivery",
    "tool_execution",
    "plugin",
    "ask",
    "reply",
];

/// Close codes (RFC 6455).
const GOING_AWAY: u16 = 1001;
const POLICY: u16 = 1008;

#[derive(Debug, Clone)]
struct Filter {
    types: Vec<String>,
    run_id: Option<RunId>,
    since: Option<EventId>,
}

fn parse(q: &HashMap<String, String>) -> Result<Filter, ApiError> {
    if let Some(k) = q
        .keys()
        .find(|k| !["types", "run_id", "since", "token"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            k,
            format!(
                "unknown query parameter `{k}` (the stream takes: types, run_id, since, token)"
            ),
        ));
    }
    let types = match q.get("types") {
        None => TYPES.iter().map(|t| t.to_string()).collect(),
        Some(list) => {
            let types: Vec<String> = list
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
            if let Some(bad) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
                return Err(ApiError::invalid(
                    "types",
                    format!(
                        "unknown message type `{bad}` in `types` (choose from {})",
                        TYPES.join(", ")
                    ),
                ));
            }
            types
        }
    };
    let since = match q.get("since") {
        None => None,
        Some(s) => Some(EventId(
            s.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "since",
                        format!("`since` is an event id (a whole number from 0), got {s:?}"),
                    )
                })?,
        )),
    };
    Ok(Filter {
        types,
        run_id: q.get("run_id").map(|r| RunId(r.clone())),
        since,
    })
}

pub async fn handler(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    peer: Option<axum::Extension<super::peer::Peer>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let filter = match parse(&q) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return ApiError::invalid(
                "",
                format!("/v1/stream is a WebSocket: connect with a WebSocket client ({e})"),
            )
            .into_response();
        }
    };
    let peer = peer.map(|axum::Extension(p)| p);
    ws.on_upgrade(move |socket| serve(socket, state, filter, peer))
}

/// Decrements the connected-clients gauge however the connection ends.
struct Connected(AppState);

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.metrics.stream_disconnected();
    }
}

fn text(v: Value) -> Message {
    Message::Text(redact_json(v).to_string().into())
}

fn replayed(e: &StoredEvent) -> Value {
    let mut v = json!({
        "type": "event", "id": e.id, "event_id": e.id, "source": e.source,
        "run_id": e.run_id, "kind": e.kind, "title": e.notification.title,
        "message": crate::notification::preview(&e.notification.body, crate::hub::MESSAGE_PREVIEW),
        "at": e.created_at, "replay": true,
    });
    if let Some(w) = e.watcher {
        v["watcher"] = json!(w);
    }
    v
}

fn live_json(msg: &Live) -> Value {
    let mut v = serde_json::to_value(msg).unwrap_or(Value::Null);
    if let Some(id) = msg.event_id() {
        v["id"] = json!(id);
    }
    v
}

async fn serve(socket: WebSocket, state: AppState, filter: Filter, peer: Option<Peer>) {
    // Subscribe before reading the log, so nothing falls between the two.
    let mut live = state.hub().subscribe();
    state.metrics.stream_connected();
    let _connected = Connected(state.clone());
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut queue) = mpsc::channel::<Message>(CLIENT_QUEUE);
    let (close_tx, mut close_rx) = oneshot::channel::<(u16, String)>();
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                close = &mut close_rx => {
                    if let Ok((code, reason)) = close {
                        let frame = CloseFrame { code, reason: reason.into() };
                        let _ = tokio::time::timeout(
                            Duration::from_secs(2),
                            sink.send(Message::Close(Some(frame))),
                        )
                        .await;
                    }
                    break;
                }
                msg = queue.recv() => match msg {
                    Some(m) => if sink.send(m).await.is_err() { break },
                    None => break,
                },
            }
        }
    });
    // The client counts as gone at once; its writer gets a grace period to
    // finish the frame under way and send the close frame with the reason,
    // in the background.
    let close = |code: u16, reason: String| {
        let _ = close_tx.send((code, reason));
        let mut writer = writer;
        tokio::spawn(async move {
            if tokio::time::timeout(CLOSE_GRACE, &mut writer)
                .await
                .is_err()
            {
                writer.abort();
            }
        });
    };

    let _ = tx
        .send(text(json!({
            "type": "connection_ack", "server": "mcp-push", "version": env!("CARGO_PKG_VERSION"),
            "types": filter.types, "run_id": filter.run_id, "since": filter.since,
            "queue": CLIENT_QUEUE, "ping_every_s": PING_EVERY.as_secs(),
            "at": UnixMillis::now(),
        })))
        .await;

    // Which events belong to the run filtered on (deliveries name only their event).
    let mut in_run: HashMap<EventId, bool> = HashMap::new();
    // Every event up to this id was sent or filtered out: the reconnect hint,
    // and the line below which live events are dropped (replayed already).
    let mut last: Option<EventId> = filter.since;
    if filter.since.is_none() {
        // From now on: from the newest event, so that one whose news comes
        // late (from another hub) is sent from the log, not passed.
        let store = state.hub().store().clone();
        match crate::hub::blocking(move || store.last_event_id()).await {
            // An empty log counts from 0: the first live event need not be
            // the first id (concurrent appends announce in any order), and
            // any before it are filled in from the log like any other gap.
            Ok(newest) => last = Some(newest.unwrap_or(EventId(0))),
            Err(e) => {
                close(POLICY, format!("cannot read the log: {e}"));
                return;
            }
        }
    }
    if let Some(since) = filter.since {
        match from_log(&state, &filter, since, None, &mut in_run, &tx).await {
            Ok(Some(to)) => last = Some(to),
            Ok(None) => return,
            Err(e) => {
                close(POLICY, format!("cannot replay from the log: {e}"));
                return;
            }
        }
    }

    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    let reason = loop {
        tokio::select! {
            msg = live.recv() => match msg {
                Ok(msg) => {
                    if let Live::Event { event_id, .. } = &msg {
                        let event_id = *event_id;
                        match last {
                            Some(l) if event_id <= l => continue, // sent from the log already
                            Some(l) if event_id.0 > l.0 + 1 => {
                                // Smaller ids may still be on their way (from
                                // another hub, or a hole). Every one there will
                                // be is in the log now: a later id commits after
                                // them (see the stores' append). Send them first,
                                // so ids go out in order and none is passed.
                                match from_log(&state, &filter, l, Some(event_id), &mut in_run, &tx).await {
                                    Ok(Some(_)) => {}
                                    Ok(None) => break None,
                                    Err(e) => break Some((POLICY, format!(
                                        "cannot read the log: {e}; reconnect with since={}", l.0
                                    ))),
                                }
                            }
                            _ => {}
                        }
                        last = Some(event_id);
                    }
                    if !wanted(&state, &filter, &mut in_run, &msg).await {
                        continue;
                    }
                    // Closed while its socket still has room for the close
                    // frame: a client that never reads would otherwise be
                    // cut off without one when its writer gives up.
                    if let Some((unsent, size)) = peer.and_then(|p| p.stalled()) {
                        break Some((POLICY, format!(
                            "too slow: {unsent} bytes unread of a {size}-byte socket buffer; reconnect with since={}",
                            last.map(|l| l.0).unwrap_or(0)
                        )));
                    }
                    match tx.try_send(text(live_json(&msg))) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => break Some((POLICY, format!(
                            "too slow: more than {CLIENT_QUEUE} messages waiting; reconnect with since={}",
                            last.map(|l| l.0).unwrap_or(0)
                        ))),
                        Err(mpsc::error::TrySendError::Closed(_)) => break None,
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => break Some((POLICY, format!(
                    "too slow: {n} live messages missed; reconnect with since={}",
                    last.map(|l| l.0).unwrap_or(0)
                ))),
                Err(broadcast::error::RecvError::Closed) => break Some((GOING_AWAY, "the hub stopped".into())),
            },
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                Some(Ok(_)) => heard = tokio::time::Instant::now(),
            },
            _ = ping.tick() => {
                if heard.elapsed() > PING_EVERY * 3 {
                    break Some((POLICY, "no pong: the connection looks dead".into()));
                }
                if tx.try_send(Message::Ping(Default::default())).is_err() {
                    break Some((POLICY, "too slow: the queue is full".into()));
                }
            }
            _ = state.shutdown.cancelled() => break Some((GOING_AWAY, "the server is shutting down".into())),
        }
    };
    match reason {
        Some((code, why)) => {
            tracing::debug!("closing a stream client: {why}");
            close(code, why);
        }
        None => {
            drop(tx);
            close(GOING_AWAY, String::new());
        }
    }
}

/// One page of the log after `from`, as the client filters it by run.
async fn log_page(
    state: &AppState,
    filter: &Filter,
    from: EventId,
) -> Result<Vec<StoredEvent>, crate::store::StoreError> {
    let store = state.hub().store().clone();
    let query = EventQuery {
        since: Some(from),
        run_id: filter.run_id.clone(),
        kind: None,
        watcher: None,
        limit: REPLAY_PAGE,
    };
    crate::hub::blocking(move || store.events(&query)).await
}

/// Send the logged events after `from` (and before `upto`, if given) that
/// the client wants: the replay of `since=`, or a gap in the live events.
/// Returns the last id read (`from` when none), or `None` when the client
/// is gone.
async fn from_log(
    state: &AppState,
    filter: &Filter,
    mut from: EventId,
    upto: Option<EventId>,
    in_run: &mut HashMap<EventId, bool>,
    tx: &mpsc::Sender<Message>,
) -> Result<Option<EventId>, crate::store::StoreError> {
    let wants_events = filter.types.iter().any(|t| t == "event");
    let before = |e: &&StoredEvent| upto.is_none_or(|u| e.id < u);
    loop {
        let page = log_page(state, filter, from).await?;
        for e in page.iter().take_while(before) {
            in_run.insert(e.id, true);
            if wants_events && tx.send(text(replayed(e))).await.is_err() {
                return Ok(None);
            }
            from = e.id;
        }
        if page.len() < REPLAY_PAGE || page.last().is_some_and(|e| !before(&e)) {
            return Ok(Some(from));
        }
    }
}

/// Whether the client asked for this message.
async fn wanted(
    state: &AppState,
    filter: &Filter,
    in_run: &mut HashMap<EventId, bool>,
    msg: &Live,
) -> bool {
    if !filter.types.iter().any(|t| t == msg.kind()) {
        return false;
    }
    let Some(run) = &filter.run_id else {
        return true;
    };
    match msg {
        Live::Event {
            event_id, run_id, ..
        } => {
            let yes = run_id.as_ref() == Some(run);
            in_run.insert(*event_id, yes);
            yes
        }
        Live::Delivery { event_id, .. } => {
            if let Some(yes) = in_run.get(event_id) {
                return *yes;
            }
            let store = state.hub().store().clone();
            let id = *event_id;
            let yes = crate::hub::blocking(move || store.event(id))
                .await
                .ok()
                .flatten()
                .is_some_and(|e| e.run_id.as_ref() == Some(run));
            in_run.insert(*event_id, yes);
            yes
        }
        Live::ToolExecution { arguments, .. } => arguments["run_id"].as_str() == Some(&run.0),
        Live::Plugin { .. } | Live::Ask { .. } | Live::Reply { .. } => false,
    }
}
