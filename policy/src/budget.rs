//! How many requests (HTTP and mail together) one send may make.
//!
//! The default bounds what a misbehaving plugin can do with one message. A
//! channel that sends a long message in parts reserves what it needs, up to a
//! cap: WeCom's 2,048-byte parts once ran past the default at 16 KB, and the
//! tail of the message was lost.

/// Requests a send may make without asking.
pub const DEFAULT_REQUESTS: u32 = 8;

/// The most a send may reserve: a 64 KiB message in 2,048-byte parts is 32
/// requests, and a token request or two come on top.
pub const MAX_RESERVED_REQUESTS: u32 = 40;

/// The budget granted to a send that asks for `asked` requests when its
/// default is `default`: never less than the default, never more than the cap
/// (unless the default is larger).
pub fn reserved(asked: u32, default: u32) -> u32 {
    asked.min(MAX_RESERVED_REQUESTS).max(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_is_capped_and_never_lowers_the_default() {
        assert_eq!(reserved(20, DEFAULT_REQUESTS), 20);
        assert_eq!(reserved(2, DEFAULT_REQUESTS), DEFAULT_REQUESTS);
        assert_eq!(reserved(1_000, DEFAULT_REQUESTS), MAX_RESERVED_REQUESTS);
        assert_eq!(reserved(10, 100), 100);
    }
}
