//! The host's imports. Inside mcp-push (wasm32) they are the WIT imports; in a
//! native build (a plugin's unit tests, clippy) they go to the [`StandIn`]
//! installed on this thread (`testing::Harness` installs itself for a send),
//! or without one behave as the comments say. The trait lives here so that
//! the calls point down to it and the harness points up: no module of the
//! SDK and its harness import each other in a circle.

use crate::bindings::mcp_push::channel::{
    desktop as wit_desktop, http as wit_http, keys as wit_keys, log as wit_log, mail as wit_mail,
    mqtt as wit_mqtt,
};

#[cfg(target_arch = "wasm32")]
pub(crate) fn fetch(req: &wit_http::Request) -> Result<wit_http::Response, wit_http::Error> {
    wit_http::fetch(req)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::bindings::mcp_push::channel::crypto::hmac_sha256(key, msg)
}

/// SHA-1 and SHA-512 through `signing`; SHA-256 through `crypto`, so that a
/// component that needs only SHA-256 also loads in hosts from before `signing`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn hmac(hash: crate::crypto::Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
    use crate::bindings::mcp_push::channel::signing;
    match hash {
        crate::crypto::Hash::Sha256 => hmac_sha256(key, msg),
        crate::crypto::Hash::Sha1 => signing::hmac(signing::Hash::Sha1, key, msg),
        crate::crypto::Hash::Sha512 => signing::hmac(signing::Hash::Sha512, key, msg),
    }
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
    server: &wit_mail::Server,
    email: &wit_mail::Email,
) -> Result<(), wit_mail::Error> {
    wit_mail::send(server, email)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn desktop_notify(n: &wit_desktop::Notification) -> Result<u32, wit_desktop::Error> {
    wit_desktop::notify(n)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn sign(alg: wit_keys::Algorithm, key: &str, msg: &[u8]) -> Result<Vec<u8>, String> {
    wit_keys::sign(alg, key, msg)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn mqtt_publish(
    msg: &wit_mqtt::PublishRequest,
) -> Result<wit_mqtt::PublishReply, wit_mqtt::Error> {
    wit_mqtt::publish(msg)
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

/// What answers the host's calls in a native build.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) trait StandIn {
    fn fetch(&mut self, req: &wit_http::Request) -> Result<wit_http::Response, wit_http::Error>;
    fn hmac(&mut self, hash: crate::crypto::Hash, key: &[u8], msg: &[u8]) -> Vec<u8>;
    fn starts_with(&mut self, text: &str, prefix: &str) -> bool;
    fn split(&mut self, text: &str, separator: &str, reveal: &[u32]) -> Vec<String>;
    fn send_mail(
        &mut self,
        server: &wit_mail::Server,
        email: &wit_mail::Email,
    ) -> Result<(), wit_mail::Error>;
    fn desktop_notify(&mut self, n: &wit_desktop::Notification) -> Result<u32, wit_desktop::Error>;
    fn sign(&mut self, alg: wit_keys::Algorithm, key: &str, msg: &[u8]) -> Result<Vec<u8>, String>;
    fn mqtt_publish(
        &mut self,
        msg: &wit_mqtt::PublishRequest,
    ) -> Result<wit_mqtt::PublishReply, wit_mqtt::Error>;
    fn delivery_key(&mut self) -> String;
    fn parts_sent(&mut self) -> u32;
    fn set_parts_sent(&mut self, count: u32);
    fn reserve_requests(&mut self, requests: u32) -> u32;
    fn cache_get(&mut self, key: &str) -> Option<String>;
    fn cache_set(&mut self, key: &str, value: &str, ttl_secs: u32);
    fn log(&mut self, line: String);
    fn print(&mut self, text: &str);
}

#[cfg(not(target_arch = "wasm32"))]
type Shared = std::rc::Rc<std::cell::RefCell<dyn StandIn>>;

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static STAND_IN: std::cell::RefCell<Option<Shared>> = const { std::cell::RefCell::new(None) };
}

/// Put `stand_in` in the host's place on this thread (`None`: no host).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn stand_in(stand_in: Option<Shared>) {
    STAND_IN.with(|c| *c.borrow_mut() = stand_in);
}

/// Run `f` on this thread's stand-in, if one is installed.
#[cfg(not(target_arch = "wasm32"))]
fn with<R>(f: impl FnOnce(&mut dyn StandIn) -> R) -> Option<R> {
    let installed = STAND_IN.with(|c| c.borrow().clone())?;
    let mut guard = installed.borrow_mut();
    Some(f(&mut *guard))
}

#[cfg(not(target_arch = "wasm32"))]
const NO_HOST: &str = "mcp-push-sdk: no host here: run the channel with \
                       mcp_push_sdk::testing::Harness in a native test, or build it for wasm32-wasip2";

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn fetch(req: &wit_http::Request) -> Result<wit_http::Response, wit_http::Error> {
    with(|h| h.fetch(req)).unwrap_or_else(|| Err(wit_http::Error::Transport(NO_HOST.into())))
}

/// With a harness, placeholders are replaced by the test's values first;
/// without one, the key and message are hashed as given, so signing code can
/// be unit-tested.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac(crate::crypto::Hash::Sha256, key, msg)
}

