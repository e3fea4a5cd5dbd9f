//! Who waits for which event: each delivery outcome goes straight to the
//! callers waiting on its event, and to no one else.
//!
//! The live stream carries the same news, but a caller waiting on it
//! receives (and clones) every message of every event: with 64 callers
//! waiting, each outcome was copied 64 times, with its strings, and 63 of
//! the copies thrown away.

use crate::store::{DeliveryId, DeliveryState, EventId, UnixMillis};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// What a waiting caller needs to know of one delivery's attempt.
#[derive(Debug, Clone, Copy)]
pub struct News {
    pub delivery: DeliveryId,
    pub state: DeliveryState,
    pub next_attempt_at: Option<UnixMillis>,
}

type Senders = Vec<(u64, mpsc::UnboundedSender<News>)>;

#[derive(Default)]
pub struct Waiters {
    by_event: Mutex<HashMap<EventId, Senders>>,
    next_id: AtomicU64,
}

impl Waiters {
    /// Hear of `event`'s deliveries until the returned guard is dropped.
    pub fn wait_for(&self, event: EventId) -> Waiting<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.by_event)
            .entry(event)
            .or_default()
            .push((id, tx));
        Waiting {
            waiters: self,
            event,
            id,
            rx,
        }
    }

    /// Tell the callers waiting on `event` (if any).
    pub fn tell(&self, event: EventId, news: News) {
        if let Some(senders) = lock(&self.by_event).get(&event) {
            for (_, tx) in senders {
                let _ = tx.send(news);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One caller's place in [`Waiters`]; leaves it when dropped.
pub struct Waiting<'a> {
    waiters: &'a Waiters,
    event: EventId,
    id: u64,
    rx: mpsc::UnboundedReceiver<News>,
}

impl Waiting<'_> {
    /// The next outcome of the event's deliveries.
    pub async fn next(&mut self) -> Option<News> {
        self.rx.recv().await
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut map = lock(&self.waiters.by_event);
        if let Some(senders) = map.get_mut(&self.event) {
            senders.retain(|(id, _)| *id != self.id);
            if senders.is_empty() {
                map.remove(&self.event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn news(id: i64) -> News {
        News {
            delivery: DeliveryId(id),
            state: DeliveryState::Sent,
            next_attempt_at: None,
        }
    }

    #[tokio::test]
    async fn only_the_events_waiters_hear_and_a_dropped_waiter_leaves() {
        let waiters = Waiters::default();
        let mut a = waiters.wait_for(EventId(1));
        let mut b = waiters.wait_for(EventId(2));
        waiters.tell(EventId(1), news(10));
        waiters.tell(EventId(3), news(30));
        assert_eq!(a.next().await.unwrap().delivery, DeliveryId(10));
        assert!(b.rx.try_recv().is_err());
        drop(a);
        drop(b);
        assert!(lock(&waiters.by_event).is_empty());
    }
}
