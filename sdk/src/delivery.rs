//! The delivery a send belongs to. The host keeps it across attempts: a key
//! that is the same on every attempt (a service's idempotency key), and how
//! many parts of a long message went out, so that a retry after a failure
//! part-way does not send them twice.
//!
//! ```ignore
//! let parts = mcp_push_sdk::text::split_numbered(&text, Limit::Bytes(2048));
//! mcp_push_sdk::delivery::send_parts(&parts, 0, |part| {
//!     Request::post(&url).json(&json!({ "text": part })).send()?.check(&check)?;
//!     Ok(())
//! })?;
//! ```

use crate::{SendError, host};

/// The same on every attempt of this delivery and unlike any other
/// delivery's: use it where the service dedupes retries (Matrix's `txnId`).
pub fn key() -> String {
    host::delivery_key()
}

/// Asks the host for a budget of `requests` for this send instead of the
/// default 8; the host grants up to its cap and returns the budget.
pub fn reserve_requests(requests: u32) -> u32 {
    host::reserve_requests(requests)
}

/// Sends `parts` in order with `send`, skipping the ones an earlier attempt
/// of this delivery delivered, and records each one as it goes out. The
/// budget is reserved for the parts plus `other_requests` (a token fetch).
/// The parts must come out of the message the same way on every attempt
/// (the SDK's splitters do).
pub fn send_parts<P>(
    parts: &[P],
    other_requests: u32,
    mut send: impl FnMut(&P) -> Result<(), SendError>,
) -> Result<(), SendError> {
    let needed = u32::try_from(parts.len())
        .unwrap_or(u32::MAX)
        .saturating_add(other_requests);
    // One part needs no reservation; the host grants at least its default.
    if parts.len() > 1 {
        let granted = reserve_requests(needed);
        if granted < needed {
            return Err(SendError::Config(format!(
                "the message needs {needed} requests in {} parts, more than the {granted} a \
                 send may make: shorten it",
                parts.len()
            )));
        }
    }
    let done = host::parts_sent() as usize;
    for (i, part) in parts.iter().enumerate().skip(done) {
        send(part)?;
        host::set_parts_sent(i as u32 + 1);
    }
    Ok(())
}
