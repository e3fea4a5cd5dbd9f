//! The outbox without a server: many people only ever run `mcp-push send`
//! (cron jobs, CI steps, qinglong scripts), so a delivery that needs a retry
//! must not wait for a `serve` that never runs. Every command that delivers
//! also sends a few deliveries that are due (`also sent 2 waiting
//! deliveries`), and `mcp-push flush` sends all that are due.
//!
//! Only deliveries to channels this process has are taken: one whose channel
//! is configured elsewhere (another user's environment, a server's config
//! file) is left for that process, with no attempt used up.

use super::inline::local_time;
use super::output::outln;
use super::{Cli, EXIT_FAILED, EXIT_QUEUED, fail};
use crate::app::App;
use crate::hub::{Live, Worker, blocking};
use crate::redact::redact;
use crate::store::{ClaimScope, Delivery, DeliveryId, DeliveryState, Store, UnixMillis};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Deliveries from the outbox a `send`, `event` or `retry` takes along: a
/// one-shot command stays quick however large the backlog is.
pub const ALONG: usize = 20;

/// How many deliveries `flush` takes at most in one go.
const FLUSH_LIMIT: usize = 10_000;

#[derive(clap::Args, Debug)]
pub struct FlushArgs {
    /// Also send what falls due within this time, and retry within it (30s, 2m, 0)
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = super::inline::parse_wait)]
    wait: Duration,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

/// Due deliveries being sent alongside a command's own.
pub struct Along {
    store: Arc<dyn Store>,
    taken: Vec<DeliveryId>,
    worker: Option<Worker>,
}

/// What became of the deliveries taken from the outbox.
#[derive(Debug, Default, serde::Serialize)]
pub struct Drained {
    pub sent: usize,
    pub failed: usize,
    pub waiting: usize,
    /// When the first of the waiting ones is due again.
    pub next_attempt_at: Option<UnixMillis>,
    /// Due deliveries left alone: their channels are not configured here.
    pub elsewhere: usize,
    pub elsewhere_channels: BTreeSet<String>,
}

/// The deliveries due by `within` from now (up to `limit`) of the channels
/// configured in `app`, and how many others wait for channels it lacks.
async fn due_here(
    app: &App,
    store: &Arc<dyn Store>,
    within: Duration,
    limit: usize,
) -> (Vec<DeliveryId>, Drained) {
    let store = store.clone();
    let now = UnixMillis::now().plus(within);
    // Read past the limit so that deliveries for other channels do not
    // crowd out this process's own.
    let rows = blocking(move || store.due_deliveries(now, limit.saturating_mul(4).max(limit)))
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("cannot read the outbox: {e}");
            Vec::new()
        });
    let mut drained = Drained::default();
    let mut mine = Vec::new();
    for d in rows {
        let here = app
            .loaded()
            .config
            .channels
            .iter()
            .any(|c| c.id == d.channel);
        if !here {
            drained.elsewhere += 1;
            drained.elsewhere_channels.insert(d.channel.to_string());
        } else if mine.len() < limit {
            mine.push(d.id);
        }
    }
    (mine, drained)
}

impl Along {
    /// Start sending up to `limit` deliveries that are due now, before the
    /// command adds its own (which its own worker sends).
    pub async fn start(app: &App, store: Arc<dyn Store>, limit: usize) -> Along {
        let (taken, _) = due_here(app, &store, Duration::ZERO, limit).await;
        // A hub (and its writer thread) only when there is something to send:
        // most commands find the outbox empty.
        let worker = (!taken.is_empty()).then(|| {
            Arc::new(app.hub(store.clone()))
                .spawn_worker(ClaimScope::Deliveries(taken.clone().into()))
        });
        Along {
            store,
            taken,
            worker,
        }
    }

    /// Stop taking more (sends in flight finish) and say what happened.
    pub async fn finish(self) -> Drained {
        if let Some(w) = self.worker {
            w.finish().await;
        }
        outcome(&self.store, &self.taken).await
    }
}

impl Drained {
    /// The along line on standard output (standard error beside JSON, which
    /// must stay one document).
    pub fn print_along(&self, json: bool) {
        if let Some(line) = self.along_line() {
            if json {
                eprintln!("{line}");
            } else {
                outln!("{line}");
            }
        }
    }

