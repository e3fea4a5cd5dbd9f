//! The `crypto` capability: HMAC-SHA256 over inputs whose placeholders the
//! host fills in, so that a signature can use a secret the component never
//! sees.

use super::context::CallContext;
use hmac::{Hmac, Mac};

/// Only a MAC keyed by a secret itself (see `mcp_push_policy::sign`);
/// anything else would be an oracle on the secret, so it gets an empty MAC,
/// which no service accepts, and a warning says why.
pub(crate) fn hmac_sha256(call: &CallContext, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
    let (key, msg) = match mcp_push_policy::sign::mac_input(&call.secrets, &key, &msg) {
        Ok(input) => input,
        Err(why) => {
            tracing::warn!(channel = %call.channel, "hmac-sha256 refused: {why}");
            return Vec::new();
        }
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&msg);
    mac.finalize().into_bytes().to_vec()
}
