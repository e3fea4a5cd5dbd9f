//! Which hosts a channel may reach: the rule lives in `mcp-push-policy`
//! (shared with the SDK's test harness); this module names it for the host.

pub use mcp_push_policy::allow::{AllowList, HostPattern};
