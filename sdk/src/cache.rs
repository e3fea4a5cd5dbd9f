//! A few small values a channel keeps between sends, such as an access token
//! for its lifetime (WeCom asks that `gettoken` not be called for every
//! message). The host keeps them in its memory for this channel instance
//! only: they are never stored or shown, and are gone when the process ends
//! or the channel's settings change. A value is at most 4 KiB, a channel keeps
//! at most 16, and none lives more than a day.

use crate::{SendError, host};

/// The value kept under `key`, unless it expired.
pub fn get(key: &str) -> Option<String> {
    host::cache_get(key)
}

/// Keeps `value` under `key` for `ttl_secs` seconds.
pub fn set(key: &str, value: &str, ttl_secs: u32) {
    host::cache_set(key, value, ttl_secs)
}

/// The value kept under `key`, or a fresh one from `fetch` (the value and
/// how long it lives, in seconds), kept for a minute less than that so it is
/// never used just as it expires.
pub fn get_or_fetch(
    key: &str,
    fetch: impl FnOnce() -> Result<(String, u32), SendError>,
) -> Result<String, SendError> {
    if let Some(v) = get(key) {
        return Ok(v);
    }
    let (value, ttl) = fetch()?;
    if ttl > 60 {
        set(key, &value, ttl - 60);
    }
    Ok(value)
}

/// Forgets the value under `key` (the service said it is no longer valid).
pub fn forget(key: &str) {
    host::cache_set(key, "", 0)
}
