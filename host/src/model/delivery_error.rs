use serde::Serialize;
use std::time::Duration;

/// Why one delivery failed. Only this delivery: the hub and other channels go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum DeliveryError {
    /// Settings missing or invalid, or a request the sandbox denied.
    #[error("configuration: {0}")]
    Config(String),
    /// The service said no (auth, bad request).
    #[error("rejected: {0}")]
    Rejected(String),
    /// The service asked to slow down.
    #[error("rate limited{}", .0.map(|s| format!(", retry after {s} s")).unwrap_or_default())]
    RateLimited(Option<u32>),
    /// Network failure or a 5xx: worth retrying.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The plugin ran past its deadline.
    #[error("timed out: the channel did not finish within {} s", .0.as_secs_f32())]
    Timeout(#[serde(serialize_with = "secs")] Duration),
    /// The plugin trapped (a bug, or it ran out of memory).
    #[error("plugin failed: {0}")]
    Crashed(String),
    /// mcp-push stopped while the send ran: not an attempt, and the delivery
    /// stays pending for the next start.
    #[error("interrupted: mcp-push stopped during the send; it will be tried again")]
    Interrupted,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl DeliveryError {
    /// The same error with its message passed through `describe` (which
    /// turns a call's secrets into labels).
    pub fn describe(self, describe: impl Fn(&str) -> String) -> Self {
        match self {
            DeliveryError::Config(m) => DeliveryError::Config(describe(&m)),
            DeliveryError::Rejected(m) => DeliveryError::Rejected(describe(&m)),
            DeliveryError::Unavailable(m) => DeliveryError::Unavailable(describe(&m)),
            DeliveryError::Crashed(m) => DeliveryError::Crashed(describe(&m)),
            other @ (DeliveryError::RateLimited(_)
            | DeliveryError::Timeout(_)
            | DeliveryError::Interrupted) => other,
        }
    }

    /// Whether sending again later could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DeliveryError::RateLimited(_)
                | DeliveryError::Unavailable(_)
                | DeliveryError::Timeout(_)
                | DeliveryError::Interrupted
        )
    }
}