/// With a harness, placeholders are replaced by the test's values first;
/// without one, the key and message are hashed as given.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn hmac(hash: crate::crypto::Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
    with(|h| h.hmac(hash, key, msg)).unwrap_or_else(|| native_hmac(hash, key, msg))
}

/// HMAC computed here, from the values as given (the host's computation).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn native_hmac(hash: crate::crypto::Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
    use mcp_push_policy::sign::{Hash, hmac};
    let hash = match hash {
        crate::crypto::Hash::Sha1 => Hash::Sha1,
        crate::crypto::Hash::Sha256 => Hash::Sha256,
        crate::crypto::Hash::Sha512 => Hash::Sha512,
    };
    hmac(hash, key, msg)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn log(level: wit_log::Level, message: &str) {
    let line = format!("[{level:?}] {message}");
    if with(|h| h.log(line.clone())).is_none() {
        eprintln!("{line}");
    }
}

/// Without a harness there are no placeholders: the text is the value.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn secret_starts_with(text: &str, prefix: &str) -> bool {
    with(|h| h.starts_with(text, prefix)).unwrap_or_else(|| text.starts_with(prefix))
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn secret_split(text: &str, separator: &str, reveal: &[u32]) -> Vec<String> {
    with(|h| h.split(text, separator, reveal))
        .unwrap_or_else(|| text.split(separator).map(String::from).collect())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn print(text: &str) {
    if with(|h| h.print(text)).is_none() {
        eprintln!("{text}");
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn send_mail(
    server: &wit_mail::Server,
    email: &wit_mail::Email,
) -> Result<(), wit_mail::Error> {
    with(|h| h.send_mail(server, email))
        .unwrap_or_else(|| Err(wit_mail::Error::Unavailable(NO_HOST.into())))
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn desktop_notify(n: &wit_desktop::Notification) -> Result<u32, wit_desktop::Error> {
    with(|h| h.desktop_notify(n))
        .unwrap_or_else(|| Err(wit_desktop::Error::Unavailable(NO_HOST.into())))
}

/// With a harness, under the host's rules; without one, `key` is the PEM
/// itself, so signing code can be unit-tested.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn sign(alg: wit_keys::Algorithm, key: &str, msg: &[u8]) -> Result<Vec<u8>, String> {
    with(|h| h.sign(alg, key, msg)).unwrap_or_else(|| native_sign(alg, key, msg))
}

/// A signature computed here, with the key as given (the host's computation).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn native_sign(
    alg: wit_keys::Algorithm,
    key: &str,
    msg: &[u8],
) -> Result<Vec<u8>, String> {
    use mcp_push_policy::keys::{Algorithm, sign};
    let alg = match alg {
        wit_keys::Algorithm::Rs256 => Algorithm::Rs256,
        wit_keys::Algorithm::Es256 => Algorithm::Es256,
    };
    sign(alg, key, msg).map_err(|e| format!("{} ({})", mcp_push_policy::keys::UNUSABLE, e.reason))
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn mqtt_publish(
    msg: &wit_mqtt::PublishRequest,
) -> Result<wit_mqtt::PublishReply, wit_mqtt::Error> {
    with(|h| h.mqtt_publish(msg))
        .unwrap_or_else(|| Err(wit_mqtt::Error::Unavailable(NO_HOST.into())))
}

// Without a harness, a send is the first attempt of a delivery of its own,
// with the default budget and nothing kept.

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn delivery_key() -> String {
    with(|h| h.delivery_key()).unwrap_or_else(|| "no-host-delivery".into())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn parts_sent() -> u32 {
    with(|h| h.parts_sent()).unwrap_or(0)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn set_parts_sent(count: u32) {
    with(|h| h.set_parts_sent(count));
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn reserve_requests(requests: u32) -> u32 {
    with(|h| h.reserve_requests(requests)).unwrap_or_else(|| {
        mcp_push_policy::budget::reserved(requests, mcp_push_policy::budget::DEFAULT_REQUESTS)
    })
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn cache_get(key: &str) -> Option<String> {
    with(|h| h.cache_get(key)).flatten()
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn cache_set(key: &str, value: &str, ttl_secs: u32) {
    with(|h| h.cache_set(key, value, ttl_secs));
}
