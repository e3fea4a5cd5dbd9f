//! The delivery worker: claim due rows, send each through its channel's
//! plugin (each channel within its share of the slots, see `fair`), record
//! the outcome (group-committed), tell listeners. A caller waiting for its
//! own notification sends it the same way, in the same slots and shares
//! (`Slots::reserve`, `send_own`), without waking the worker.

mod fair;

use super::{Hub, Live, Woken, blocking};
use crate::notification::{ChannelId, EventKind};
use crate::plugin::{DeliveryError, Progress};
use crate::store::{
    AskState, Attempt, Claim, ClaimRequest, ClaimScope, Claimed, DeliveryId, DeliveryState, HubId,
    Room, StoreError, UnixMillis,
};
use fair::{Admit, FairRules, Fairness};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Sends in flight at once, across channels.
    pub concurrency: usize,
    /// How long a claimed row stays ours: past the plugin deadline, so a live
    /// send is never claimed twice; a crashed process's rows come free after it.
    pub lease: Duration,
    /// Longest sleep between looks at the outbox when nothing wakes the worker.
    pub idle_poll: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            concurrency: 64,
            lease: lease_for(Duration::from_secs(15)),
            idle_poll: Duration::from_secs(1),
        }
    }
}

/// How long a send cut short by shutdown waits before it is looked at again.
const CUT_SHORT_RETRY: Duration = Duration::from_secs(1);

/// A lease long enough for a send that runs to the sandbox deadline, plus recording it.
pub fn lease_for(deadline: Duration) -> Duration {
    deadline * 2 + Duration::from_secs(5)
}

/// How many times per lease a worker extends the leases of its sends in
/// flight: with 4, three renewals in a row can miss (a database locked for
/// longer than the 5 s busy timeout, say) before another process may take a
/// delivery that is still being sent here.
const RENEWALS_PER_LEASE: u32 = 4;

/// How long recording a sent delivery's outcome is tried again while the
/// database refuses it (locked by another process, say). Given up, the
/// delivery is sent again once its lease runs out: at least once, not
/// exactly once, so this is long; 2 minutes is 24 busy timeouts.
const RECORD_PATIENCE: Duration = Duration::from_secs(120);

/// The deliveries this hub is sending or recording right now.
///
/// A lease is a promise in wall-clock time, and a send can outlive it
/// without any crash: the outcome cannot be recorded while another process
/// holds the database past the 5 s busy timeout, the process is starved or
/// stopped (a suspended VM), or the clock steps forward. The worker's next
/// claim then takes the row again. This set, not the lease, is what keeps
/// the same process from sending a delivery twice.
#[derive(Default)]
pub(super) struct InFlight(Mutex<HashSet<DeliveryId>>);

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<DeliveryId>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ids(&self) -> Vec<DeliveryId> {
        self.lock().iter().copied().collect()
    }
}

/// The send slots and each channel's share of them, shared by the worker
/// and by waiting callers that send their own notification (`Hub::send`).
pub(super) struct Slots {
    /// How many there are.
    n: usize,
    free: Arc<Semaphore>,
    fair: Mutex<Fairness>,
    /// Whether the worker's last claim left rows waiting for room in a
    /// channel's share: a caller's own send that ends may have made it, and
    /// wakes the worker.
    worker_waits: AtomicBool,
    /// Callers' own sends, which the worker lets finish when it stops, as
    /// it does its own: a send cut off before its outcome is recorded would
    /// go out again.
    own: TaskTracker,
    /// Whether callers sent their own since the worker last gave memory back.
    sent_own: AtomicBool,
}

impl Slots {
    /// `concurrency` slots shared by `channels` configured channels.
    pub(super) fn new(concurrency: usize, channels: usize) -> Self {
        let n = concurrency.max(1);
        Slots {
            n,
            free: Arc::new(Semaphore::new(n)),
            fair: Mutex::new(Fairness::new(FairRules::for_slots(n, channels))),
            worker_waits: AtomicBool::new(false),
            own: TaskTracker::new(),
            sent_own: AtomicBool::new(false),
        }
    }

    /// The channels were reloaded: share the slots among this many.
    pub(super) fn share_among(&self, channels: usize) {
        lock(&self.fair).set_rules(FairRules::for_slots(self.n, channels));
    }

    /// Whether the worker has rows waiting for room in a channel's share.
    fn worker_waits(&self) -> bool {
        self.worker_waits.load(Ordering::Acquire)
    }

