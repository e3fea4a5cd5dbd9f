//! What the host's public-key signatures (the `keys` import: RS256 and
//! ES256, for JWTs such as Google's service-account assertion) may be made
//! with, and the signing itself.
//!
//! A signature keyed by a secret is the same kind of thing as a MAC keyed by
//! it: the component could make it only by knowing the key, and it tells the
//! component nothing about the key that a signature it saw on the wire would
//! not (RSA PKCS#1 v1.5 and ECDSA are not broken by chosen messages). So the
//! rule is the strictest of [`crate::sign`]'s: the key is exactly one
//! secret's placeholder, never text around it (no prefix, suffix or second
//! secret: the host would parse text the component chose around the secret,
//! and whether that parses is a question about the secret), and the message
//! holds no secret at all (a signature over a secret is a hash of it that
//! anyone with the public key can test guesses against).
//!
//! What comes back is the signature, or an error. An error about the inputs
//! (the rule above) says what is wrong; an error about the key's value (not
//! a PEM private key, the wrong kind for the algorithm) is one fixed text
//! for the component, whatever the value, and the reason goes to the host's
//! log ([`Unusable::reason`]), which names the form but never a byte of the
//! key. No hand-written cryptography: ring (already under rustls) signs, and
//! rustls-pki-types reads the PEM.

use crate::secrets::Secrets;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// The JWS algorithms the host signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), any RSA key of 2048
    /// to 8192 bits; the signature is as long as the modulus.
    Rs256,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4), in JWS form: `r || s`,
    /// 64 bytes, not DER.
    Es256,
}

/// A message longer than this is refused: a JWT's signing input is a few
/// hundred bytes, and the host does not hash megabytes for a component.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// The text the component gets when the value behind the key cannot sign,
/// the same for every such value.
pub const UNUSABLE: &str = "the key's secret is not a private key that can sign with this algorithm \
     (a PEM `BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`, or a Google service-account JSON \
     file); mcp-push's log says why";

/// Why a secret's value cannot sign: for the host's log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub reason: &'static str,
}

/// The value behind `key` to sign `msg` with, or why the host refuses the
/// inputs (a text that depends only on what the component passed).
pub fn sign_input(secrets: &Secrets, key: &str, msg: &[u8]) -> Result<String, String> {
    if msg.len() > MAX_MESSAGE {
        return Err(format!(
            "the message to sign is {} bytes; at most {MAX_MESSAGE}",
            msg.len()
        ));
    }
    if Secrets::looks_secret(msg) {
        return Err("the message to sign holds a secret; it may hold none".into());
    }
    if secrets.whole(key).is_none() {
        return Err(if Secrets::looks_secret(key.as_bytes()) {
            "the key must be exactly one secret setting's placeholder, nothing around it".into()
        } else {
            "the key must be a secret setting (its placeholder), never a key in clear".into()
        });
    }
    Ok(secrets.fill(key))
}

/// `msg` signed with the private key in `value`: a PEM private key (PKCS#8
/// for either algorithm, PKCS#1 for RS256) or a Google service-account JSON
/// file, whose `private_key` is used.
pub fn sign(alg: Algorithm, value: &str, msg: &[u8]) -> Result<Vec<u8>, Unusable> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256};
    let no = |reason| Err(Unusable { reason });
    let pem = private_key_pem(value)?;
    let Ok(der) = PrivateKeyDer::from_pem_slice(pem.as_bytes()) else {
        return no("no PEM private key in the value");
    };
    let rng = ring::rand::SystemRandom::new();
    match (alg, &der) {
        (Algorithm::Rs256, PrivateKeyDer::Pkcs8(_) | PrivateKeyDer::Pkcs1(_)) => {
            let pair = match &der {
                PrivateKeyDer::Pkcs8(k) => ring::rsa::KeyPair::from_pkcs8(k.secret_pkcs8_der()),
                PrivateKeyDer::Pkcs1(k) => ring::rsa::KeyPair::from_der(k.secret_pkcs1_der()),
                _ => unreachable!("matched above"),
            };
            let Ok(pair) = pair else {
                return no("not an RSA private key of 2048 to 8192 bits (RS256 needs one)");
            };
            let mut sig = vec![0; pair.public().modulus_len()];
            match pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig) {
                Ok(()) => Ok(sig),
                Err(_) => no("the RSA signature failed"),
            }
        }
        (Algorithm::Es256, PrivateKeyDer::Pkcs8(k)) => {
            let Ok(pair) = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                k.secret_pkcs8_der(),
                &rng,
            ) else {
                return no("not a P-256 private key (ES256 needs one)");
            };
            match pair.sign(&rng, msg) {
                Ok(sig) => Ok(sig.as_ref().to_vec()),
                Err(_) => no("the ECDSA signature failed"),
            }
        }
        (Algorithm::Es256, PrivateKeyDer::Pkcs1(_)) => no("an RSA key (ES256 needs a P-256 key)"),
        (_, PrivateKeyDer::Sec1(_)) => no(
            "an EC key in SEC1 form (`BEGIN EC PRIVATE KEY`), which the host does not read: \
             convert it once with `openssl pkcs8 -topk8 -nocrypt`",
        ),
        _ => no("a private key of a kind the host does not sign with"),
    }
}

