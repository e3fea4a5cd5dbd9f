//! The host's imports. Inside mcp-push (wasm32) they are the WIT imports; in a
//! native build (a plugin's unit tests, clippy) there is no host to call.

use crate::bindings::mcp_push::channel::{http as wit_http, log as wit_log};

#[cfg(target_arch = "wasm32")]
pub(crate) fn fetch(req: &wit_http::Request) -> Result<wit_http::Response, wit_http::Error> {
    wit_http::fetch(req)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::bindings::mcp_push::channel::crypto::hmac_sha256(key, msg)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn secret_starts_with(text: &str, prefix: &str) -> bool {
    crate::bindings::mcp_push::channel::secrets::starts_with(text, prefix)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn secret_split(text: &str, separator: &str, reveal: &[u32]) -> Vec<String> {
    crate::bindings::mcp_push::channel::secrets::split(text, separator, reveal)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn send_mail(
    server: &crate::mail::Server,
    email: &crate::mail::Email,
) -> Result<(), crate::bindings::mcp_push::channel::mail::Error> {
    crate::bindings::mcp_push::channel::mail::send(server, email)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn print(text: &str) {
    crate::bindings::mcp_push::channel::console::print(text)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn delivery_key() -> String {
    crate::bindings::mcp_push::channel::delivery::key()
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn parts_sent() -> u32 {
    crate::bindings::mcp_push::channel::delivery::parts_sent()
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn set_parts_sent(count: u32) {
    crate::bindings::mcp_push::channel::delivery::set_parts_sent(count)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn reserve_requests(requests: u32) -> u32 {
    crate::bindings::mcp_push::channel::delivery::reserve_requests(requests)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn cache_get(key: &str) -> Option<String> {
    crate::bindings::mcp_push::channel::cache::get(key)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn cache_set(key: &str, value: &str, ttl_secs: u32) {
    crate::bindings::mcp_push::channel::cache::set(key, value, ttl_secs)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: wit_log::Level, message: &str) {
    wit_log::log(level, message)
}

// Natively (a channel's `cargo test`), a running `testing::Harness` plays the
// host; without one, there is no host to call.

#[cfg(not(target_arch = "wasm32"))]
const NO_HOST: &str = "mcp-push-sdk: no host here: run the channel with \
                       mcp_push_sdk::testing::Harness in a native test, or build it for wasm32-wasip2";

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn fetch(req: &wit_http::Request) -> Result<wit_http::Response, wit_http::Error> {
    crate::testing::with(|h| h.fetch(req))
        .unwrap_or_else(|| Err(wit_http::Error::Transport(NO_HOST.into())))
}

/// With a harness, placeholders are replaced by the test's values first;
/// without one, the key and message are hashed as given, so signing code can
/// be unit-tested.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::testing::with(|h| h.hmac_sha256(key, msg)).unwrap_or_else(|| {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    })
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn log(level: wit_log::Level, message: &str) {
    let line = format!("[{level:?}] {message}");
    if crate::testing::with(|h| h.log(line.clone())).is_none() {
        eprintln!("{line}");
    }
}

/// Without a harness there are no placeholders: the text is the value.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn secret_starts_with(text: &str, prefix: &str) -> bool {
    crate::testing::with(|h| h.starts_with(text, prefix))
        .unwrap_or_else(|| text.starts_with(prefix))
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn secret_split(text: &str, separator: &str, reveal: &[u32]) -> Vec<String> {
    crate::testing::with(|h| h.split(text, separator, reveal))
        .unwrap_or_else(|| text.split(separator).map(String::from).collect())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn print(text: &str) {
    if crate::testing::with(|h| h.print(text)).is_none() {
        eprintln!("{text}");
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn send_mail(
    server: &crate::mail::Server,
    email: &crate::mail::Email,
) -> Result<(), crate::bindings::mcp_push::channel::mail::Error> {
    crate::testing::with(|h| h.send_mail(server, email)).unwrap_or_else(|| {
        Err(crate::bindings::mcp_push::channel::mail::Error::Unavailable(NO_HOST.into()))
    })
}

// Without a harness, a send is the first attempt of a delivery of its own,
// with the default budget and nothing kept.

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn delivery_key() -> String {
    crate::testing::with(|h| h.delivery_key()).unwrap_or_else(|| "no-host-delivery".into())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn parts_sent() -> u32 {
    crate::testing::with(|h| h.parts_sent()).unwrap_or(0)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn set_parts_sent(count: u32) {
    crate::testing::with(|h| h.set_parts_sent(count));
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn reserve_requests(requests: u32) -> u32 {
    crate::testing::with(|h| h.reserve_requests(requests)).unwrap_or_else(|| {
        mcp_push_policy::budget::reserved(requests, mcp_push_policy::budget::DEFAULT_REQUESTS)
    })
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn cache_get(key: &str) -> Option<String> {
    crate::testing::with(|h| h.cache_get(key)).flatten()
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn cache_set(key: &str, value: &str, ttl_secs: u32) {
    crate::testing::with(|h| h.cache_set(key, value, ttl_secs));
}