    /// What a claim at `now` may take of each channel's rows.
    pub(super) fn room(&self, now: UnixMillis) -> Room {
        lock(&self.fair).room(now)
    }

    /// A slot and room in its channel's share for each of `channels` that
    /// has both now, without waiting; none while the worker has rows
    /// waiting for room (a caller's own send would jump their queue).
    pub(super) fn reserve<'c>(
        &self,
        channels: impl Iterator<Item = &'c ChannelId>,
        now: UnixMillis,
    ) -> Reserved<'_> {
        let mut held = Vec::new();
        if !self.worker_waits() {
            let mut fair = lock(&self.fair);
            for channel in channels {
                let Ok(slot) = self.free.clone().try_acquire_owned() else {
                    break;
                };
                if fair.admit(channel, now) == Admit::Send {
                    held.push((channel.clone(), slot));
                }
            }
        }
        Reserved { slots: self, held }
    }
}

/// Send slots and places in channels' shares a caller took for its own
/// notification before writing it, so that what it leases can go at once.
/// What is not used is given back when this is dropped, also when the
/// caller goes away first.
pub(super) struct Reserved<'a> {
    slots: &'a Slots,
    held: Vec<(ChannelId, OwnedSemaphorePermit)>,
}

impl Reserved<'_> {
    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.held.len()
    }

    /// How many of each channel's deliveries a claim may take: what is held.
    pub(super) fn room(&self) -> Room {
        let mut channels: Vec<(ChannelId, usize)> = Vec::new();
        for (channel, _) in &self.held {
            match channels.iter_mut().find(|(c, _)| c == channel) {
                Some((_, n)) => *n += 1,
                None => channels.push((channel.clone(), 1)),
            }
        }
        Room {
            per_channel: Some(0),
            channels,
        }
    }

    fn take(&mut self, channel: &ChannelId) -> Option<OwnedSemaphorePermit> {
        let at = self.held.iter().position(|(c, _)| c == channel)?;
        Some(self.held.swap_remove(at).1)
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        let mut fair = lock(&self.slots.fair);
        for (channel, _) in self.held.drain(..) {
            fair.abandoned(&channel);
        }
    }
}

/// Send the deliveries a waiting caller leased with its own notification,
/// each in the slot and share it reserved, on tasks of their own: a caller
/// that goes away must not cut a send short (it would be sent again once
/// its lease ran out). One that ends wakes the worker when it may have made
/// another row claimable.
pub(super) async fn send_own(hub: &Arc<Hub>, claims: Vec<Claim>, mut reserved: Reserved<'_>) {
    let mut waiting = Waiting::default();
    for claim in claims {
        let Some(slot) = reserved.take(&claim.channel) else {
            waiting.busy.push(claim.delivery);
            continue;
        };
        let Some(sending) = Sending::start(hub, claim.delivery) else {
            lock(&hub.slots.fair).abandoned(&claim.channel);
            continue;
        };
        let hub = hub.clone();
        hub.slots.own.clone().spawn(async move {
            let again = send_admitted(hub.clone(), claim, sending, slot, true).await;
            hub.slots.sent_own.store(true, Ordering::Release);
            if again.0 || hub.slots.worker_waits() {
                hub.wake();
            }
        });
    }
    drop(reserved);
    waiting.put_back(hub).await;
}

/// Mark `claim` in flight here and admit it to its channel's share; one
/// that may not go now is noted in `waiting`, to be given back.
fn admit(hub: &Arc<Hub>, claim: &Claim, waiting: &mut Waiting) -> Option<Sending> {
    let Some(sending) = Sending::start(hub, claim.delivery) else {
        // Its lease ran out while this process still sends it or records
        // its outcome: claiming it renewed the lease, and the task that has
        // it finishes it. Not sent twice, not put back.
        tracing::warn!(
            delivery = %claim.delivery,
            "delivery claimed again while its send is still in flight here (its lease \
             ran out: the database was locked or the process stalled); it is not sent twice"
        );
        return None;
    };
    let now = hub.clock().now();
    let admit = lock(&hub.slots.fair).admit(&claim.channel, now);
    match admit {
        Admit::Send => Some(sending),
        Admit::Busy => {
            waiting.busy.push(claim.delivery);
            None
        }
        Admit::Paused { until, timeouts } => {
            waiting
                .paused
                .entry((until, timeouts, claim.channel.clone()))
                .or_default()
                .push(claim.delivery);
            None
        }
    }
}