/// The PEM text of the value: the value itself, or a service-account JSON
/// file's `private_key`.
fn private_key_pem(value: &str) -> Result<String, Unusable> {
    let value = value.trim();
    if !value.starts_with('{') {
        return Ok(value.to_string());
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(value) else {
        return Err(Unusable {
            reason: "a value that starts like JSON but does not parse",
        });
    };
    json.get("private_key")
        .and_then(|k| k.as_str())
        .map(str::to_string)
        .ok_or(Unusable {
            reason: "a JSON object without a `private_key` string (not a service-account key file)",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{
        ECDSA_P256_SHA256_FIXED, KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
    };

    const RSA: &str = include_str!("../../tests/keys/rsa.pem");
    const RSA1: &str = include_str!("../../tests/keys/rsa-pkcs1.pem");
    const EC: &str = include_str!("../../tests/keys/ec.pem");

    fn rsa_public() -> Vec<u8> {
        let der = PrivateKeyDer::from_pem_slice(RSA.as_bytes()).unwrap();
        let PrivateKeyDer::Pkcs8(k) = der else {
            panic!()
        };
        let pair = ring::rsa::KeyPair::from_pkcs8(k.secret_pkcs8_der()).unwrap();
        pair.public().as_ref().to_vec()
    }

    #[test]
    fn signs_rs256_and_es256_that_verify() {
        let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0";
        let public = rsa_public();
        let service_account = serde_json::json!({
            "type": "service_account",
            "client_email": "a@b.iam.gserviceaccount.com",
            "private_key": RSA,
        })
        .to_string();
        for value in [RSA, RSA1, &service_account] {
            let sig = sign(Algorithm::Rs256, value, msg).unwrap();
            assert_eq!(sig.len(), 256);
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(msg, &sig)
                .unwrap();
        }
        let der = PrivateKeyDer::from_pem_slice(EC.as_bytes()).unwrap();
        let PrivateKeyDer::Pkcs8(k) = der else {
            panic!()
        };
        let rng = ring::rand::SystemRandom::new();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            k.secret_pkcs8_der(),
            &rng,
        )
        .unwrap();
        let sig = sign(Algorithm::Es256, EC, msg).unwrap();
        assert_eq!(sig.len(), 64, "JWS form r || s, not DER");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
            .verify(msg, &sig)
            .unwrap();
    }

    #[test]
    fn keys_that_cannot_sign_say_why_without_the_key() {
        for (alg, value) in [
            (Algorithm::Rs256, "Sup3rSecretValue42"),
            (Algorithm::Rs256, EC),
            (Algorithm::Es256, RSA),
            (Algorithm::Es256, RSA1),
            (Algorithm::Rs256, "{\"private_key\": 1}"),
            (Algorithm::Rs256, "{not json"),
            (
                Algorithm::Rs256,
                "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n",
            ),
        ] {
            let why = sign(alg, value, b"m").unwrap_err().reason;
            assert!(!why.contains("Sup3r") && !why.contains("QUJD"), "{why}");
        }
    }

    #[test]
    fn only_a_lone_secret_as_the_key_and_no_secret_in_the_message() {
        let mut s = Secrets::new();
        let a = s.add("key", RSA);
        let b = s.add("other", "other-secret");
        assert_eq!(sign_input(&s, &a, b"header.claims").unwrap(), RSA);
        for (key, msg) in [
            (format!("x{a}"), "m".to_string()),
            (format!("{a}x"), "m".to_string()),
            (format!("{a}{b}"), "m".to_string()),
            (format!("{a}\n"), "m".to_string()),
            (RSA.to_string(), "m".to_string()),
            ("MCPPUSHSECRET_forged".to_string(), "m".to_string()),
            (a.clone(), format!("claims {b}")),
            (a.clone(), format!("claims {a}")),
            (a.clone(), "mcppushsecret_lowercase".to_string()),
            (a.clone(), "m".repeat(MAX_MESSAGE + 1)),
        ] {
            assert!(
                sign_input(&s, &key, msg.as_bytes()).is_err(),
                "{key:.40} / {msg:.40}"
            );
        }
    }
}
