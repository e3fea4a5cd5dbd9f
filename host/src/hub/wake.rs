//! Waking the delivery worker: "something may be due now" (a new event, a
//! retry asked for, channels reloaded, the clock moved), and waiting for
//! that. In-process today: one hub wakes its own worker. With a networked
//! store, hubs on other machines must wake each other (PostgreSQL's
//! LISTEN/NOTIFY); that is another [`Wakeup`], and the worker does not change.

use std::future::Future;
use std::pin::Pin;
use tokio::sync::Notify;

/// A wait for the next wake-up, as [`Wakeup::woken`] returns it.
pub type Woken<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Wakeup: Send + Sync {
    /// Wake the worker; one that is not waiting now finds its next wait over at once.
    fn wake(&self);

    /// Ends at the next wake-up. The worker takes it before it looks at the
    /// outbox, and waits on it after, so a wake-up during the look is not lost.
    fn woken(&self) -> Woken<'_>;
}

/// The in-process wake-up: a tokio [`Notify`], which keeps one wake-up for a
/// worker not waiting yet.
#[derive(Default)]
pub struct LocalWakeup(Notify);

impl Wakeup for LocalWakeup {
    fn wake(&self) {
        self.0.notify_one();
    }

    fn woken(&self) -> Woken<'_> {
        Box::pin(self.0.notified())
    }
}