/// Send an admitted delivery in `slot`, record it, tell listeners; in flight
/// here until then.
async fn send_admitted(
    hub: Arc<Hub>,
    claim: Claim,
    sending: Sending,
    slot: OwnedSemaphorePermit,
    log_failures: bool,
) -> LookAgain {
    let again = deliver(&hub, claim, slot, log_failures).await;
    drop(sending);
    again
}

/// A delivery marked in flight until dropped (when its task ends, however).
struct Sending {
    hub: Arc<Hub>,
    id: DeliveryId,
}

impl Sending {
    /// `None` when the delivery is in flight here already.
    fn start(hub: &Arc<Hub>, id: DeliveryId) -> Option<Sending> {
        hub.in_flight().lock().insert(id).then(|| Sending {
            hub: hub.clone(),
            id,
        })
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.hub.in_flight().lock().remove(&self.id);
    }
}

pub(super) async fn run(hub: Arc<Hub>, scope: ClaimScope, stop: CancellationToken) {
    let owner = HubId::this_process();
    if scope == ClaimScope::All {
        recover_abandoned(&hub).await;
    }
    let slots = hub.slots.free.clone();
    let mut tasks = JoinSet::new();
    let renewing = tokio::spawn(renew_leases(hub.clone(), owner));
    // Whether anything was sent since the worker last gave memory back.
    let mut sent = false;
    // The first look at the outbox happens even if `stop` came early: a
    // one-shot command with --wait 0 still makes every first attempt.
    let mut first = true;
    while first || !stop.is_cancelled() {
        first = false;
        while tasks.try_join_next().is_some() {}
        let free = slots.available_permits();
        // Claim in batches: each claim is a transaction, and many one-row
        // claims cost more than the sends they start.
        let batch = (hub.options().concurrency / 4).max(1);
        if free == 0 || (free < batch && !tasks.is_empty()) {
            tokio::select! {
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                // Callers sending their own notifications hold every slot.
                _ = slots.acquire(), if tasks.is_empty() => {}
                _ = stop.cancelled() => break,
            }
            continue;
        }
        let woken = hub.woken();
        let (now, lease) = (hub.clock().now(), hub.options().lease);
        let room = hub.slots.room(now);
        let claims = hub
            .writer()
            .claim(ClaimRequest {
                now,
                limit: free,
                lease,
                owner,
                scope: scope.clone(),
                room: room.clone(),
                only: Some(hub.channel_ids()),
            })
            .await;
        let Claimed { claims, next_due } = match claims {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("cannot read the outbox: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.cancelled() => break,
                }
                continue;
            }
        };
        // A channel took all its room (or had none): rows of it may wait,
        // and the next of its sends to end makes room for them.
        let full = room.channels.iter().any(|(_, n)| *n == 0)
            || claims.iter().any(|c| {
                room.of(&c.channel)
                    .is_some_and(|n| claims.iter().filter(|o| o.channel == c.channel).count() >= n)
            });
        hub.slots.worker_waits.store(full, Ordering::Release);
        if claims.is_empty() {
            if !rest(&hub, &mut tasks, woken, next_due, full, &mut sent, &stop).await {
                break;
            }
            continue;
        }
        sent = true;
        let mut waiting = Waiting::default();
        for claim in claims {
            let Some(sending) = admit(&hub, &claim, &mut waiting) else {
                continue;
            };
            // The semaphore is never closed.
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            // A long-running hub has no terminal that prints outcomes: its
            // log must say when a delivery fails for good.
            let log_failures = scope == ClaimScope::All;
            tasks.spawn(send_admitted(
                hub.clone(),
                claim,
                sending,
                permit,
                log_failures,
            ));
        }
        waiting.put_back(&hub).await;
    }
    // Let what is in flight finish and be recorded, so nothing is sent twice.
    while tasks.join_next().await.is_some() {}
    if scope == ClaimScope::All {
        let own = &hub.slots.own;
        own.close();
        own.wait().await;
        own.reopen();
    }
    renewing.abort();
}

