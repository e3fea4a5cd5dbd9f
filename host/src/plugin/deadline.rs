//! Call deadlines, kept by the epoch thread.
//!
//! A tokio timer wakes the runtime's driver (a write to an eventfd, then an
//! extra turn of the event loop) whenever it becomes the earliest timer, which
//! every call's deadline does on an otherwise quiet runtime: that was a few
//! microseconds of every send. Deadlines here cost a lock to register and to
//! drop; the epoch thread, which ticks anyway, wakes the ones that expired.
//! They fire up to one tick late, which is nothing next to a 15 s deadline.
//!
//! The thread ticks only while there is something to tick for: a guest
//! running ([`Deadlines::running`]) or a deadline waiting. An idle process
//! (an `mcp` server between an agent's calls, most of the day) would
//! otherwise wake 100 times a second for nothing.
//!
//! At shutdown every call's deadline is brought forward to a common cut-off
//! ([`Deadlines::cut`]), so a looping guest cannot hold the process open for
//! the rest of its own deadline.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Poll, Waker};
use std::time::Instant;

/// The deadline passed before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

#[derive(Default)]
pub(crate) struct Deadlines {
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, (Instant, Waker)>>,
    /// The shutdown cut-off, once there is one.
    cut: OnceLock<Instant>,
    /// Guests running now: calls, and spares being instantiated.
    running: AtomicUsize,
    /// The epoch thread, woken when a guest starts or a deadline is set.
    ticker: OnceLock<std::thread::Thread>,
    /// Epochs advanced so far.
    pub ticks: AtomicU64,
}

/// A guest is running until this is dropped: the epoch thread ticks.
pub(crate) struct Running<'a>(&'a Deadlines);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Deadlines {
    /// Mark a guest running (wasm may execute: it must be interruptible)
    /// until the guard is dropped.
    pub fn running(&self) -> Running<'_> {
        if self.running.fetch_add(1, Ordering::SeqCst) == 0 {
            self.wake_ticker();
        }
        Running(self)
    }

    /// Nothing to tick for: no guest running and no deadline waiting.
    pub fn idle(&self) -> bool {
        self.running.load(Ordering::SeqCst) == 0
            && self
                .waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
    }

    /// The thread to wake when there is something to tick for.
    pub fn set_ticker(&self, thread: std::thread::Thread) {
        let _ = self.ticker.set(thread);
    }

    fn wake_ticker(&self) {
        if let Some(t) = self.ticker.get() {
            t.unpark();
        }
    }

    /// Run `fut` until it finishes or `deadline` (or the cut-off) passes,
    /// whichever is first.
    pub async fn within<F: Future>(&self, deadline: Instant, fut: F) -> Result<F::Output, Elapsed> {
        let mut fut = pin!(fut);
        let mut entry = Entry {
            deadlines: self,
            id: None,
        };
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(out));
            }
            let deadline = self.effective(deadline);
            if Instant::now() >= deadline {
                return Poll::Ready(Err(Elapsed));
            }
            entry.register(deadline, cx.waker());
            // A cut made between the check above and the registration did
            // not see this entry: look again now that it is registered.
            if self.effective(deadline) < deadline {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }

    /// Bring every deadline, present and future, forward to `at` at the
    /// latest. Only the first cut counts.
    pub fn cut(&self, at: Instant) {
        if self.cut.set(at).is_err() {
            return;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for (deadline, _) in waiting.values_mut() {
            *deadline = (*deadline).min(at);
        }
    }

    /// The cut-off, if the process is shutting down.
    pub fn cut_at(&self) -> Option<Instant> {
        self.cut.get().copied()
    }

    /// `deadline`, or the cut-off when that comes first.
    pub fn effective(&self, deadline: Instant) -> Instant {
        match self.cut_at() {
            Some(cut) => deadline.min(cut),
            None => deadline,
        }
    }

    /// Wake every future whose deadline is `now` or earlier (the epoch thread
    /// calls this on every tick).
    pub fn expire(&self, now: Instant) {
        let mut due = Vec::new();
        {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            if waiting.is_empty() {
                return;
            }
            waiting.retain(|_, (at, waker)| {
                if *at <= now {
                    due.push(waker.clone());
                    false
                } else {
                    true
                }
            });
        }
        // Woken outside the lock: a waker may run code that registers again.
        for waker in due {
            waker.wake();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.waiting.lock().unwrap().len()
    }
}

/// One future's place in [`Deadlines`], removed when the future is dropped.
struct Entry<'a> {
    deadlines: &'a Deadlines,
    id: Option<(u64, Waker)>,
}

impl Entry<'_> {
    fn register(&mut self, deadline: Instant, waker: &Waker) {
        if let Some((_, known)) = &self.id
            && known.will_wake(waker)
        {
            return;
        }
        let id = match &self.id {
            Some((id, _)) => *id,
            None => self.deadlines.next_id.fetch_add(1, Ordering::Relaxed),
        };
        let first = {
            let mut waiting = self
                .deadlines
                .waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            waiting.insert(id, (deadline, waker.clone()));
            waiting.len() == 1
        };
        if first {
            self.deadlines.wake_ticker();
        }
        self.id = Some((id, waker.clone()));
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if let Some((id, _)) = self.id.take() {
            self.deadlines
                .waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn finishes_before_or_expires_at_the_deadline() {
        let deadlines = Arc::new(Deadlines::default());
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(deadlines.within(far, async { 7 }).await, Ok(7));
        assert_eq!(
            deadlines.len(),
            0,
            "a finished future leaves nothing behind"
        );

        // A future that never finishes ends when the ticker expires it.
        let ticker = {
            let deadlines = deadlines.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    std::thread::sleep(Duration::from_millis(5));
                    deadlines.expire(Instant::now());
                }
            })
        };
        let soon = Instant::now() + Duration::from_millis(50);
        let started = Instant::now();
        let out = deadlines.within(soon, std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed));
        assert!(Instant::now() >= soon, "not before the deadline");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(deadlines.len(), 0);
        ticker.join().unwrap();
    }

    #[tokio::test]
    async fn a_cut_brings_waiting_and_later_deadlines_forward() {
        let deadlines = Arc::new(Deadlines::default());
        let far = Instant::now() + Duration::from_secs(3600);
        let waiting = {
            let deadlines = deadlines.clone();
            tokio::spawn(async move { deadlines.within(far, std::future::pending::<()>()).await })
        };
        while deadlines.len() == 0 {
            tokio::task::yield_now().await;
        }
        let ticker = {
            let deadlines = deadlines.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    std::thread::sleep(Duration::from_millis(5));
                    deadlines.expire(Instant::now());
                }
            })
        };
        deadlines.cut(Instant::now());
        assert_eq!(
            waiting.await.unwrap(),
            Err(Elapsed),
            "the waiting call is cut"
        );
        let later = deadlines.within(far, std::future::pending::<()>()).await;
        assert_eq!(later, Err(Elapsed), "a call after the cut ends at once");
        assert_eq!(deadlines.effective(far), deadlines.cut_at().unwrap());
        ticker.join().unwrap();
    }

    #[tokio::test]
    async fn a_dropped_future_unregisters() {
        let deadlines = Deadlines::default();
        let far = Instant::now() + Duration::from_secs(60);
        let fut = deadlines.within(far, std::future::pending::<()>());
        // Polled once (registers), then dropped.
        let out = tokio::time::timeout(Duration::from_millis(10), fut).await;
        assert!(out.is_err());
        assert_eq!(deadlines.len(), 0);
    }
}
