//! A few small values a channel keeps between sends, such as an access token
//! for its lifetime (WeCom asks that `gettoken` not be called for every
//! message). The host keeps them in its memory for this channel instance
//! only: they are never stored or shown, and are gone when the process ends
//! or the channel's settings change. A value is at most 4 KiB, a channel keeps
//! at most 16, and none lives more than a day.

use crate::{SendError, host};

/// The value kept under `key`, unless it expired.
pub fn get(key: &str) -> Option<String> {
    host::cache_get(key)
}

/// Keeps `value` under `key` for `ttl_secs` seconds.
pub fn set(key: &str, value: &str, ttl_secs: u32) {
    host::cache_set(key, value, ttl_secs)
}

/// The value kept under `key`, or a fresh one from `fetch` (the value and
/// how long it lives, in seconds), kept for a minute less than that so it is
/// never used just as it expires.
pub fn get_or_fetch(
    key: &str,
    fetch: impl FnOnce() -> Result<(String, u32), SendError>,
) -> Result<String, SendError> {
    if let Some(v) = get(key) {
        return Ok(v);
    }
    let (value, ttl) = fetch()?;
    if ttl > 60 {
        set(key, &value, ttl - 60);
    }
    Ok(value)
}

/// Forgets the value under `key` (the service said it is no longer valid).
pub fn forget(key: &str) {
    host::cache_set(key, "", 0)
}

/// A request made with an access token kept under `key` (fetched with
/// `fetch` when none is kept, see [`get_or_fetch`]). When `stale` says the
/// service no longer takes the token (revoked, or expired before its time
/// because another client asked for a new one), the token is fetched anew
/// and the request made once more: WeCom, DingTalk, Feishu and WeChat all
/// ask that a token be kept for its lifetime, not fetched for every message.
pub fn with_token(
    key: &str,
    fetch: impl Fn() -> Result<(String, u32), SendError>,
    stale: impl Fn(&crate::Response) -> bool,
    mut send: impl FnMut(&str) -> Result<crate::Response, SendError>,
) -> Result<crate::Response, SendError> {
    let reply = send(&get_or_fetch(key, &fetch)?)?;
    if !stale(&reply) {
        return Ok(reply);
    }
    forget(key);
    send(&get_or_fetch(key, &fetch)?)
}

/// Whether a JSON reply's integer `field` is one of `codes`: how the
/// services above say a token went stale (WeCom's and WeChat's `errcode`
/// 40014 or 42001, Feishu's `code` 99991663).
pub fn code_in(reply: &crate::Response, field: &str, codes: &[i64]) -> bool {
    reply
        .json()
        .ok()
        .and_then(|v| crate::reply::lookup(&v, field).and_then(|c| c.as_i64()))
        .is_some_and(|c| codes.contains(&c))
}

/// A token and its lifetime in seconds from a token endpoint's reply
/// (already judged a success): the string at `token_at`, the number at
/// `ttl_at`, else `default_ttl`.
pub fn token_from(
    reply: &serde_json::Value,
    token_at: &str,
    ttl_at: &str,
    default_ttl: u32,
) -> Result<(String, u32), SendError> {
    let token = crate::reply::id_at(reply, token_at)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SendError::Unavailable(format!("the token reply has no {token_at}")))?;
    let ttl = crate::reply::lookup(reply, ttl_at)
        .and_then(|v| v.as_u64())
        .map_or(default_ttl, |t| t.min(u32::MAX.into()) as u32);
    Ok((token, ttl))
}

/// [`with_token`] the WeChat family's way (WeCom, DingTalk's corp apps,
/// WeChat Official Accounts): `POST url?access_token=TOKEN` with the JSON
/// `body`, the token kept under `key`, a stale one said by an `errcode` in
/// `stale_codes`.
pub fn post_with_access_token(
    key: &str,
    url: &str,
    body: &serde_json::Value,
    fetch: impl Fn() -> Result<(String, u32), SendError>,
    stale_codes: &[i64],
) -> Result<crate::Response, SendError> {
    let post = |token: &str| {
        crate::Request::post(url)
            .query(&[("access_token", token)])
            .json(body)
            .send()
    };
    with_token(key, fetch, |r| code_in(r, "errcode", stale_codes), post)
}
