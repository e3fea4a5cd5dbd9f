//! What the host's HMAC may be computed over for a component.
//!
//! A MAC whose key is exactly a secret is what signing needs (DingTalk signs
//! with the bot secret) and tells the component nothing it could not get by
//! guessing the secret and computing the MAC itself. Anything else turns the
//! host into an oracle: a key of chosen text around a secret is an equality
//! and length test (HMAC pads short keys with zeros, so `secret` and
//! `secret\0` give the same MAC), and a secret inside a message keyed by
//! known text is a plain hash of it. So: no secret at all; or the key is one
//! whole secret and the message holds no other; or Feishu's documented key,
//! a decimal timestamp, a newline, then the secret and nothing after it; or
//! one of the fixed prefixes request-signing schemes put before the secret
//! to make their first key (AWS Signature V4's `AWS4`, Tencent Cloud TC3's
//! `TC3`), the secret and nothing after it; or the secret and one of the
//! fixed suffixes a scheme puts after it (Aliyun's RPC signature, version
//! 1.0: `AccessKeySecret + "&"`), nothing before it. A fixed prefix or
//! suffix is no chosen text: the MAC is still one the component could
//! compute only by knowing the secret, and since the component cannot add
//! to the key after the suffix, no zero padding can line two keys up to
//! measure the secret's length.

use crate::secrets::Secrets;

/// The hash under an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

/// HMAC of `msg` under `key` as given (placeholders already filled in by
/// [`mac_input`]): the one computation the host and the SDK's harness share.
pub fn hmac(hash: Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    fn mac<D: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut mac = <D as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    }
    match hash {
        Hash::Sha1 => mac::<Hmac<sha1::Sha1>>(key, msg),
        Hash::Sha256 => mac::<Hmac<sha2::Sha256>>(key, msg),
        Hash::Sha512 => mac::<Hmac<sha2::Sha512>>(key, msg),
    }
}

/// What a signing scheme puts before the secret to make its first key:
/// AWS Signature Version 4 (`kDate = HMAC("AWS4" + secret, date)`) and
/// Tencent Cloud's TC3-HMAC-SHA256 (`HMAC("TC3" + secret, date)`).
pub const SECRET_PREFIXES: [&[u8]; 2] = [b"AWS4", b"TC3"];

/// What a signing scheme puts after the secret to make its key: Aliyun's
/// RPC signature (version 1.0, `HMAC-SHA1(AccessKeySecret + "&",
/// StringToSign)`; the `&` stands for the empty token secret of OAuth 1.0,
/// where the scheme comes from).
pub const SECRET_SUFFIXES: [&[u8]; 1] = [b"&"];

