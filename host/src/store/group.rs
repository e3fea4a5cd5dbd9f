//! Group commit: many callers, one writer thread, one transaction (and one
//! WAL sync) per batch. Each caller still returns only once its own write is
//! durable, so write-ahead holds; the sync cost is shared by the batch.
//!
//! Appends (new events) and records (send outcomes) both go through here, so
//! a busy hub makes a few large transactions instead of many small ones.

use super::{
    Appended, Attempt, Claim, ClaimRequest, Delivery, NewEvent, Store, StoreError, UnixMillis,
};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

enum Job {
    Append(Box<NewEvent>, oneshot::Sender<Result<Appended, StoreError>>),
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

pub struct GroupCommit {
    tx: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// `max_batch` bounds how many writes share one transaction.
    pub fn new(store: Arc<dyn Store>, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("mcp-push-store-writer".into())
            .spawn(move || write_loop(store, rx, max_batch.max(1)))
            .expect("cannot start the store writer thread");
        GroupCommit {
            tx: Some(tx),
            writer: Some(writer),
        }
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(job)
            .map_err(|_| StoreError::WriterGone)
    }

    /// Resolves once the event is committed.
    pub async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Append(Box::new(event), reply))?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Blocks until the event is committed (for callers outside an async runtime).
    pub fn append_blocking(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Append(Box::new(event), reply))?;
        answer.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }

    /// Resolves once the outcome is committed, with the delivery as it now stands.
    pub async fn record(&self, attempt: Attempt) -> Result<Delivery, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Record(attempt, reply))?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

impl GroupCommit {
    /// Claims go through the writer too: one thread writing means no
    /// connection ever sleeps in SQLite's busy handler waiting for another.
    pub async fn claim(&self, request: ClaimRequest) -> Result<Claimed, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Claim(request, reply))?;
        answer.await.map_err(|_| StoreError::WriterGone)?
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

fn write_loop(store: Arc<dyn Store>, rx: Receiver<Job>, max_batch: usize) {
    while let Ok(first) = rx.recv() {
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
                    appended.push(r);
                }
                Job::Record(a, r) => {
                    attempts.push(a);
                    recorded.push(r);
                }
                Job::Claim(c, r) => claims.push((c, r)),
            }
        }
        if !events.is_empty() {
            append_all(&*store, events, appended);
        }
        if !attempts.is_empty() {
            let results = store.record(&attempts);
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

type AppendReply = oneshot::Sender<Result<Appended, StoreError>>;

fn append_all(store: &dyn Store, events: Vec<NewEvent>, replies: Vec<AppendReply>) {
    match store.append_batch(events.clone()) {
        Ok(done) => {
            for (reply, result) in replies.into_iter().zip(done) {
                let _ = reply.send(Ok(result));
            }
        }
        // A locked or damaged database fails every event alike; retrying
        // one by one would only make each caller wait out the busy timeout again.
        Err(e) if e.is_database_wide() => {
            for reply in replies {
                let _ = reply.send(Err(e.database_wide_copy()));
            }
        }
        // One bad event must not fail its neighbours: write them one by one
        // so each caller gets its own answer.
        Err(_) => {
            for (reply, event) in replies.into_iter().zip(events) {
                let _ = reply.send(store.append(event));
            }
        }
    }
}
