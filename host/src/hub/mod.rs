//! A notification in → routed → written to the log with its deliveries →
//! delivered by the worker → outcomes out (to waiting callers and listeners).

mod clock;
mod live;
mod memory;
pub mod pg_signals;
pub mod placement;
pub mod reply_link;
mod report;
pub mod retention;
mod route;
mod waiters;
mod wake;
mod worker;

pub use clock::Clock;
pub use live::{Live, LiveBus, LocalLive, MESSAGE_PREVIEW, PluginAction, ToolPhase};
pub use report::{Outcome, Overall, Report};
pub use route::{Route, plan, quiet_until, select};
pub use wake::{LocalWakeup, Wakeup, Woken};
pub use worker::{WorkerOptions, lease_for};

use crate::config::Channel;
use crate::notification::{ChannelId, Notification};
use crate::store::{
    Appended, ClaimRequest, ClaimScope, Delivery, EventId, GroupCommit, HubId, Leased, NewEvent,
    Source, Store, StoreError, Target, UnixMillis, WriterHooks,
};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use waiters::{News, Waiters};

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no channel is configured")]
    NoChannels,
    #[error("unknown channel `{name}` (channels: {})", known.join(", "))]
    UnknownChannel { name: String, known: Vec<String> },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// One notification to deliver.
#[derive(Debug, Clone)]
pub struct Submission {
    pub notification: Notification,
    pub source: Source,
    /// The watcher that raised it (source `watcher`).
    pub watcher: Option<crate::store::WatcherId>,
    /// Only these channels (each must exist); empty means all.
    pub only: Vec<String>,
    /// A repeat with the same key returns the first result and sends nothing.
    pub idempotency_key: Option<String>,
    /// Record it (a run's step counts) but deliver it to no channel, for
    /// this reason: an agent hook's turn shorter than `--min-duration`.
    pub hold: Option<String>,
}

impl Submission {
    pub fn new(notification: Notification, source: Source) -> Self {
        Submission {
            notification,
            source,
            watcher: None,
            only: Vec::new(),
            idempotency_key: None,
            hold: None,
        }
    }
}

/// What [`Hub::submit`] wrote.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Not written: SKIP_PUSH_TITLE.
    Skipped {
        reason: String,
    },
    Logged {
        appended: Appended,
        at: Instant,
    },
}

pub struct Hub {
    channels: RwLock<Arc<Vec<Channel>>>,
    route: Route,
    store: Arc<dyn Store>,
    writer: GroupCommit,
    live: Box<dyn LiveBus>,
    waiters: Waiters,
    wake: Box<dyn Wakeup>,
    clock: Clock,
    options: WorkerOptions,
    in_flight: worker::InFlight,
    slots: worker::Slots,
    replies: reply_link::ReplyLinks,
}

impl Hub {
    pub fn new(
        channels: Vec<Channel>,
        route: Route,
        store: Arc<dyn Store>,
        clock: Clock,
        options: WorkerOptions,
    ) -> Self {
        let slots = worker::Slots::new(options.concurrency, channels.len());
        Hub {
            channels: RwLock::new(Arc::new(channels)),
            route,
            writer: GroupCommit::with_hooks(
                store.clone(),
                512,
                WriterHooks {
                    start: Some(placement::writer_starts),
                    idle: Some(memory::give_back_this_thread),
                },
            ),
            store,
            live: Box::new(LocalLive::default()),
            waiters: Waiters::default(),
            wake: Box::new(LocalWakeup::default()),
            clock,
            slots,
            options,
            in_flight: Default::default(),
            replies: Default::default(),
        }
    }

    /// The same hub, waking its worker and telling listeners through these
    /// (across hubs, say) instead of in-process. Before anyone subscribes.
    pub fn with_signals(self, wake: Box<dyn Wakeup>, live: Box<dyn LiveBus>) -> Self {
        Hub { wake, live, ..self }
    }

    /// The names of this hub's channels: the rows its worker may claim.
    pub fn channel_ids(&self) -> Arc<[ChannelId]> {
        self.channels().iter().map(|c| c.id.clone()).collect()
    }

