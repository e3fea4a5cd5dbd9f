//! Who waits for which event: each delivery outcome goes straight to the
//! callers waiting on its event, and to no one else.
//!
//! The live stream carries the same news, but a caller waiting on it
//! receives (and clones) every message of every event: with 64 callers
//! waiting, each outcome was copied 64 times, with its strings, and 63 of
//! the copies thrown away.

use crate::store::{Delivery, EventId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// One delivery's row as its attempt's outcome was recorded: a caller
/// waiting on the event builds its report from these rows instead of reading
/// them back (a trip to a blocking thread and two queries per outcome).
#[derive(Debug, Clone)]
pub struct News {
    pub row: Arc<Delivery>,
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

    /// Tell the callers waiting on the row's event (if any) how it stands.
    pub fn tell(&self, row: &Delivery) {
        if let Some(senders) = lock(&self.by_event).get(&row.event_id) {
            let news = News {
                row: Arc::new(row.clone()),
            };
            for (_, tx) in senders {
                let _ = tx.send(news.clone());
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

    use crate::notification::ChannelId;
    use crate::store::{DeliveryId, DeliveryState, UnixMillis};

    fn row(id: i64, event: i64) -> Delivery {
        Delivery {
            id: DeliveryId(id),
            event_id: EventId(event),
            channel: ChannelId::new("ops").unwrap(),
            state: DeliveryState::Sent,
            attempts: 1,
            next_attempt_at: None,
            last_error: None,
            remote_id: None,
            updated_at: UnixMillis(1),
        }
    }

    #[tokio::test]
    async fn only_the_events_waiters_hear_and_a_dropped_waiter_leaves() {
        let waiters = Waiters::default();
        let mut a = waiters.wait_for(EventId(1));
        let mut b = waiters.wait_for(EventId(2));
        waiters.tell(&row(10, 1));
        waiters.tell(&row(30, 3));
        assert_eq!(a.next().await.unwrap().row.id, DeliveryId(10));
        assert!(b.rx.try_recv().is_err());
        drop(a);
        drop(b);
        assert!(lock(&waiters.by_event).is_empty());
    }
}
