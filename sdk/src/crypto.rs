//! Signing through the host, so that secrets stay out of the component.

/// HMAC-SHA256. Placeholders of secret settings inside `key` or `msg` are
/// replaced by the secrets' values before hashing.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::host::hmac_sha256(key, msg)
}