/// Keep the leases of this hub's sends in flight from running out: a lease
/// bounds how long a dead process holds its rows, not how long a live one
/// may take (a send of up to the deadline, then recording it, which waits
/// for the database). Only rows still leased by `owner` are extended.
async fn renew_leases(hub: Arc<Hub>, owner: HubId) {
    let lease = hub.options().lease;
    let every = (lease / RENEWALS_PER_LEASE).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let ids = hub.in_flight().ids();
        if ids.is_empty() {
            continue;
        }
        let (store, now) = (hub.store().clone(), hub.clock().now());
        let until = now.plus(lease);
        if let Err(e) = blocking(move || store.renew_leases(&ids, owner, until)).await {
            tracing::warn!("cannot extend the leases of the sends in flight: {e}");
        }
    }
}

fn lock(fair: &Mutex<Fairness>) -> std::sync::MutexGuard<'_, Fairness> {
    fair.lock().unwrap_or_else(|e| e.into_inner())
}

/// Claimed deliveries that are not sent now, given back to the outbox
/// without an attempt (they hold no slot while they wait).
#[derive(Default)]
struct Waiting {
    /// Their channel has its share in flight.
    busy: Vec<DeliveryId>,
    /// Their channel is paused, by the pause's end, its timeouts and the channel.
    paused: BTreeMap<(UnixMillis, u32, ChannelId), Vec<DeliveryId>>,
}

impl Waiting {
    async fn put_back(self, hub: &Arc<Hub>) {
        let now = hub.clock().now();
        // Due again at once: the worker's next claim finds the channel
        // full and rests until one of its sends ends (a second's wait here
        // held back a caller whose row lost a race for the share to a
        // caller sending its own).
        if !self.busy.is_empty() {
            hub.slots.worker_waits.store(true, Ordering::Release);
            put_back(hub, self.busy, now, None).await;
        }
        for ((until, timeouts, channel), ids) in self.paused {
            let note = format!(
                "paused: channel `{channel}`'s last {timeouts} sends timed out, so its deliveries \
                 wait instead of taking send slots; it is tried again at {}",
                until.to_rfc3339()
            );
            put_back(hub, ids, until, Some(note)).await;
        }
    }
}

async fn put_back(hub: &Hub, ids: Vec<DeliveryId>, due: UnixMillis, note: Option<String>) {
    let (store, now) = (hub.store().clone(), hub.clock().now());
    let n = ids.len();
    if let Err(e) = blocking(move || store.put_back(&ids, now, due, note.as_deref())).await {
        // Their leases run out instead; nothing is lost.
        tracing::warn!("cannot give {n} deliveries back to the outbox: {e}");
    }
}

/// Wait for something to claim: a wake-up (a new event, the clock moved),
/// the next row falling due (at most `idle_poll`), or a finished send that
/// may have made a row claimable (any send, when a channel is `full`).
/// A nap that ends with nothing in flight after sends gives freed memory
/// back. `false` when the worker is told to stop.
async fn rest(
    hub: &Hub,
    tasks: &mut JoinSet<LookAgain>,
    woken: Woken<'_>,
    next_due: Option<UnixMillis>,
    full: bool,
    sent: &mut bool,
    stop: &CancellationToken,
) -> bool {
    // A full channel's rows are due already and wait for its sends to end:
    // the next due time says nothing then.
    let idle = idle_for(hub, next_due.filter(|_| !full));
    let sleep = tokio::time::sleep(idle);
    tokio::pin!(woken, sleep);
    loop {
        tokio::select! {
            _ = &mut woken => return true,
            _ = &mut sleep => {
                if tasks.is_empty() && hub.slots.own.is_empty() {
                    let own = hub.slots.sent_own.swap(false, Ordering::AcqRel);
                    if std::mem::take(sent) || own {
                        hub.store().release_memory();
                        super::memory::give_back();
                    }
                }
                return true;
            }
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if full || done.map_or(true, |again| again.0) {
                    return true;
                }
            }
            _ = stop.cancelled() => return false,
        }
    }
}

/// How long to sleep when nothing is due: until the next row falls due, at most `idle_poll`.
fn idle_for(hub: &Hub, next_due: Option<UnixMillis>) -> Duration {
    let poll = hub.options().idle_poll;
    if hub.clock().is_manual() {
        return poll;
    }
    match next_due {
        Some(t) => {
            let wait = (t.0 - hub.clock().now().0).max(1) as u64;
            Duration::from_millis(wait).min(poll)
        }
        None => poll,
    }
}

