//! Read runs: one run's state, one run with its timeline, or a page of runs.

use super::OpError;
use crate::hub::blocking;
use crate::notification::{EventKind, RunId};
use crate::store::{
    Delivery, EventId, EventQuery, Run, RunStatus, Source, Store, StoredEvent, Target, UnixMillis,
};
use serde::Serialize;
use std::sync::Arc;

/// How many of a run's events the MCP tool and the REST API show.
pub const TIMELINE: usize = 1_000;

/// A run's state, if the run exists.
pub async fn state(store: &Arc<dyn Store>, run_id: RunId) -> Result<Option<Run>, OpError> {
    let store = store.clone();
    Ok(blocking(move || store.run(&run_id)).await?)
}

/// A run, its events (oldest first, at most `max_events`) and their
/// deliveries. Serialized as `{"run": ..., "events": [{"event_id", "kind",
/// "at", "source", "title", "message", "deliveries"}]}`.
#[derive(Debug, Clone)]
pub struct RunDetail {
    pub run: Run,
    pub events: Vec<StoredEvent>,
    pub deliveries: Vec<Delivery>,
}

impl RunDetail {
    /// The deliveries of one of the run's events.
    pub fn deliveries_of<'a>(&'a self, event: &StoredEvent) -> impl Iterator<Item = &'a Delivery> {
        let id = event.id;
        self.deliveries.iter().filter(move |d| d.event_id == id)
    }
}

impl Serialize for RunDetail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Event<'a> {
            event_id: EventId,
            kind: Option<EventKind>,
            at: UnixMillis,
            source: Source,
            title: &'a str,
            message: &'a str,
            deliveries: Vec<&'a Delivery>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            run: &'a Run,
            events: Vec<Event<'a>>,
        }
        Detail {
            run: &self.run,
            events: self
                .events
                .iter()
                .map(|e| Event {
                    event_id: e.id,
                    kind: e.kind,
                    at: e.created_at,
                    source: e.source,
                    title: &e.notification.title,
                    message: &e.notification.body,
                    deliveries: self.deliveries_of(e).collect(),
                })
                .collect(),
        }
        .serialize(s)
    }
}

pub async fn detail(
    store: &Arc<dyn Store>,
    run_id: RunId,
    max_events: usize,
) -> Result<RunDetail, OpError> {
    let store = store.clone();
    blocking(move || {
        let Some(run) = store.run(&run_id)? else {
            return Ok(Err(OpError::NoSuchRun(run_id)));
        };
        let events = store.events(&EventQuery {
            run_id: Some(run_id.clone()),
            limit: max_events,
            ..Default::default()
        })?;
        let deliveries = store.deliveries_for(&Target::Run(run_id))?;
        Ok(Ok(RunDetail {
            run,
            events,
            deliveries,
        }))
    })
    .await?
}

/// A run in a list, with a one-line preview of its last message.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub run: Run,
    pub preview: Option<String>,
}

/// Newest first.
pub async fn list(
    store: &Arc<dyn Store>,
    status: Option<RunStatus>,
    limit: usize,
    offset: usize,
) -> Result<Vec<Listed>, OpError> {
    let store = store.clone();
    let runs = blocking(move || store.list_runs(status, limit, offset)).await?;
    Ok(runs
        .into_iter()
        .map(|run| Listed {
            preview: run
                .last_message
                .as_deref()
                .and_then(|m| m.lines().next())
                .map(|l| crate::notification::preview(l, 120)),
            run,
        })
        .collect())
}
