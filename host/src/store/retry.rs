//! When to try a failed delivery again: a pure function of the error, the
//! attempts so far and a random number, so the schedule is testable.

use super::UnixMillis;
use crate::model::DeliveryError;
use std::time::Duration;

/// Defaults: 5 attempts; the waits between them are 5, 15, 45 and 135 s
/// (about 3.5 minutes in all), each moved by up to ±20 % so that many hubs
/// recovering from the same outage do not retry in lockstep. The first two
/// retries fall within a one-shot `send`'s default 30 s wait (a blip is
/// over before the command ends); the later ones are left to whichever
/// mcp-push process runs next, or `flush`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Sends tried for `unavailable` or `timeout` before the delivery fails.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub factor: u32,
    /// Fraction of each wait added or taken away at random.
    pub jitter: f64,
    /// A service that keeps saying "slow down" is obeyed this many times, on top
    /// of `max_attempts`; rate limits are not the service being broken, so they
    /// do not use up the normal budget, but they cannot loop forever either.
    pub max_rate_limited: u32,
    /// Wait when a rate limit gives no `retry after`.
    pub rate_limit_default: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(5),
            factor: 3,
            jitter: 0.2,
            max_rate_limited: 10,
            rate_limit_default: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    RetryAt(UnixMillis),
    Fail,
}

impl RetryPolicy {
    /// `failures` counts this failure too (1 after the first send failed);
    /// `rate_limited` likewise counts this one if it is a rate limit.
    /// `random` is uniform in [0, 1).
    pub fn decide(
        &self,
        error: &DeliveryError,
        failures: u32,
        rate_limited: u32,
        now: UnixMillis,
        random: f64,
    ) -> Decision {
        match error {
            // Sending the same thing again cannot fix a bad setting, a refusal or a bug.
            DeliveryError::Config(_) | DeliveryError::Rejected(_) | DeliveryError::Crashed(_) => {
                Decision::Fail
            }
            DeliveryError::RateLimited(after) => {
                if rate_limited > self.max_rate_limited {
                    return Decision::Fail;
                }
                let wait = after
                    .map(|s| Duration::from_secs(u64::from(s)))
                    .unwrap_or(self.rate_limit_default);
                Decision::RetryAt(now.plus(wait))
            }
            // (The worker does not record an interrupted send; if one is, it
            // is retried like any other.)
            DeliveryError::Unavailable(_)
            | DeliveryError::Timeout(_)
            | DeliveryError::Interrupted => {
                if failures >= self.max_attempts {
                    return Decision::Fail;
                }
                Decision::RetryAt(now.plus(self.delay(failures, random)))
            }
        }
    }

    /// The wait after the `failures`-th failure, with jitter.
    pub fn delay(&self, failures: u32, random: f64) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        let nominal = self.base_delay.as_secs_f64() * f64::from(self.factor).powi(exp as i32);
        let spread = (random.clamp(0.0, 1.0) * 2.0 - 1.0) * self.jitter;
        Duration::from_secs_f64((nominal * (1.0 + spread)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMillis = UnixMillis(1_000_000);

    fn unavailable() -> DeliveryError {
        DeliveryError::Unavailable("503".into())
    }

    #[test]
    fn default_schedule_spreads_five_attempts_over_three_and_a_half_minutes() {
        let p = RetryPolicy::default();
        let mut total = 0.0;
        for failures in 1..5 {
            match p.decide(&unavailable(), failures, 0, NOW, 0.5) {
                Decision::RetryAt(at) => total += (at.0 - NOW.0) as f64 / 1000.0,
                Decision::Fail => panic!("failure {failures} should retry"),
            }
        }
        assert_eq!(total, 200.0);
        // Two retries fit in `send`'s default 30 s wait, whatever the jitter.
        assert!(p.delay(1, 1.0) + p.delay(2, 1.0) < Duration::from_secs(30));
        assert_eq!(p.decide(&unavailable(), 5, 0, NOW, 0.5), Decision::Fail);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, 0.0), Duration::from_secs(4));
        assert_eq!(p.delay(1, 1.0), Duration::from_secs(6));
        assert_eq!(p.delay(2, 0.5), Duration::from_secs(15));
    }

    #[test]
    fn rate_limit_waits_what_the_service_asked() {
        let p = RetryPolicy::default();
        let d = p.decide(&DeliveryError::RateLimited(Some(7)), 0, 1, NOW, 0.9);
        assert_eq!(d, Decision::RetryAt(UnixMillis(NOW.0 + 7_000)));
        let d = p.decide(&DeliveryError::RateLimited(None), 0, 1, NOW, 0.9);
        assert_eq!(d, Decision::RetryAt(UnixMillis(NOW.0 + 60_000)));
        let d = p.decide(&DeliveryError::RateLimited(Some(1)), 0, 11, NOW, 0.9);
        assert_eq!(d, Decision::Fail);
    }

    #[test]
    fn config_rejected_and_crashes_fail_at_once() {
        let p = RetryPolicy::default();
        for e in [
            DeliveryError::Config("no token".into()),
            DeliveryError::Rejected("401".into()),
            DeliveryError::Crashed("trap".into()),
        ] {
            assert_eq!(p.decide(&e, 1, 0, NOW, 0.5), Decision::Fail, "{e}");
        }
    }

    #[test]
    fn timeouts_retry_like_unavailable() {
        let p = RetryPolicy::default();
        let d = p.decide(
            &DeliveryError::Timeout(Duration::from_secs(5)),
            1,
            0,
            NOW,
            0.5,
        );
        assert_eq!(d, Decision::RetryAt(UnixMillis(NOW.0 + 5_000)));
    }
}