/// Whether a finished delivery may have made another row claimable: a
/// run's next row to the channel waits for it, and a retry falls due again.
/// A plain notification sent (or failed for good) frees only its slot, and
/// the worker rests only when the outbox had nothing for the slots it had
/// (or a channel was full: then any finished send wakes it). Skipping that
/// empty look saved a claim and a due-time read per lone notification.
struct LookAgain(bool);

/// Leases held by hubs that are gone (killed mid-send) come free at once.
async fn recover_abandoned(hub: &Hub) {
    let (store, now) = (hub.store().clone(), hub.clock().now());
    if let Err(e) = blocking(move || store.recover_abandoned(now)).await {
        tracing::warn!("cannot read the outbox's leases: {e}");
    }
}

/// `slot` is given back as soon as the send is done: recording the outcome
/// waits for the writer, and the next send need not wait with it.
async fn deliver(
    hub: &Hub,
    claim: Claim,
    slot: OwnedSemaphorePermit,
    log_failures: bool,
) -> LookAgain {
    let fair = &hub.slots.fair;
    let started = Instant::now();
    let in_a_run = claim.notification.event.is_some();
    let progress = Arc::new(Progress::new(claim.key.clone(), claim.parts_sent));
    let Some(channel) = hub.channel(&claim.channel) else {
        // The channel was removed after the claim (claims take only this
        // hub's channels): not an attempt, so this process does not use up
        // the delivery's tries; it is due at once for a process that has the
        // channel, and says why it waits.
        drop(slot);
        lock(fair).abandoned(&claim.channel);
        let note = format!(
            "waiting for an mcp-push process that has channel `{}` configured (process {} \
             does not)",
            claim.channel,
            std::process::id()
        );
        put_back(hub, vec![claim.delivery], hub.clock().now(), Some(note)).await;
        return LookAgain(true);
    };
    if let Some(q) = &claim.notification.question
        && let Some(why) = question_closed(hub, q.ask_id).await
    {
        // Held by quiet hours or retried past the question's end: the
        // person would be asked something already decided.
        drop(slot);
        lock(fair).abandoned(&claim.channel);
        return skip(hub, claim.delivery, &why, started.elapsed()).await;
    }
    let previous = match claim.notification.event.as_ref() {
        Some(e) if e.kind == EventKind::Update && channel.plugin.info().can_edit => {
            let (store, run_id, ch) =
                (hub.store().clone(), e.run_id.clone(), claim.channel.clone());
            blocking(move || store.last_remote_id(&run_id, &ch))
                .await
                .unwrap_or(None)
        }
        _ => None,
    };
    let question = hub.question_copy(&claim.notification, &claim.channel).await;
    let (plugin, id, settings) = (&channel.plugin, channel.id.as_str(), &channel.settings);
    let result = match (&question, &claim.notification.question) {
        // A channel that can be answered in the chat gets the question with
        // its way to answer (buttons); the reply link stays in the text.
        (Some((copy, link)), Some(q)) if plugin.can_reply() => {
            let asked = super::reply_link::chat_question(copy, q, link.clone());
            plugin
                .ask_delivery(id, settings, &asked, progress.clone())
                .await
        }
        _ => {
            let msg = question.as_ref().map_or(&claim.notification, |(c, _)| c);
            plugin
                .send_delivery(id, settings, msg, previous, progress.clone())
                .await
        }
    }
    .map(|r| r.remote_id);
    let elapsed = started.elapsed();
    drop(slot);
    if let Err(DeliveryError::Interrupted) = result {
        // Shutdown cut the send short: not an attempt, and the delivery is
        // due again shortly (not at once: until the worker stops, this
        // process would only claim and cut it again).
        lock(fair).abandoned(&claim.channel);
        tracing::info!(channel = %claim.channel, delivery = %claim.delivery, "send cut short by shutdown; it stays pending");
        let due = hub.clock().now().plus(CUT_SHORT_RETRY);
        put_back(hub, vec![claim.delivery], due, None).await;
        return LookAgain(true);
    }
    let timed_out = matches!(result, Err(DeliveryError::Timeout(_)));
    if let Some(until) = lock(fair).finished(&claim.channel, timed_out, hub.clock().now()) {
        tracing::warn!(
            channel = %claim.channel,
            "sends keep timing out; pausing the channel until {}",
            until.to_rfc3339()
        );
    }
    if let Err(e) = &result {
        tracing::info!(channel = %claim.channel, delivery = %claim.delivery, "attempt failed: {e}");
    }
    let trapped = matches!(result, Err(DeliveryError::Crashed(_)));
    let attempt = Attempt {
        delivery: claim.delivery,
        result,
        parts_sent: progress.parts_sent(),
        at: hub.clock().now(),
    };
    match record(hub, attempt).await {
        Ok(d) if log_failures && d.state == DeliveryState::Failed => {
            let again = LookAgain(in_a_run);
            tracing::warn!(
                channel = %d.channel,
                delivery = %d.id,
                event = %d.event_id,
                attempts = d.attempts,
                "delivery failed for good: {} (`mcp-push retry {}` sends it again)",
                d.last_error.as_deref().unwrap_or("no reason recorded"),
                d.id
            );
            publish_delivery(hub, d, elapsed, trapped);
            again
        }
        Ok(d) => {
            let again = LookAgain(in_a_run || d.state == DeliveryState::Pending);
            publish_delivery(hub, d, elapsed, trapped);
            again
        }
        Err(e) => {
            tracing::error!(
                delivery = %claim.delivery,
                "cannot record the outcome (the delivery stays in the outbox and will be tried again): {e}"
            );
            LookAgain(true)
        }
    }
}

