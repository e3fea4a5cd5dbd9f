//! Group commit: many callers, one writer thread, one transaction (and one
//! WAL sync) per batch. Each caller still returns only once its own event is
//! durable, so write-ahead holds; the sync cost is shared by the batch.

use super::{Appended, NewEvent, Store, StoreError};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

type Job = (NewEvent, SyncSender<Result<Appended, StoreError>>);

pub struct GroupCommit {
    tx: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// `max_batch` bounds how long the first caller of a batch waits for the others.
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

    /// Blocks until the event is committed. Async callers use `spawn_blocking`.
    pub fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send((event, reply))
            .map_err(|_| StoreError::WriterGone)?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
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
        let (events, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
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
}
