//! The `cache` capability: a few small values a channel instance keeps
//! across its sends (an access token, with a time to live), in memory only.
//!
//! Nothing here depends on a secret's value: the kept values come from the
//! component itself.

use super::context::CallContext;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Values one channel instance may keep, and their sizes.
const MAX_KEPT: usize = 16;
const MAX_KEPT_KEY: usize = 128;
const MAX_KEPT_VALUE: usize = 4 << 10;
/// WeCom's and Feishu's tokens live 7,200 s; nothing needs more than a day.
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// The values one channel instance keeps, by key, each until it expires.
#[derive(Debug, Default)]
pub struct Kept {
    values: Mutex<HashMap<String, (String, Instant)>>,
}

impl Kept {
    fn get(&self, key: &str, now: Instant) -> Option<String> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        match values.get(key) {
            Some((v, until)) if now < *until => Some(v.clone()),
            Some(_) => {
                values.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores the value unless it is too large; when full, expired values go
    /// first, then the one closest to expiring.
    fn set(&self, key: String, value: String, ttl: Duration, now: Instant) -> bool {
        if key.len() > MAX_KEPT_KEY || value.len() > MAX_KEPT_VALUE {
            return false;
        }
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values.retain(|_, (_, until)| now < *until);
        if values.len() >= MAX_KEPT && !values.contains_key(&key) {
            let soonest = values
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(k, _)| k.clone());
            if let Some(k) = soonest {
                values.remove(&k);
            }
        }
        values.insert(key, (value, now + ttl.min(MAX_TTL)));
        true
    }
}

/// The `cache` capability's part of a call: the channel instance's values.
#[derive(Debug, Default)]
pub(crate) struct CacheState {
    pub kept: Arc<Kept>,
}

impl CacheState {
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.kept.get(key, Instant::now())
    }

    pub(crate) fn set(&self, call: &CallContext, key: String, value: String, ttl_secs: u32) {
        let ttl = Duration::from_secs(ttl_secs.into());
        if !self.kept.set(key, value, ttl, Instant::now()) {
            tracing::debug!(channel = %call.channel, "a value too large to keep was not kept");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_values_expire_and_stay_bounded() {
        let kept = Kept::default();
        let t = Instant::now();
        assert!(kept.set("token".into(), "abc".into(), Duration::from_secs(10), t));
        assert_eq!(kept.get("token", t).as_deref(), Some("abc"));
        assert_eq!(kept.get("token", t + Duration::from_secs(11)), None);

        for i in 0..40 {
            let ttl = Duration::from_secs(100 + i);
            assert!(kept.set(format!("k{i}"), "v".into(), ttl, t));
        }
        assert_eq!(kept.values.lock().unwrap().len(), MAX_KEPT);
        // The ones closest to expiring went first.
        assert_eq!(kept.get("k0", t), None);
        assert_eq!(kept.get("k39", t).as_deref(), Some("v"));

        assert!(!kept.set("big".into(), "x".repeat(MAX_KEPT_VALUE + 1), MAX_TTL, t));
        assert!(!kept.set("k".repeat(MAX_KEPT_KEY + 1), "v".into(), MAX_TTL, t));
        // A day at most, whatever was asked.
        assert!(kept.set(
            "long".into(),
            "v".into(),
            Duration::from_secs(u32::MAX.into()),
            t
        ));
        assert_eq!(kept.get("long", t + MAX_TTL), None);
    }
}