/// Why question `id` is no longer asked, if it is not: decided, timed out
/// (its deadline passed, though no one has looked at it since) or
/// cancelled. A question that cannot be read is asked.
async fn question_closed(hub: &Hub, id: crate::model::AskId) -> Option<String> {
    let store = hub.store().clone();
    let ask = blocking(move || store.ask(id)).await.ok().flatten()?;
    let now = hub.clock().now();
    let state = match ask.state {
        AskState::Open if now < ask.deadline => return None,
        AskState::Open | AskState::TimedOut => "timed out",
        AskState::Answered => "answered",
        AskState::Cancelled => "cancelled",
    };
    Some(format!(
        "not sent: question {id} was already {state} when its turn came"
    ))
}

/// Close a delivery unsent, and tell listeners as for an attempt.
async fn skip(hub: &Hub, id: DeliveryId, why: &str, elapsed: Duration) -> LookAgain {
    let (store, why) = (hub.store().clone(), why.to_string());
    let now = hub.clock().now();
    let closed = blocking(move || {
        store.record_not_sent(id, DeliveryState::Skipped, &why, now)?;
        store.delivery(id)
    })
    .await;
    match closed {
        Ok(Some(d)) => publish_delivery(hub, d, elapsed, false),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(delivery = %id, "cannot close the delivery unsent (it stays in the outbox): {e}")
        }
    }
    LookAgain(true)
}

/// Record the attempt, trying again while the database refuses it for a
/// reason that passes (locked, busy, an I/O error): an outcome that is lost
/// after the send went out means the delivery is sent a second time once
/// its lease runs out. The lease is renewed meanwhile (see `renew_leases`).
async fn record(hub: &Hub, attempt: Attempt) -> Result<crate::store::Delivery, StoreError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        match hub.writer().record(attempt.clone()).await {
            Err(e) if passes(&e) && started.elapsed() + pause < RECORD_PATIENCE => {
                tracing::warn!(
                    delivery = %attempt.delivery,
                    "cannot record the outcome yet, trying again in {} ms: {e}",
                    pause.as_millis()
                );
                tokio::time::sleep(pause).await;
                // Up to 1 s: the busy timeout already waits 5 s per try.
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            done => return done,
        }
    }
}

/// Whether trying the same write again later can succeed.
fn passes(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Locked { .. }
            | StoreError::Sqlite { .. }
            | StoreError::Open { .. }
            | StoreError::PostgresDown { .. }
            | StoreError::Postgres { .. }
    )
}

fn publish_delivery(hub: &Hub, d: crate::store::Delivery, elapsed: Duration, trapped: bool) {
    let next_attempt_at = (d.state == DeliveryState::Pending)
        .then_some(d.next_attempt_at)
        .flatten();
    hub.tell_waiters(&d);
    hub.publish(Live::Delivery {
        delivery_id: d.id,
        event_id: d.event_id,
        channel: d.channel,
        state: d.state,
        attempts: d.attempts,
        error: d.last_error.filter(|_| d.state != DeliveryState::Sent),
        remote_id: d.remote_id,
        next_attempt_at,
        elapsed_ms: elapsed.as_millis() as u64,
        trapped,
        at: hub.clock().now(),
    })
}
