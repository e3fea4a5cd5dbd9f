//! The hub's idea of now. Quiet hours, coalescing and retries read it, so a
//! test can move time instead of waiting for it.

use crate::store::UnixMillis;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone)]
pub struct Clock(Inner);

#[derive(Clone)]
enum Inner {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Inner::System)
    }

    /// A clock that stands still until moved (tests).
    pub fn manual(start: UnixMillis) -> Self {
        Clock(Inner::Manual(Arc::new(AtomicI64::new(start.0))))
    }

    pub fn now(&self) -> UnixMillis {
        match &self.0 {
            Inner::System => UnixMillis::now(),
            Inner::Manual(t) => UnixMillis(t.load(Ordering::SeqCst)),
        }
    }

    /// Move a manual clock to `to`; a system clock cannot be moved.
    pub fn set(&self, to: UnixMillis) {
        if let Inner::Manual(t) = &self.0 {
            t.store(to.0, Ordering::SeqCst);
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self.0, Inner::Manual(_))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}
