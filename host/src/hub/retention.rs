//! Retention in a long-running process (`serve`, `mcp`): what is done and
//! out of the `[store]` window is forgotten in small batches, off the send
//! path, so the store stays the same size under a steady load.

use super::{Clock, blocking};
use crate::store::{Pruned, Retention, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Events forgotten per write transaction: about a millisecond of the
/// writer's time, so sends waiting for it barely notice.
pub const BATCH: usize = 500;
/// How often the window is applied; the first time soon after start.
const EVERY: Duration = Duration::from_secs(600);
const FIRST_AFTER: Duration = Duration::from_secs(30);
/// A pause between batches, for the writer's other callers.
const BETWEEN: Duration = Duration::from_millis(20);

/// Apply the window until a batch comes back short; what it forgot (what
/// the batches before an error forgot stays forgotten).
pub async fn apply(
    store: &Arc<dyn Store>,
    keep: Retention,
    clock: &Clock,
) -> Result<Pruned, StoreError> {
    let mut total = Pruned::default();
    loop {
        let (store, now) = (store.clone(), clock.now());
        let p = blocking(move || store.prune(&keep, now, BATCH, false)).await?;
        total.events += p.events;
        total.deliveries += p.deliveries;
        total.runs += p.runs;
        if (p.events as usize) < BATCH {
            return Ok(total);
        }
        tokio::time::sleep(BETWEEN).await;
    }
}

/// [`apply`] now and then, until the task is dropped.
pub fn spawn(store: Arc<dyn Store>, keep: Retention, clock: Clock) -> Task {
    let handle = tokio::spawn(async move {
        tokio::time::sleep(FIRST_AFTER).await;
        loop {
            match apply(&store, keep, &clock).await {
                Ok(p) if p.events > 0 || p.runs > 0 => tracing::info!(
                    "retention: forgot {} events, {} deliveries and {} runs",
                    p.events,
                    p.deliveries,
                    p.runs
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("retention: cannot prune the store: {e}"),
            }
            tokio::time::sleep(EVERY).await;
        }
    });
    Task(handle)
}

/// The retention task; it stops when this is dropped.
pub struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}
