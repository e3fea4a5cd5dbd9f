//! Public-key signatures made by the host with a private key held as a
//! secret (the WIT `keys` import), and the JWTs built on them: Google's
//! service-account assertion (RS256) for Firebase Cloud Messaging, say.
//!
//! The key is named by its setting's placeholder, alone: the value behind
//! it is a PEM private key (`BEGIN PRIVATE KEY`, or `BEGIN RSA PRIVATE KEY`
//! for RS256) or a Google service-account JSON file (its `private_key` is
//! used), and the component never sees it. What is signed must hold no
//! secret. A component that uses this needs a host with `keys` (mcp-push
//! after 0.1's desktop channel).

use crate::SendError;
pub use crate::bindings::mcp_push::channel::keys::Algorithm;
use crate::encode::base64url;

/// The signature of `msg` under the private key behind the placeholder
/// `key`. Any refusal is a `config` error: the key setting is wrong (not a
/// private key, the wrong kind) or the channel asked for what the host never
/// does (a key in clear, a secret in the message), and a retry changes
/// neither.
pub fn sign(alg: Algorithm, key: &str, msg: &[u8]) -> Result<Vec<u8>, SendError> {
    crate::host::sign(alg, key, msg).map_err(|why| SendError::Config(format!("signing: {why}")))
}

/// A compact JWS (RFC 7515) of the JSON `claims`: base64url of the header
/// `{"alg", "typ": "JWT"}`, a dot, base64url of the claims, a dot, and the
/// base64url signature the host made with the key behind `key`.
pub fn jwt(alg: Algorithm, key: &str, claims: &serde_json::Value) -> Result<String, SendError> {
    let name = match alg {
        Algorithm::Rs256 => "RS256",
        Algorithm::Es256 => "ES256",
    };
    let header = serde_json::json!({"alg": name, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature = sign(alg, key, input.as_bytes())?;
    Ok(format!("{input}.{}", base64url(&signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Harness;
    use crate::{Channel, ChannelInfo, Message, Receipt, Setting, Settings};

    const RSA: &str = include_str!("../../tests/keys/rsa.pem");

    /// A channel that puts a JWT signed with its `key` in its reply id.
    struct Signer;
    impl Channel for Signer {
        fn info() -> ChannelInfo {
            ChannelInfo::new("signer", "Signer", "0.0.1", "signs")
                .setting(Setting::new("key", "a private key").secret().required())
                .setting(Setting::new("how", "whole or around"))
        }
        fn send(settings: &Settings, _msg: &Message) -> Result<Receipt, SendError> {
            let key = settings.require("key")?;
            let key = match settings.get_or("how", "whole") {
                "around" => format!("{key}\n"),
                _ => key.to_string(),
            };
            let claims = serde_json::json!({"iss": "me", "iat": 1});
            Ok(Receipt::id(jwt(Algorithm::Rs256, &key, &claims)?))
        }
    }

    #[test]
    fn a_jwt_is_signed_with_the_secret_key_it_names() {
        let h = Harness::new::<Signer>().setting("key", RSA);
        let token = h
            .send(&crate::testing::message("t", "b"))
            .unwrap()
            .remote_id
            .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], base64url(br#"{"alg":"RS256","typ":"JWT"}"#));
        assert_eq!(parts[1], base64url(br#"{"iat":1,"iss":"me"}"#));
        assert_eq!(
            parts[2].len(),
            342,
            "2048-bit RSA, base64url without padding"
        );
        assert!(!token.contains("PRIVATE"));

        let h = Harness::new::<Signer>()
            .setting("key", RSA)
            .setting("how", "around");
        let Err(SendError::Config(why)) = h.send(&crate::testing::message("t", "b")) else {
            panic!("a key with text around the secret signs")
        };
        assert!(why.contains("exactly one secret"), "{why}");
        assert!(!why.contains("PRIVATE"), "{why}");

        let h = Harness::new::<Signer>().setting("key", "not a key at all");
        let Err(SendError::Config(why)) = h.send(&crate::testing::message("t", "b")) else {
            panic!("a value that is no key signs")
        };
        assert!(!why.contains("not a key at all"), "{why}");
    }
}
