//! Group commit: many callers, one writer thread, one transaction (and one
//! WAL sync) per batch. Each caller still returns only once its own write is
//! durable, so write-ahead holds; the sync cost is shared by the batch.
//!
//! Appends (new events) and records (send outcomes) both go through here, so
//! a busy hub makes a few large transactions instead of many small ones; on
//! a backend that can (both do), a turn's appends, the leases its callers
//! ask of them and its outcomes are one transaction.

use super::reply_wait::ReplyWait;
use super::{
    Appended, Attempt, Claim, ClaimRequest, ClaimScope, Delivery, NewEvent, Room, Store,
    StoreError, Target, TurnWrites, TurnWritten, UnixMillis,
};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

enum Job {
    Append(Box<NewEvent>, oneshot::Sender<Result<Appended, StoreError>>),
    AppendClaim(
        Box<NewEvent>,
        ClaimRequest,
        oneshot::Sender<Result<Leased, StoreError>>,
    ),
    Record(Attempt, oneshot::Sender<Result<Delivery, StoreError>>),
    Claim(ClaimRequest, oneshot::Sender<Result<Claimed, StoreError>>),
}

/// What a claim took, and when it took fewer rows than it could, when the
/// outbox next has something due: the worker then sleeps until that time,
/// and asking in the same turn of the writer spares it a trip to a
/// blocking thread (two thread switches) each time it goes idle.
#[derive(Debug)]
pub struct Claimed {
    pub claims: Vec<Claim>,
    /// `None` when nothing pending is left (or the claim was full).
    pub next_due: Option<UnixMillis>,
}

/// What [`GroupCommit::append_and_claim`] wrote and leased.
#[derive(Debug)]
pub struct Leased {
    pub appended: Appended,
    /// The event's deliveries this hub now holds (none for a duplicate).
    pub claims: Vec<Claim>,
    /// All the event's deliveries as they stand after the claim (empty
    /// when they cannot be read: the caller reads them itself then).
    pub rows: Vec<Delivery>,
}

/// What the writer thread calls, beside writing: things only that thread
/// can do for itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriterHooks {
    /// As it starts (the hub moves it to its own core).
    pub start: Option<fn()>,
    /// Once it has had nothing to write for [`IDLE_AFTER`] since it last
    /// wrote (the hub gives back what the thread's allocator keeps).
    pub idle: Option<fn()>,
}

pub struct GroupCommit {
    tx: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    replies: ReplyWait,
}

impl GroupCommit {
    /// `max_batch` bounds how many writes share one transaction.
    pub fn new(store: Arc<dyn Store>, max_batch: usize) -> Self {
        Self::with_hooks(store, max_batch, WriterHooks::default())
    }

    /// [`GroupCommit::new`], with calls on the writer thread (see
    /// [`WriterHooks`]).
    pub fn with_hooks(store: Arc<dyn Store>, max_batch: usize, hooks: WriterHooks) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("mcp-push-store-writer".into())
            .spawn(move || {
                if let Some(start) = hooks.start {
                    start();
                }
                write_loop(store, rx, max_batch.max(1), hooks.idle)
            })
            .expect("cannot start the store writer thread");
        GroupCommit {
            tx: Some(tx),
            writer: Some(writer),
            replies: ReplyWait::default(),
        }
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(job)
            .map_err(|_| StoreError::WriterGone)
    }

    /// Hand the writer the job `make` builds around its answer's sender, and
    /// wait for the answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(make(reply))?;
        self.replies
            .answer(answer)
            .await
            .ok_or(StoreError::WriterGone)?
    }

    /// Resolves once the event is committed.
    pub async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        self.ask(|reply| Job::Append(Box::new(event), reply)).await
    }

    /// Blocks until the event is committed (for callers outside an async runtime).
    pub fn append_blocking(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Append(Box::new(event), reply))?;
        answer.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }

    /// Resolves once the event is committed, with as many of its due
    /// deliveries leased as `claim` allows (its scope is replaced by the
    /// event) and the rows read back, all in one turn of the writer: a caller
    /// that sends its own notification saves the worker's wake-up, its claim
    /// and a read, three trips between threads.
    pub async fn append_and_claim(
        &self,
        event: NewEvent,
        claim: ClaimRequest,
    ) -> Result<Leased, StoreError> {
        self.ask(|reply| Job::AppendClaim(Box::new(event), claim, reply))
            .await
    }

    /// Resolves once the outcome is committed, with the delivery as it now stands.
    pub async fn record(&self, attempt: Attempt) -> Result<Delivery, StoreError> {
        self.ask(|reply| Job::Record(attempt, reply)).await
    }
}