    /// One line for a command that took deliveries along, if it took any.
    pub fn along_line(&self) -> Option<String> {
        let tried = self.sent + self.failed + self.waiting;
        match tried {
            0 => None,
            n if n == self.sent => Some(format!(
                "also sent {n} waiting {}",
                plural(n, "delivery", "deliveries")
            )),
            n => Some(format!(
                "also tried {n} waiting {}: {}",
                plural(n, "delivery", "deliveries"),
                self.counts()
            )),
        }
    }

    fn counts(&self) -> String {
        let mut parts = vec![format!("{} sent", self.sent)];
        if self.failed > 0 {
            parts.push(format!(
                "{} failed (`mcp-push deliveries --failed`)",
                self.failed
            ));
        }
        if self.waiting > 0 {
            parts.push(format!(
                "{} still waiting, next at {}",
                self.waiting,
                local_time(self.next_attempt_at)
            ));
        }
        parts.join(", ")
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// How the deliveries `ids` stand now.
async fn outcome(store: &Arc<dyn Store>, ids: &[DeliveryId]) -> Drained {
    let mut drained = Drained::default();
    for d in load(store, ids).await {
        match d.state {
            DeliveryState::Sent => drained.sent += 1,
            DeliveryState::Failed => drained.failed += 1,
            DeliveryState::Pending => {
                drained.waiting += 1;
                drained.next_attempt_at = match (drained.next_attempt_at, d.next_attempt_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            // Closed another way meanwhile (a newer update superseded it).
            DeliveryState::Skipped | DeliveryState::Coalesced => drained.sent += 1,
        }
    }
    drained
}

async fn load(store: &Arc<dyn Store>, ids: &[DeliveryId]) -> Vec<Delivery> {
    let store = store.clone();
    let ids = ids.to_vec();
    blocking(move || {
        ids.iter()
            .filter_map(|id| store.delivery(*id).transpose())
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// `mcp-push flush`: send every delivery of the channels configured here
/// that is due now or falls due within `--wait` (retries included), and say
/// what is left.
pub async fn flush(cli: &Cli, args: &FlushArgs) -> ExitCode {
    let (app, store) = match super::load_with_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let (ids, before) = due_here(&app, &store, args.wait, FLUSH_LIMIT).await;
    let deadline = Instant::now() + args.wait;
    if !ids.is_empty() {
        let hub = Arc::new(app.hub(store.clone()));
        let mut live = hub.subscribe();
        let worker = hub.spawn_worker(ClaimScope::Deliveries(ids.clone().into()));
        // Until every one has settled, none can fall due within the wait, or
        // the wait is over; the worker makes the retries meanwhile. The store
        // is read again only when a delivery of this process has moved.
        let mut open = ids.clone();
        loop {
            let rows: Vec<Delivery> = load(&store, &open)
                .await
                .into_iter()
                .filter(|d| !d.is_final())
                .collect();
            let left = deadline.saturating_duration_since(Instant::now());
            let by = UnixMillis::now().plus(left);
            let due = rows
                .iter()
                .any(|d| d.next_attempt_at.is_none_or(|t| t <= by));
            if rows.is_empty() || left.is_zero() || !due {
                break;
            }
            open = rows.iter().map(|d| d.id).collect();
            let _ = tokio::time::timeout(left, async {
                while !matches!(live.recv().await, Ok(Live::Delivery { .. }) | Err(_)) {}
            })
            .await;
        }
        worker.finish().await;
    }
    let mut drained = outcome(&store, &ids).await;
    drained.elsewhere = before.elsewhere;
    drained.elsewhere_channels = before.elsewhere_channels;
    print_flush(&drained, args.json)
}

fn print_flush(d: &Drained, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(d) {
            Ok(text) => outln!("{}", redact(&text)),
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        if d.sent + d.failed + d.waiting == 0 {
            outln!("nothing is due in the outbox");
        } else {
            outln!("{}", d.counts());
        }
        if d.elsewhere > 0 {
            outln!(
                "{} due {} left for a process that has {} configured: {}",
                d.elsewhere,
                plural(d.elsewhere, "delivery", "deliveries"),
                plural(d.elsewhere_channels.len(), "its channel", "their channels"),
                d.elsewhere_channels
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if d.failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else if d.waiting > 0 {
        ExitCode::from(EXIT_QUEUED)
    } else {
        ExitCode::SUCCESS
    }
}
