//! Signing through the host, so that secrets stay out of the component.

use crate::encode::base64;

/// HMAC-SHA256. Placeholders of secret settings inside `key` or `msg` are
/// replaced by the secrets' values before hashing.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::host::hmac_sha256(key, msg)
}

/// The hash an [`hmac`] is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// Aliyun's (OpenAPI signature version 1.0) and OAuth 1.0a's.
    Sha1,
    Sha256,
    Sha512,
}

/// HMAC over `hash`, under the same rules as [`hmac_sha256`]. SHA-1 and
/// SHA-512 need a host with the `signing` interface (mcp-push after 0.1's
/// first components); an older one refuses to load the component.
pub fn hmac(hash: Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::host::hmac(hash, key, msg)
}

/// AWS Signature Version 4's signing key: `kSigning` from the secret access
/// key (a placeholder; the host puts the secret after `AWS4`), the date
/// (`YYYYMMDD`), the region and the service, as AWS's "Create a signature
/// for AWS Signature Version 4" derives it. Sign the string to sign with
/// `hmac(Hash::Sha256, &key, …)`, hex-encoded.
pub fn sigv4_signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Tencent Cloud's TC3-HMAC-SHA256 signing key: from the SecretKey (a
/// placeholder; the host puts it after `TC3`), the UTC date (`YYYY-MM-DD`)
/// and the service (`sms`), as Tencent Cloud's "Signature v3" derives it.
pub fn tc3_signing_key(secret: &str, date: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("TC3{secret}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    hmac_sha256(&k_service, b"tc3_request")
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

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// AWS's documented example ("Examples of how to derive a signing key
    /// for Signature Version 4"): this secret, 20120215, us-east-1, iam.
    #[test]
    fn sigv4_signing_key_is_awss_example() {
        let key = sigv4_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    // Reference values computed with Python's hmac module.
    #[test]
    fn other_hashes_and_tc3() {
        assert_eq!(
            hex(&hmac(
                Hash::Sha1,
                b"key",
                b"The quick brown fox jumps over the lazy dog"
            )),
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
        assert_eq!(
            &hex(&hmac(
                Hash::Sha512,
                b"key",
                b"The quick brown fox jumps over the lazy dog"
            ))[..32],
            "b42af09057bac1e2d41708e48a902e09"
        );
        // kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request").
        let k = crate::host::native_hmac(Hash::Sha256, b"TC3s3cret", b"2019-02-25");
        let k = crate::host::native_hmac(Hash::Sha256, &k, b"sms");
        let k = crate::host::native_hmac(Hash::Sha256, &k, b"tc3_request");
        assert_eq!(tc3_signing_key("s3cret", "2019-02-25", "sms"), k);
    }

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
