//! The process-wide budget for guest linear memory: every store's memories
//! count against it, so that many sends at once cannot take the machine's
//! memory however small each send's own cap is (300 memory bombs at once held
//! 64 slots x 32 MiB, 1.3 GB, before there was one). Where it stops: it counts
//! linear memory only, which is what a guest can grow; the host's own
//! allocations per send are small and bounded by the send slots.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Self {
        MemoryBudget {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Take `bytes` if they fit under the limit; whether they did.
    pub fn take(&self, bytes: usize) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            });
        match taken {
            Ok(before) => {
                self.peak.fetch_max(before + bytes, Ordering::AcqRel);
                true
            }
            Err(_) => false,
        }
    }

    pub fn give(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The most ever held at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_up_to_the_limit_and_remembers_the_peak() {
        let b = MemoryBudget::new(100);
        assert!(b.take(60));
        assert!(!b.take(41), "past the limit");
        assert!(b.take(40));
        assert_eq!((b.in_use(), b.peak()), (100, 100));
        b.give(70);
        assert!(b.take(10));
        assert_eq!((b.in_use(), b.peak()), (40, 100));
        assert!(!b.take(usize::MAX), "no overflow");
    }
}