impl GroupCommit {
    /// Claims go through the writer too: one thread writing means no
    /// connection ever sleeps in SQLite's busy handler waiting for another.
    pub async fn claim(&self, request: ClaimRequest) -> Result<Claimed, StoreError> {
        self.ask(|reply| Job::Claim(request, reply)).await
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// How long the writer waits with nothing to write before its idle hook.
const IDLE_AFTER: Duration = Duration::from_secs(1);

/// How long the writer looks for its next job without sleeping, when the
/// last one came within that time. Handing a job to a sleeping thread costs
/// both sides a wake-up (a futex call for the caller, the scheduler's switch
/// for the writer: 17 to 36 µs each way on the 2-core development machine),
/// and a lone caller's notification is two jobs (its event, then its
/// outcome) about 150 µs apart. Only while jobs keep coming that fast: a
/// wait that runs out puts the writer back to sleeping until they do again,
/// so an idle hub, or one that sends now and then, does not spin.
const SPIN: Duration = Duration::from_micros(300);

fn write_loop(store: Arc<dyn Store>, rx: Receiver<Job>, max_batch: usize, idle: Option<fn()>) {
    // Waiting without a timeout once the hook has run: an idle hub's writer
    // never wakes.
    let mut wrote = false;
    let mut spin = false;
    loop {
        let waiting = Instant::now();
        let spun = if spin { spin_for(&rx, SPIN) } else { None };
        let next = match (spun, idle.filter(|_| wrote)) {
            (Some(job), _) => Some(job),
            (None, Some(hook)) => match rx.recv_timeout(IDLE_AFTER) {
                Err(RecvTimeoutError::Timeout) => {
                    wrote = false;
                    spin = false;
                    hook();
                    continue;
                }
                next => next.ok(),
            },
            (None, None) => rx.recv().ok(),
        };
        spin = waiting.elapsed() < SPIN;
        let Some(first) = next else { break };
        wrote = true;
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut events = Vec::new();
        let mut appended = Vec::new();
        let mut attempts = Vec::new();
        let mut recorded = Vec::new();
        let mut claims = Vec::new();
        for job in jobs {
            match job {
                Job::Append(e, r) => {
                    events.push(*e);
                    appended.push(AppendReply::Plain(r));
                }
                Job::AppendClaim(e, c, r) => {
                    events.push(*e);
                    appended.push(AppendReply::Claim(c, r));
                }
                Job::Record(a, r) => {
                    attempts.push(a);
                    recorded.push(r);
                }
                Job::Claim(c, r) => claims.push((c, r)),
            }
        }
        let recorded_together = append(&*store, events, appended, &attempts);
        if !attempts.is_empty() {
            let results = recorded_together.unwrap_or_else(|| store.record(&attempts));
            for (reply, result) in recorded.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        // After the records, so the rows they freed can be claimed at once.
        for (c, reply) in claims {
            let claimed = store.claim(&c).map(|claims| {
                // A failed read only means sleeping the worker's longest nap.
                let next_due = match claims.len() < c.limit {
                    true => store.next_due().ok().flatten(),
                    false => None,
                };
                Claimed { claims, next_due }
            });
            let _ = reply.send(claimed);
        }
    }
}

/// The next job if one comes within `limit`, looking without sleeping.
fn spin_for(rx: &Receiver<Job>, limit: Duration) -> Option<Job> {
    let until = Instant::now() + limit;
    loop {
        for _ in 0..64 {
            match rx.try_recv() {
                Ok(job) => return Some(job),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
        // A thread that is ready to run (the runtime's worker, on a machine
        // with few cores) gets the core: spinning must not slow the callers
        // it waits for.
        std::thread::yield_now();
        if Instant::now() >= until {
            return None;
        }
    }
}

/// Write the turn's events and answer their callers: with the outcomes and
/// the leases in one transaction where the backend can (then the outcomes'
/// answers are returned), apart where it cannot, or where that failed for
/// one event's sake (each event then gets its own answer).
fn append(
    store: &dyn Store,
    events: Vec<NewEvent>,
    appended: Vec<AppendReply>,
    attempts: &[Attempt],
) -> Option<Vec<Result<Delivery, StoreError>>> {
    if events.is_empty() {
        return None;
    }
    match write_together(store, &events, &appended, attempts) {
        Some(Written::Together(w)) => {
            let results = w.appended.into_iter().map(Ok).collect();
            answer_appends(store, appended, results, Some(w.leased));
            Some(w.recorded)
        }
        Some(Written::Refused(e)) => {
            let results = events.iter().map(|_| Err(e.database_wide_copy())).collect();
            answer_appends(store, appended, results, None);
            Some(
                attempts
                    .iter()
                    .map(|_| Err(e.database_wide_copy()))
                    .collect(),
            )
        }
        None => {
            let results = append_all(store, events);
            answer_appends(store, appended, results, None);
            None
        }
    }
}

/// What [`write_together`] did.
enum Written {
    Together(TurnWritten),
    /// The database refused the whole turn (locked, damaged): every event
    /// and attempt gets this answer, as each would apart.
    Refused(StoreError),
}

/// The turn in one transaction ([`EventLog::write_turn`](super::EventLog::write_turn)),
/// or `None` for the calls apart: the backend does not combine, or one
/// event failed the transaction.
fn write_together(
    store: &dyn Store,
    events: &[NewEvent],
    replies: &[AppendReply],
    attempts: &[Attempt],
) -> Option<Written> {
    let lease =
        |appended: &[Appended]| {
            lease_request(replies.iter().zip(appended).filter_map(
                |(reply, appended)| match reply {
                    AppendReply::Claim(request, _) => Some((request, appended)),
                    AppendReply::Plain(_) => None,
                },
            ))
        };
    let turn = TurnWrites {
        events,
        lease: &lease,
        attempts,
    };
    match store.write_turn(turn)? {
        Ok(written) => Some(Written::Together(written)),
        Err(e) if e.is_database_wide() => Some(Written::Refused(e)),
        Err(_) => None,
    }
}

/// Who waits for an appended event, and whether they lease its deliveries.
enum AppendReply {
    Plain(oneshot::Sender<Result<Appended, StoreError>>),
    Claim(ClaimRequest, oneshot::Sender<Result<Leased, StoreError>>),
}

/// An appended event whose caller asked to lease its deliveries.
struct Leasing {
    request: ClaimRequest,
    reply: oneshot::Sender<Result<Leased, StoreError>>,
    appended: Appended,
}

/// Answer each append; those that asked lease their events' due deliveries
/// in one claim for the whole batch (a claim is a transaction, and 64
/// callers each claiming their own cost more than their sends).
fn answer_appends(
    store: &dyn Store,
    replies: Vec<AppendReply>,
    results: Vec<Result<Appended, StoreError>>,
    leased: Option<Vec<Claim>>,
) {
    let mut leasing = Vec::new();
    for (reply, result) in replies.into_iter().zip(results) {
        match (reply, result) {
            (AppendReply::Plain(reply), result) => {
                let _ = reply.send(result);
            }
            (AppendReply::Claim(_, reply), Err(e)) => {
                let _ = reply.send(Err(e));
            }
            (AppendReply::Claim(request, reply), Ok(appended)) => {
                leasing.push(Leasing {
                    request,
                    reply,
                    appended,
                });
            }
        }
    }
    if leasing.is_empty() {
        return;
    }
    let mut claims = match leased {
        Some(claims) => claims,
        None => lease(store, &leasing),
    };
    for Leasing {
        request,
        reply,
        appended,
    } in leasing
    {
        let (mine, rest) = claims
            .into_iter()
            .partition(|c: &Claim| c.event_id == appended.event_id);
        claims = rest;
        let rows = match appended.duplicate_of {
            Some(_) => Vec::new(),
            None => store
                .deliveries_for(&Target::Event(appended.event_id))
                .unwrap_or_default(),
        };
        let sent = reply.send(Ok(Leased {
            appended,
            claims: mine,
            rows,
        }));
        // The caller went away before it could send what it leased: give the
        // rows back now rather than when their leases run out.
        if let Err(Ok(Leased { claims, .. })) = sent
            && !claims.is_empty()
        {
            let ids: Vec<_> = claims.iter().map(|c| c.delivery).collect();
            let _ = store.put_back(&ids, request.now, request.now, None);
        }
    }
}

/// One claim over the new events' deliveries, each caller's bounded by
/// the room it holds (the slots and shares it reserved). The events are
/// durable whatever happens here: a claim that fails leaves their
/// deliveries to the worker (and a failed read, the callers to read them).
fn lease(store: &dyn Store, leasing: &[Leasing]) -> Vec<Claim> {
    let request = lease_request(leasing.iter().map(|l| (&l.request, &l.appended)));
    match request {
        Some(request) => store.claim(&request).unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The claim that leases what each caller asked of its new event's rows
/// (`None` when there is nothing to lease).
fn lease_request<'a>(
    asked: impl Iterator<Item = (&'a ClaimRequest, &'a Appended)>,
) -> Option<ClaimRequest> {
    let mut ids = Vec::new();
    let mut room = Room {
        per_channel: Some(0),
        channels: Vec::new(),
    };
    let mut last = None;
    for (request, appended) in asked {
        last = Some(request);
        if appended.duplicate_of.is_some() {
            continue;
        }
        for (channel, id) in &appended.deliveries {
            // Only the rows of channels the caller holds room for: another
            // caller's room must not lease a row nobody reserved for.
            if request.room.of(channel).is_none_or(|n| n == 0) {
                continue;
            }
            ids.push(*id);
            match room.channels.iter_mut().find(|(c, _)| c == channel) {
                Some((_, total)) => *total += 1,
                None => room.channels.push((channel.clone(), 1)),
            }
        }
    }
    if ids.is_empty() {
        return None;
    }
    Some(ClaimRequest {
        limit: ids.len(),
        scope: ClaimScope::Deliveries(ids.into()),
        room,
        only: None,
        ..last?.clone()
    })
}

fn append_all(store: &dyn Store, events: Vec<NewEvent>) -> Vec<Result<Appended, StoreError>> {
    match store.append_batch(events.clone()) {
        Ok(done) => done.into_iter().map(Ok).collect(),
        // A locked or damaged database fails every event alike; retrying
        // one by one would only make each caller wait out the busy timeout again.
        Err(e) if e.is_database_wide() => {
            events.iter().map(|_| Err(e.database_wide_copy())).collect()
        }
        // One bad event must not fail its neighbours: write them one by one
        // so each caller gets its own answer.
        Err(_) => events.into_iter().map(|e| store.append(e)).collect(),
    }
}