    pub fn channels(&self) -> Arc<Vec<Channel>> {
        self.channels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swap in a new set of channels (plugins reloaded); sends already running
    /// keep the channel they started with.
    pub fn set_channels(&self, channels: Vec<Channel>) {
        self.slots.share_among(channels.len());
        *self.channels.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(channels);
        self.wake.wake();
    }

    pub fn channel(&self, id: &ChannelId) -> Option<Channel> {
        self.channels().iter().find(|c| &c.id == id).cloned()
    }

    /// Where reply links point and the key they are made with.
    pub fn replies(&self) -> &reply_link::ReplyLinks {
        &self.replies
    }

    /// The store's reply key, read once.
    pub async fn reply_key(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(key) = self.replies.key() {
            return Ok(key.to_vec());
        }
        let store = self.store.clone();
        let key = blocking(move || store.reply_key()).await?;
        Ok(self.replies.set_key(key).to_vec())
    }

    /// `channel`'s copy of a question (with its reply link) and the link;
    /// `None` for a notification that asks nothing.
    async fn question_copy(
        &self,
        n: &Notification,
        channel: &ChannelId,
    ) -> Option<(Notification, Option<String>)> {
        let q = n.question.as_ref()?;
        let link = match (self.replies.base(), self.reply_key().await) {
            (Some(base), Ok(key)) => Some(reply_link::url(&base, &key, q.ask_id, channel)),
            (Some(_), Err(e)) => {
                tracing::warn!("question {} goes without a reply link: {e}", q.ask_id);
                None
            }
            (None, _) => None,
        };
        Some((reply_link::render(n, link.clone()), link))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.live.subscribe()
    }

    /// Tell the worker to look for due deliveries now (after the clock moved, say).
    pub fn wake(&self) {
        self.wake.wake();
    }

    /// Route and write the notification and its deliveries; durable when this returns.
    pub async fn submit(&self, sub: Submission) -> Result<Submitted, HubError> {
        let prepared = match self.prepare(sub)? {
            Prepared::Skipped(reason) => return Ok(Submitted::Skipped { reason }),
            Prepared::Event(p) => p,
        };
        let at = Instant::now();
        let appended = self.writer.append(prepared.event).await?;
        self.announce(&appended, prepared.live, true);
        Ok(Submitted::Logged { appended, at })
    }

    /// Route the submission: what to write, or why nothing is.
    fn prepare(&self, sub: Submission) -> Result<Prepared, HubError> {
        let channels = self.channels();
        if channels.is_empty() {
            return Err(HubError::NoChannels);
        }
        let targets = select(&channels, &sub.only)?;
        if let Some(reason) = self.route.skip_reason(&sub.notification) {
            return Ok(Prepared::Skipped(reason));
        }
        let now = self.clock.now();
        let deliveries = targets
            .iter()
            .map(|ch| {
                let mut plan = plan(ch, &sub.notification, now);
                if plan.skip.is_none() {
                    plan.skip = sub.hold.clone();
                }
                plan
            })
            .collect();
        let run = sub.notification.event.as_ref();
        let (run_id, kind, title) = (
            run.map(|e| e.run_id.clone()),
            run.map(|e| e.kind),
            sub.notification.title.clone(),
        );
        let message = crate::notification::preview(&sub.notification.body, live::MESSAGE_PREVIEW);
        let live = Live::Event {
            event_id: EventId(0),
            source: sub.source,
            watcher: sub.watcher,
            run_id,
            kind,
            title,
            message,
            at: now,
        };
        let event = NewEvent {
            notification: sub.notification,
            source: sub.source,
            watcher: sub.watcher,
            deliveries,
            idempotency_key: sub.idempotency_key,
            received_at: now,
        };
        Ok(Prepared::Event(Box::new(PreparedEvent { event, live })))
    }

    /// Tell listeners of a new event (not of a repeat); with `wake`, the
    /// worker too.
    fn announce(&self, appended: &Appended, mut live: Live, wake: bool) {
        if appended.duplicate_of.is_some() {
            return;
        }
        if let Live::Event { event_id, .. } = &mut live {
            *event_id = appended.event_id;
        }
        self.live.publish(live);
        if wake {
            self.wake.wake();
        }
    }

    /// Wait until every delivery of the event is final, or until `deadline`;
    /// returns early when all that remain are scheduled after the deadline.
    pub async fn wait(&self, event: EventId, since: Instant, deadline: Instant) -> Report {
        let news = self.waiters.wait_for(event);
        self.wait_on(news, event, since, deadline, None).await
    }

    /// [`Hub::wait`] with the news already subscribed to, and maybe the rows
    /// and the time the event was written (no first read then).
    async fn wait_on(
        &self,
        mut news: waiters::Waiting<'_>,
        event: EventId,
        since: Instant,
        deadline: Instant,
        known: Option<(Vec<Delivery>, UnixMillis)>,
    ) -> Report {
        let until = tokio::time::Instant::from_std(deadline);
        let deadline_ms = || {
            self.clock
                .now()
                .plus(deadline.saturating_duration_since(Instant::now()))
        };
        // Read with the first look at the deliveries, in the same trip to the
        // store's thread: each trip is two thread switches, and a lone
        // caller's notification made about ten of them.
        let (mut rows, mut submitted) = match known {
            Some((rows, at)) => (rows, Some(at)),
            None => (Vec::new(), None),
        };
        let mut read = submitted.is_none();
        loop {
            if std::mem::take(&mut read) {
                rows = match self.look(event, submitted.is_none()).await {
                    Ok((rows, at)) => {
                        submitted = submitted.or(at);
                        rows
                    }
                    Err(e) => return Report::StoreFailed(e.to_string()),
                };
            }
            let cutoff = deadline_ms();
            // What is still worth waiting for; the news says when each is
            // done, with its row as recorded, so the report needs no second read.
            let open = |rows: &[Delivery]| {
                rows.iter()
                    .any(|d| !(d.is_final() || waits_past(d, cutoff)))
            };
            if !open(&rows) || Instant::now() >= deadline {
                return self.report(event, rows, since, submitted);
            }
            tokio::select! {
                msg = news.next() => match msg {
                    Some(News { row }) => {
                        if let Some(d) = rows.iter_mut().find(|d| d.id == row.id) {
                            *d = Arc::unwrap_or_clone(row);
                        }
                    }
                    // The hub is going away: read the store again.
                    None => read = true,
                },
                _ = tokio::time::sleep_until(until) => read = true,
                // A scheduled retry may come due, or another process may
                // deliver, without news on this process's stream.
                _ = tokio::time::sleep(Duration::from_secs(1)) => read = true,
            }
        }
    }

    /// Submit, then wait as [`Hub::wait`] does.
    ///
    /// A caller that waits sends its own notification where free slots and
    /// its channels' shares allow: its deliveries are leased in the same
    /// turn of the store's writer that writes them, and sent on this
    /// process's tasks. A lone request then makes two trips to the writer
    /// (write and lease; record) instead of waking the worker, which
    /// claimed on a third, and reading its rows back on a blocking thread.
    /// Whatever it cannot lease is left to the worker, as before.
    pub async fn send(
        self: &Arc<Self>,
        sub: Submission,
        wait: Duration,
    ) -> Result<Report, HubError> {
        let PreparedEvent { event, live } = match self.prepare(sub)? {
            Prepared::Skipped(reason) => return Ok(Report::Skipped { reason }),
            Prepared::Event(p) => *p,
        };
        let at = Instant::now();
        let now = event.received_at;
        let due = event
            .deliveries
            .iter()
            .filter(|d| d.skip.is_none() && d.not_before.is_none());
        let reserved = match wait.is_zero() {
            true => None,
            false => Some(self.slots.reserve(due.clone().map(|d| &d.channel), now)),
        };
        let (appended, news, known) = match reserved {
            Some(reserved) if !reserved.is_empty() => {
                let all = reserved.len() == due.count();
                let request = ClaimRequest {
                    now,
                    limit: reserved.len(),
                    lease: self.options.lease,
                    owner: HubId::this_process(),
                    scope: ClaimScope::All,
                    room: reserved.room(),
                    // The event's own rows, routed to this hub's channels.
                    only: None,
                };
                let Leased {
                    appended,
                    claims,
                    rows,
                } = self.writer.append_and_claim(event, request).await?;
                // Subscribed before the worker is woken and the sends start:
                // the rows were read when they were leased, and every change
                // since comes as news.
                let news = self.waiters.wait_for(appended.event_id);
                let leased_all = all && claims.len() == reserved.len();
                self.announce(&appended, live, !leased_all);
                worker::send_own(self, claims, reserved).await;
                // Empty for a repeat, or when they could not be read.
                let known = (!rows.is_empty()).then_some((rows, now));
                (appended, news, known)
            }
            _ => {
                let appended = self.writer.append(event).await?;
                self.announce(&appended, live, true);
                let news = self.waiters.wait_for(appended.event_id);
                (appended, news, None)
            }
        };
        let mut report = self
            .wait_on(news, appended.event_id, at, at + wait, known)
            .await;
        if let Report::Delivered { duplicate, .. } = &mut report {
            *duplicate = appended.duplicate_of.is_some();
        }
        Ok(report)
    }

    pub async fn deliveries(&self, event: EventId) -> Result<Vec<Delivery>, StoreError> {
        let store = self.store.clone();
        blocking(move || store.deliveries_for(&Target::Event(event))).await
    }

    /// The event's deliveries, and with `written` also when the event was
    /// written, by the hub's clock (the one deliveries' `updated_at` is
    /// stamped with), in one trip to a blocking thread.
    async fn look(
        &self,
        event: EventId,
        written: bool,
    ) -> Result<(Vec<Delivery>, Option<UnixMillis>), StoreError> {
        let store = self.store.clone();
        blocking(move || {
            let at = match written {
                true => store.event(event).ok().flatten().map(|e| e.created_at),
                false => None,
            };
            Ok((store.deliveries_for(&Target::Event(event))?, at))
        })
        .await
    }

    fn report(
        &self,
        event: EventId,
        rows: Vec<Delivery>,
        since: Instant,
        submitted: Option<UnixMillis>,
    ) -> Report {
        let channels = self.channels();
        let waited = since.elapsed();
        let outcomes = rows
            .into_iter()
            .map(|d| {
                // Each delivery's own time, from submission to its outcome: a
                // channel that answered at once must not show the time another
                // channel of the same send spent retrying.
                let elapsed = match submitted {
                    Some(at) if d.is_final() => {
                        Duration::from_millis(d.updated_at.0.saturating_sub(at.0).max(0) as u64)
                    }
                    _ => waited,
                };
                let plugin = channels
                    .iter()
                    .find(|c| c.id == d.channel)
                    .map(|c| c.plugin.info().id.clone())
                    .unwrap_or_default();
                Outcome::from_row(d, plugin, elapsed)
            })
            .collect();
        Report::Delivered {
            event_id: event,
            duplicate: false,
            outcomes,
        }
    }

    /// Run the delivery worker until `stop` is cancelled, then let the sends
    /// in flight finish and record them.
    pub async fn run_worker(
        self: &Arc<Self>,
        scope: ClaimScope,
        stop: tokio_util::sync::CancellationToken,
    ) {
        worker::run(self.clone(), scope, stop).await
    }

    /// [`Hub::run_worker`] on a task of its own.
    pub fn spawn_worker(self: &Arc<Self>, scope: ClaimScope) -> Worker {
        let stop = tokio_util::sync::CancellationToken::new();
        let hub = self.clone();
        let task = {
            let stop = stop.clone();
            tokio::spawn(async move { hub.run_worker(scope, stop).await })
        };
        Worker { stop, task }
    }

    pub(crate) fn options(&self) -> &WorkerOptions {
        &self.options
    }

    pub(crate) fn writer(&self) -> &GroupCommit {
        &self.writer
    }

    fn in_flight(&self) -> &worker::InFlight {
        &self.in_flight
    }

    /// Tell live listeners (the stream, metrics) something that is not an
    /// event or a delivery: a tool call, a plugin change.
    pub fn publish(&self, msg: Live) {
        self.live.publish(msg);
    }

    /// Tell the callers waiting on the event how one of its deliveries went.
    pub(crate) fn tell_waiters(&self, row: &Delivery) {
        self.waiters.tell(row);
    }

    pub(crate) fn woken(&self) -> Woken<'_> {
        self.wake.woken()
    }
}

/// A running delivery worker.
pub struct Worker {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Stop claiming; sends in flight finish and are recorded (so nothing is
    /// sent twice later), and what is due later stays in the outbox.
    pub async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// A routed submission: the event to write and what listeners are told of
/// it once it has an id.
enum Prepared {
    /// Not written, for this reason (SKIP_PUSH_TITLE).
    Skipped(String),
    Event(Box<PreparedEvent>),
}

struct PreparedEvent {
    event: NewEvent,
    live: Live,
}

/// Pending, not in flight, and not due before the deadline.
fn waits_past(d: &Delivery, deadline: UnixMillis) -> bool {
    !d.is_final() && d.next_attempt_at.is_some_and(|t| t > deadline)
}

/// Run a store call off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or(Err(StoreError::WriterGone))
}
