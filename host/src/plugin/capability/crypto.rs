//! The `crypto` and `signing` capabilities: HMAC (SHA-1, SHA-256, SHA-512)
//! over inputs whose placeholders the host fills in, so that a signature can
//! use a secret the component never sees.

use super::context::CallContext;
use hmac::{Hmac, Mac};

/// Only a MAC keyed by a secret itself (see `mcp_push_policy::sign`);
/// anything else would be an oracle on the secret, so it gets an empty MAC,
/// which no service accepts, and a warning says why.
pub(crate) fn hmac_sha256(call: &CallContext, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
    hmac(call, Hash::Sha256, key, msg)
}

/// The hash under an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

/// [`hmac_sha256`] over the hash asked for, under the same rules.
pub(crate) fn hmac(call: &CallContext, hash: Hash, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
    let (key, msg) = match mcp_push_policy::sign::mac_input(&call.secrets, &key, &msg) {
        Ok(input) => input,
        Err(why) => {
            tracing::warn!(channel = %call.channel, "hmac ({hash:?}) refused: {why}");
            return Vec::new();
        }
    };
    fn mac<D: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut mac = <D as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    }
    match hash {
        Hash::Sha1 => mac::<Hmac<sha1::Sha1>>(&key, &msg),
        Hash::Sha256 => mac::<Hmac<sha2::Sha256>>(&key, &msg),
        Hash::Sha512 => mac::<Hmac<sha2::Sha512>>(&key, &msg),
    }
}
