//! The sandbox's rules, as pure functions with no I/O: what a channel
//! component may learn about a secret, which hosts it may reach, and how a
//! secret is masked wherever the host writes text.
//!
//! One crate so that the mcp-push host and the SDK's test harness apply the
//! same rules: a channel tested natively behaves as it will inside mcp-push.
//! The rule behind every function here: nothing the host hands back to a
//! component depends on a secret's value, except a reply from an allowed host,
//! a MAC or a signature keyed by the secret (see [`sign`], [`keys`]), and
//! the parts of a value its plugin declared public (see [`shape`]).

pub mod allow;
pub mod budget;
pub mod declare;
pub mod keys;
pub mod masks;
pub mod secrets;
pub mod shape;
pub mod sign;

pub use allow::{AllowList, HostPattern};
pub use secrets::{PREFIX, Secrets};
pub use shape::{Form, Shape, Shapes};

/// Values shorter than this are not masked: replacing every "1" or "on" in
/// the output would hide more than it protects.
pub const MIN_SECRET_LEN: usize = 4;
