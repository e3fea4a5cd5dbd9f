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

/// Lowercase hex of SHA-256(`data`): a digest of public data (a request
/// body, a canonical request), never of a secret's placeholder.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(data))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The UTC calendar date of a Unix time in seconds, as `YYYY-MM-DD`
/// (Howard Hinnant's days-to-civil algorithm).
pub fn utc_date(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A Tencent Cloud API 3.0 request's `Authorization` header
/// (TC3-HMAC-SHA256, "Signature v3"): a POST to `host` of `payload` with
/// `content_type`, the signed headers `content-type;host`, at
/// `timestamp` (Unix seconds, sent as `X-TC-Timestamp`). `secret_id` goes
/// in the header as it is; `secret_key` is a placeholder the host keys the
/// HMAC with ([`tc3_signing_key`]).
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    content_type: &str,
    payload: &[u8],
    timestamp: u64,
) -> String {
    let date = utc_date(timestamp);
    let canonical = format!(
        "POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n{}",
        sha256_hex(payload)
    );
    let scope = format!("{date}/{service}/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = tc3_signing_key(secret_key, &date, service);
    let signature = hex(&hmac_sha256(&key, to_sign.as_bytes()));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, \
         Signature={signature}"
    )
}

/// The UTC time of a Unix time in seconds, as ISO 8601 to the second
/// (`YYYY-MM-DDThh:mm:ssZ`, Aliyun's `Timestamp`).
pub fn utc_timestamp(unix_secs: u64) -> String {
    let s = unix_secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        utc_date(unix_secs),
        s / 3_600,
        s / 60 % 60,
        s % 60
    )
}

/// An Aliyun RPC request signed with signature version 1.0 (HMAC-SHA1), as
/// Aliyun's "RPC signature" page has it: the parameters (the common ones
/// and the operation's, without `Signature`) sorted by name, names and
/// values percent-encoded (RFC 3986: only `A-Z a-z 0-9 - _ . ~` kept), joined
/// `k=v&…` (the canonicalized query string); the string to sign `METHOD&%2F&`
/// and that string percent-encoded again; `Signature` = base64(HMAC-SHA1(key
/// = AccessKeySecret + `&`, string to sign)). Returns the canonicalized
/// query with `&Signature=…` after it: the query of a GET or the
/// urlencoded body of a POST. `access_key_secret` is a placeholder the host
/// keys the HMAC with.
pub fn aliyun_rpc_signed(
    method: &str,
    params: &[(String, String)],
    access_key_secret: &str,
) -> String {
    use crate::encode::url_encode;
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let query = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&%2F&{}", url_encode(&query));
    let key = format!("{access_key_secret}&");
    let signature = base64(&hmac(Hash::Sha1, key.as_bytes(), to_sign.as_bytes()));
    format!("{query}&Signature={}", url_encode(&signature))
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

    #[test]
    fn dates_and_digests() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_798_761_599), "2026-12-31");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// Signature v3's walk-through in Tencent Cloud's docs (CVM
    /// DescribeInstances at 1551113065, the example's masked key): the
    /// hashed canonical request 5ffe6a04… and the signature 2230eefd… as
    /// recalled from the docs and recomputed with Python's hashlib/hmac.
    #[test]
    fn tc3_is_tencents_example() {
        let payload = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let auth = tc3_authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "cvm",
            "cvm.tencentcloudapi.com",
            "application/json; charset=utf-8",
            payload,
            1_551_113_065,
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    /// The example of Aliyun's "RPC signature" page (ECS DescribeRegions,
    /// AccessKeyId `testid`, secret `testsecret`): the signature
    /// `OLeaidS1JvxuMvnyHOwuJ+uX5qY=`, recomputed with Python's hmac.
    #[test]
    fn aliyun_rpc_is_aliyuns_example() {
        let params: Vec<(String, String)> = [
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            aliyun_rpc_signed("GET", &params, "testsecret"),
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1\
             &SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0\
             &Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26\
             &Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D"
        );
        assert_eq!(utc_timestamp(1_456_231_584), "2016-02-23T12:46:24Z");
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
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
