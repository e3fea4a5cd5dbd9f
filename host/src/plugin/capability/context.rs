//! What every capability of one call shares: the channel instance it runs
//! for, its allowed hosts, its secrets, its limits and deadline, and the
//! request budget that HTTP and SMTP draw on together.

use crate::plugin::allow::AllowList;
use crate::plugin::secrets::Secrets;
use crate::plugin::types::Limits;
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct CallContext {
    /// The channel instance, for log lines.
    pub channel: String,
    pub allow: Arc<AllowList>,
    pub secrets: Secrets,
    pub limits: Limits,
    pub deadline: Instant,
    /// Outbound requests (HTTP and SMTP, every redirect hop) made so far.
    pub requests: u32,
    /// Requests granted instead of the default budget, if the send asked
    /// (`delivery.reserve-requests`).
    pub reserved: Option<u32>,
}

impl CallContext {
    /// Count one outbound request (HTTP or SMTP) against the per-send budget;
    /// the reason when it is spent.
    pub(crate) fn spend_request(&mut self) -> Result<(), String> {
        self.requests += 1;
        let budget = self.reserved.unwrap_or(self.limits.max_fetches);
        if self.requests > budget {
            return Err(format!(
                "a send may make at most {budget} requests (a channel that needs more \
                 reserves them, up to {})",
                mcp_push_policy::budget::MAX_RESERVED_REQUESTS
            ));
        }
        Ok(())
    }

    /// Why `host` on `port` may not be reached (secrets described), or
    /// `None` when it is one of the channel's allowed hosts. `what` prefixes
    /// the reason ("redirect to "). A host that came out of a secret is not
    /// named: the reason must not tell the component the secret's value.
    pub(crate) fn host_denied(
        &self,
        host: &str,
        port: u16,
        what: &str,
        from_secret: bool,
    ) -> Option<String> {
        if self.allow.allows(host, port) {
            return None;
        }
        if from_secret {
            return Some(format!(
                "{what}a host taken from a secret setting is not one of this channel's allowed hosts"
            ));
        }
        let allowed = self.allow.describe();
        let allowed = if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        };
        Some(self.secrets.describe(&format!(
            "{what}{host}:{port} is not an allowed host of this channel (allowed: {allowed})"
        )))
    }
}
