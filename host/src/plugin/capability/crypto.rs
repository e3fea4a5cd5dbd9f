//! The `crypto` and `signing` capabilities: HMAC (SHA-1, SHA-256, SHA-512)
//! over inputs whose placeholders the host fills in, so that a signature can
//! use a secret the component never sees.

use super::context::CallContext;
pub(crate) use mcp_push_policy::sign::Hash;

/// Only a MAC keyed by a secret itself (see `mcp_push_policy::sign`);
/// anything else would be an oracle on the secret, so it gets an empty MAC,
/// which no service accepts, and a warning says why.
pub(crate) fn hmac_sha256(call: &CallContext, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
    hmac(call, Hash::Sha256, key, msg)
}

/// [`hmac_sha256`] over the hash asked for, under the same rules.
pub(crate) fn hmac(call: &CallContext, hash: Hash, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
    match mcp_push_policy::sign::mac_input(&call.secrets, &key, &msg) {
        Ok((key, msg)) => mcp_push_policy::sign::hmac(hash, &key, &msg),
        Err(why) => {
            tracing::warn!(channel = %call.channel, "hmac ({hash:?}) refused: {why}");
            Vec::new()
        }
    }
}
