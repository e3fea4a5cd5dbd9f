//! How the hub is doing, in one answer (`hub_status`): how long it has run,
//! its channels, its watchers by state, the outbox's depth, the events of
//! the last day and the last few errors. Reads only; the rules that shape
//! the answer (what counts as failing, which errors come first) are pure
//! functions of the rows read.

use super::OpError;
use crate::hub::{Hub, blocking};
use crate::notification::ChannelId;
use crate::store::{DeliveryId, DeliveryState, UnixMillis, Watcher, WatcherId, WatcherState};
use serde::Serialize;
use std::time::Duration;

/// How far back `events_24h` counts.
pub const DAY: Duration = Duration::from_secs(24 * 3600);
/// How many errors `last_errors` lists: enough to see a pattern, short
/// enough for an agent's context.
pub const LAST_ERRORS: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HubStatus {
    pub version: &'static str,
    pub started_at: UnixMillis,
    pub uptime_secs: u64,
    pub channels: Vec<ChannelId>,
    pub watchers: WatcherCounts,
    /// Deliveries waiting: queued, held by quiet hours, or to be retried.
    pub outbox_depth: u64,
    pub events_24h: u64,
    /// Newest first, secrets redacted.
    pub last_errors: Vec<LastError>,
}

/// The store's watchers by state. `failing` counts those whose last check
/// failed, paused or not (a paused watcher keeps its last error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WatcherCounts {
    pub total: usize,
    pub active: usize,
    pub paused: usize,
    pub failing: usize,
}

/// One recent failure: a delivery that failed for good, or a watcher whose
/// checks are failing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum LastError {
    Delivery {
        delivery: DeliveryId,
        channel: ChannelId,
        title: Option<String>,
        error: String,
        at: UnixMillis,
    },
    Watcher {
        watcher: WatcherId,
        name: String,
        consecutive_failures: u32,
        error: String,
        at: UnixMillis,
    },
}

impl LastError {
    fn at(&self) -> UnixMillis {
        match self {
            LastError::Delivery { at, .. } | LastError::Watcher { at, .. } => *at,
        }
    }
}

/// Count `watchers` by state.
pub fn count(watchers: &[Watcher]) -> WatcherCounts {
    let mut c = WatcherCounts {
        total: watchers.len(),
        ..Default::default()
    };
    for w in watchers {
        match w.state {
            WatcherState::Active => c.active += 1,
            WatcherState::Paused => c.paused += 1,
        }
        if w.status.consecutive_failures > 0 {
            c.failing += 1;
        }
    }
    c
}

/// The newest `n` of `errors`, their texts redacted.
pub fn newest(mut errors: Vec<LastError>, n: usize) -> Vec<LastError> {
    errors.sort_by_key(|e| std::cmp::Reverse(e.at()));
    errors.truncate(n);
    for e in &mut errors {
        match e {
            LastError::Delivery { error, title, .. } => {
                *error = crate::redact::redact(error);
                if let Some(t) = title {
                    *t = crate::redact::redact(t);
                }
            }
            LastError::Watcher { error, .. } => *error = crate::redact::redact(error),
        }
    }
    errors
}

fn watcher_error(w: &Watcher) -> Option<LastError> {
    let error = w.status.last_error.clone()?;
    (w.status.consecutive_failures > 0).then(|| LastError::Watcher {
        watcher: w.id,
        name: w.name.clone(),
        consecutive_failures: w.status.consecutive_failures,
        error,
        at: w.status.last_check_at.unwrap_or(w.updated_at),
    })
}

/// The hub's status now; `started_at` is when this process started.
pub async fn hub_status(hub: &Hub, started_at: UnixMillis) -> Result<HubStatus, OpError> {
    let now = hub.clock().now();
    let since = UnixMillis(now.0.saturating_sub(DAY.as_millis() as i64));
    let store = hub.store().clone();
    let (activity, watchers, failed) = blocking(move || {
        let activity = store.activity(since)?;
        let watchers = store.list_watchers()?;
        let failed = store
            .list_deliveries(Some(DeliveryState::Failed), LAST_ERRORS)?
            .into_iter()
            .map(|d| super::deliveries::with_event(store.as_ref(), d))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, crate::store::StoreError>((activity, watchers, failed))
    })
    .await
    .map_err(OpError::from_store)?;
    let mut errors: Vec<LastError> = failed
        .into_iter()
        .map(|f| LastError::Delivery {
            delivery: f.delivery.id,
            channel: f.delivery.channel,
            title: f.title,
            error: f.delivery.last_error.unwrap_or_default(),
            at: f.delivery.updated_at,
        })
        .collect();
    errors.extend(watchers.iter().filter_map(watcher_error));
    Ok(HubStatus {
        version: env!("CARGO_PKG_VERSION"),
        started_at,
        uptime_secs: (now.0.saturating_sub(started_at.0).max(0) / 1000) as u64,
        channels: hub.channels().iter().map(|c| c.id.clone()).collect(),
        watchers: count(&watchers),
        outbox_depth: activity.pending,
        events_24h: activity.events_since,
        last_errors: newest(errors, LAST_ERRORS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CheckStatus, WatcherOrigin};

    fn watcher(id: i64, state: WatcherState, failures: u32, at: i64) -> Watcher {
        Watcher {
            id: WatcherId(id),
            name: format!("w{id}"),
            kind: "web".into(),
            spec: serde_json::json!({}),
            origin: WatcherOrigin::Api,
            state,
            status: CheckStatus {
                last_check_at: Some(UnixMillis(at)),
                last_error: (failures > 0).then(|| "HTTP 500".to_string()),
                consecutive_failures: failures,
                ..Default::default()
            },
            memory: serde_json::Value::Null,
            checks: 0,
            created_at: UnixMillis(0),
            updated_at: UnixMillis(0),
        }
    }

    #[test]
    fn watchers_are_counted_by_state_and_failing_apart() {
        use WatcherState::*;
        for (ws, want) in [
            (vec![], (0, 0, 0, 0)),
            (vec![watcher(1, Active, 0, 1)], (1, 1, 0, 0)),
            (
                vec![
                    watcher(1, Active, 2, 1),
                    watcher(2, Paused, 0, 1),
                    watcher(3, Paused, 1, 1),
                ],
                (3, 1, 2, 2),
            ),
        ] {
            let c = count(&ws);
            assert_eq!((c.total, c.active, c.paused, c.failing), want);
        }
    }

    #[test]
    fn the_newest_errors_come_first_redacted() {
        crate::redact::register(["tok-123-secret".to_string()]);
        let delivery = |id: i64, at: i64| LastError::Delivery {
            delivery: DeliveryId(id),
            channel: ChannelId::new("ops").unwrap(),
            title: Some("t".into()),
            error: "401 for tok-123-secret".into(),
            at: UnixMillis(at),
        };
        let ws = [
            watcher(7, WatcherState::Active, 3, 50),
            watcher(8, WatcherState::Active, 0, 90),
        ];
        let mut errors = vec![delivery(1, 10), delivery(2, 70), delivery(3, 30)];
        errors.extend(ws.iter().filter_map(watcher_error));
        let shown = newest(errors, 3);
        let at: Vec<i64> = shown.iter().map(|e| e.at().0).collect();
        assert_eq!(at, [70, 50, 30], "a watcher that recovered is no error");
        let text = serde_json::to_string(&shown).unwrap();
        assert!(!text.contains("tok-123-secret"), "{text}");
        assert!(text.contains("\"source\":\"watcher\""), "{text}");
    }
}
