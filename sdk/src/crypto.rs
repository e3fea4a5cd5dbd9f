//! Signing through the host, so that secrets stay out of the component.

use crate::encode::base64;

/// HMAC-SHA256. Placeholders of secret settings inside `key` or `msg` are
/// replaced by the secrets' values before hashing.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::host::hmac_sha256(key, msg)
}

/// base64(HMAC-SHA256(key, msg)), the usual form of a bot signature.
pub fn hmac_sha256_base64(key: &str, msg: &str) -> String {
    base64(&hmac_sha256(key.as_bytes(), msg.as_bytes()))
}

/// DingTalk's robot signature: base64(HMAC-SHA256(key = secret,
/// msg = "{timestamp_ms}\n{secret}")). Not yet URL-encoded.
pub fn dingtalk_sign(secret: &str, timestamp_ms: u64) -> String {
    hmac_sha256_base64(secret, &format!("{timestamp_ms}\n{secret}"))
}

/// Feishu's and Lark's bot signature: base64(HMAC-SHA256(key =
/// "{timestamp_s}\n{secret}", msg = empty)).
pub fn feishu_sign(secret: &str, timestamp_s: u64) -> String {
    hmac_sha256_base64(&format!("{timestamp_s}\n{secret}"), "")
}

/// Milliseconds since the Unix epoch (WASI's wall clock).
pub fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values computed with Python's hmac module.
    #[test]
    fn bot_signatures() {
        assert_eq!(
            dingtalk_sign("SECxyz", 1700000000000),
            "0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg="
        );
        assert_eq!(
            feishu_sign("s3cret", 1700000000),
            "IX3eHI0/v/Td7jqJ0ynSEK3Dq5JY3HUZeoeMgVZeZGo="
        );
    }
}
