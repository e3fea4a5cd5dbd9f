//! The `keys` capability: RS256 and ES256 signatures (JWTs) made with a
//! private key held as a secret, which the component names by its
//! placeholder and never sees. The rules and the signing are
//! `mcp_push_policy::keys`; this module counts the signatures of a send and
//! keeps the reason a key cannot sign in the host's log.

use super::context::CallContext;
pub(crate) use mcp_push_policy::keys::Algorithm;
use std::time::Instant;

/// Signatures one send may ask for. A JWT flow signs once per token (FCM:
/// once an hour); an RSA signature costs about a millisecond of host CPU
/// that the component's deadline does not interrupt, so a loop is cut here.
pub(crate) const MAX_SIGNATURES: u32 = 16;

#[derive(Default)]
pub(crate) struct KeysState {
    signed: u32,
}

/// The signature of `msg` under the key behind the placeholder `key`, or
/// why not (never a byte of the key: see `mcp_push_policy::keys`).
pub(crate) fn sign(
    call: &CallContext,
    state: &mut KeysState,
    alg: Algorithm,
    key: String,
    msg: Vec<u8>,
) -> Result<Vec<u8>, String> {
    if Instant::now() >= call.deadline {
        return Err("the send's deadline has passed".into());
    }
    state.signed += 1;
    if state.signed > MAX_SIGNATURES {
        return Err(format!("a send may sign at most {MAX_SIGNATURES} times"));
    }
    let value =
        mcp_push_policy::keys::sign_input(&call.secrets, &key, &msg).inspect_err(|why| {
            tracing::warn!(channel = %call.channel, "sign ({alg:?}) refused: {why}");
        })?;
    mcp_push_policy::keys::sign(alg, &value, &msg).map_err(|e| {
        let setting = call.secrets.whole(&key).unwrap_or("?");
        tracing::warn!(
            channel = %call.channel,
            "sign ({alg:?}): the secret setting `{setting}` cannot sign: {}",
            e.reason
        );
        mcp_push_policy::keys::UNUSABLE.to_string()
    })
}
