//! What the host keeps for a channel beyond one call: for a delivery across
//! its attempts (a stable key, the parts of a split message already sent, a
//! larger request budget), and for a channel instance across its sends (a
//! few small values, such as an access token, with a time to live).
//!
//! Nothing here depends on a secret's value: the key comes from the store's
//! ids, the parts count and the kept values from the component itself.

use super::sandbox::HostIo;
use super::wit_v0_1::{cache, delivery};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use mcp_push_policy::budget::MAX_RESERVED_REQUESTS;
/// Values one channel instance may keep, and their sizes.
const MAX_KEPT: usize = 16;
const MAX_KEPT_KEY: usize = 128;
const MAX_KEPT_VALUE: usize = 4 << 10;
/// WeCom's and Feishu's tokens live 7,200 s; nothing needs more than a day.
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

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

/// A channel instance's part of [`HostIo`]: its delivery and its kept values.
#[derive(Debug, Default)]
pub(crate) struct DeliveryIo {
    pub progress: std::sync::Arc<Progress>,
    pub kept: std::sync::Arc<Kept>,
    /// Requests granted beyond the default budget, if the send asked.
    pub reserved: Option<u32>,
}

impl delivery::Host for HostIo {
    async fn key(&mut self) -> String {
        self.delivery.progress.key.clone()
    }

    async fn parts_sent(&mut self) -> u32 {
        self.delivery.progress.parts_sent()
    }

    async fn set_parts_sent(&mut self, count: u32) {
        self.delivery
            .progress
            .parts_sent
            .store(count, Ordering::Relaxed);
    }

    async fn reserve_requests(&mut self, requests: u32) -> u32 {
        let granted = mcp_push_policy::budget::reserved(requests, self.limits.max_fetches);
        self.delivery.reserved = Some(granted);
        granted
    }
}

impl cache::Host for HostIo {
    async fn get(&mut self, key: String) -> Option<String> {
        self.delivery.kept.get(&key, Instant::now())
    }

    async fn set(&mut self, key: String, value: String, ttl_secs: u32) {
        let ttl = Duration::from_secs(ttl_secs.into());
        if !self.delivery.kept.set(key, value, ttl, Instant::now()) {
            tracing::debug!(channel = %self.channel, "a value too large to keep was not kept");
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