/// The key and message to compute the MAC over (secrets put in), or why the
/// host refuses.
pub fn mac_input(secrets: &Secrets, key: &[u8], msg: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let in_key = secrets.placeholders_in(key);
    let in_msg = secrets.placeholders_in(msg);
    let unknown = |bytes: &[u8], known: &[&str]| Secrets::looks_secret(bytes) && known.is_empty();
    if unknown(key, &in_key) || unknown(msg, &in_msg) {
        return Err("a placeholder that is not one of this call's secrets".into());
    }
    if in_key.is_empty() && in_msg.is_empty() {
        return Ok((key.to_vec(), msg.to_vec()));
    }
    let [secret] = in_key.as_slice() else {
        return Err(if in_key.is_empty() {
            "a secret in the message of a MAC needs that secret as the key".into()
        } else {
            "a MAC key holds one secret".into()
        });
    };
    let whole = key == secret.as_bytes();
    let prefixed = SECRET_PREFIXES
        .iter()
        .any(|p| key.strip_prefix(*p) == Some(secret.as_bytes()));
    let suffixed = SECRET_SUFFIXES
        .iter()
        .any(|s| key.strip_suffix(*s) == Some(secret.as_bytes()));
    let feishu = key
        .strip_suffix(secret.as_bytes())
        .and_then(|p| p.strip_suffix(b"\n"))
        .is_some_and(|ts| (1..=20).contains(&ts.len()) && ts.iter().all(u8::is_ascii_digit));
    let affixed = prefixed || suffixed;
    if !whole && !feishu && !affixed {
        return Err(
            "a MAC key is a secret by itself (or a timestamp, a newline and the \
             secret; or AWS4 or TC3 and the secret; or the secret and &)"
                .into(),
        );
    }
    if in_msg.iter().any(|p| p != secret) {
        return Err("the message of a MAC may hold only the key's own secret".into());
    }
    if (feishu || affixed) && !in_msg.is_empty() {
        return Err(
            "a timestamped, prefixed or suffixed MAC key takes a message without secrets".into(),
        );
    }
    Ok((secrets.fill_bytes(key), secrets.fill_bytes(msg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_that_are_a_secret() {
        let mut s = Secrets::new();
        let a = s.add("a", "secret-a");
        let b = s.add("b", "secret-b");
        let ok = |k: String, m: String| mac_input(&s, k.as_bytes(), m.as_bytes());
        // DingTalk: key = secret, message = "{ms}\n{secret}".
        let (k, m) = ok(a.clone(), format!("1700000000000\n{a}")).unwrap();
        assert_eq!(
            (k.as_slice(), m.as_slice()),
            (&b"secret-a"[..], &b"1700000000000\nsecret-a"[..])
        );
        // Feishu: key = "{s}\n{secret}", empty message.
        assert_eq!(
            ok(format!("1700000000\n{a}"), String::new()).unwrap().0,
            b"1700000000\nsecret-a"
        );
        // AWS SigV4 and Tencent TC3: key = prefix + secret, plain message.
        assert_eq!(
            ok(format!("AWS4{a}"), "20150830".into()).unwrap().0,
            b"AWS4secret-a"
        );
        assert_eq!(
            ok(format!("TC3{a}"), "2019-02-25".into()).unwrap().0,
            b"TC3secret-a"
        );
        // Aliyun's RPC signature: key = secret + "&", plain message.
        assert_eq!(
            ok(format!("{a}&"), "GET&%2F&Action%3DSendSms".into())
                .unwrap()
                .0,
            b"secret-a&"
        );
        // No secrets: plain.
        assert!(ok("k".into(), "m".into()).is_ok());
        // Oracles.
        for (k, m) in [
            (format!("{a}\0"), String::new()),
            (format!("x{a}"), String::new()),
            (format!("{a}{b}"), String::new()),
            ("known".to_string(), a.clone()),
            (a.clone(), b.clone()),
            (format!("1\n{a}"), a.clone()),
            (format!("12a\n{a}"), String::new()),
            ("MCPPUSHSECRET_forged".to_string(), String::new()),
            // Only the fixed prefixes, the whole secret after them, and no
            // secret in the message.
            (format!("AWS{a}"), String::new()),
            (format!("AWS4{a}\0"), String::new()),
            (format!("aws4{a}"), String::new()),
            (format!("TC3{a}"), a.clone()),
            (format!("AWS4{a}"), b.clone()),
            // Only `&`, right after the whole secret, and nothing after it:
            // no zero padding or second `&` to measure the secret with.
            (format!("{a}&\0"), String::new()),
            (format!("{a}&&"), String::new()),
            (format!("{a}&x"), String::new()),
            (format!("&{a}"), String::new()),
            (format!("x{a}&"), String::new()),
            (format!("{a}{b}&"), String::new()),
            (format!("TC3{a}&"), String::new()),
            (format!("{a}%26"), String::new()),
            (format!("{a}&"), a.clone()),
            (format!("{a}&"), format!("GET&{b}")),
        ] {
            assert!(ok(k.clone(), m.clone()).is_err(), "{k:?} / {m:?}");
        }
    }
}
