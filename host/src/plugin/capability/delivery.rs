//! The `delivery` capability: what the host keeps for a delivery across its
//! attempts (a stable key, the parts of a split message already sent, a
//! larger request budget).
//!
//! Nothing here depends on a secret's value: the key comes from the store's
//! ids, the parts count from the component itself.

use super::context::CallContext;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// One delivery as the send sees it, shared with the caller so that the
/// parts count survives a send that fails part-way.
#[derive(Debug, Default)]
pub struct Progress {
    key: String,
    parts_sent: AtomicU32,
}

impl Progress {
    pub fn new(key: String, parts_sent: u32) -> Self {
        Progress {
            key,
            parts_sent: AtomicU32::new(parts_sent),
        }
    }

    /// Parts delivered so far, by this attempt and the ones before it.
    pub fn parts_sent(&self) -> u32 {
        self.parts_sent.load(Ordering::Relaxed)
    }
}

/// The `delivery` capability's part of a call: the delivery it belongs to.
#[derive(Debug, Default)]
pub(crate) struct DeliveryState {
    pub progress: Arc<Progress>,
}

impl DeliveryState {
    pub(crate) fn key(&self) -> String {
        self.progress.key.clone()
    }

    pub(crate) fn parts_sent(&self) -> u32 {
        self.progress.parts_sent()
    }

    pub(crate) fn set_parts_sent(&self, count: u32) {
        self.progress.parts_sent.store(count, Ordering::Relaxed);
    }

    /// Grants at most the host's cap; the request budget is the call's
    /// (HTTP and SMTP draw on it together).
    pub(crate) fn reserve_requests(&self, call: &mut CallContext, requests: u32) -> u32 {
        let granted = mcp_push_policy::budget::reserved(requests, call.limits.max_fetches);
        call.reserved = Some(granted);
        granted
    }
}
