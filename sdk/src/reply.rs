//! Reading a service's JSON reply: its own success field decides, never the
//! HTTP status alone, and its error codes map to the [`SendError`] kinds.
//!
//! ```
//! use mcp_push_sdk::reply::Check;
//! // DingTalk: `errcode` must be 0, the reason is in `errmsg`, 410100 means "too fast".
//! let check = Check::field("errcode").eq(0).message("errmsg").rate_limited(&[410100]);
//! # let _ = check;
//! ```

use crate::{Response, SendError};
use serde_json::Value;

/// What the success field must hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expect<'a> {
    /// A number equal to this (`errcode == 0`); a numeric string counts too.
    Int(i64),
    /// A string equal to this (`status == "ok"`).
    Str(&'a str),
    /// A string equal to one of these (OneBot's `status`: `ok` or `async`).
    AnyStr(&'a [&'a str]),
    /// A boolean equal to this (`ok == true`).
    Bool(bool),
    /// Present and not null (`id`, `event_id`).
    Present,
    /// Present, and neither null, `""`, `[]` nor `{}`.
    NonEmpty,
}

/// How a service says "done" in its JSON reply, and how it says why not.
/// Paths are dotted (`content.result`); a number segment indexes an array.
#[derive(Debug, Clone)]
pub struct Check<'a> {
    fields: Vec<&'a str>,
    expect: Expect<'a>,
    messages: Vec<&'a str>,
    rate_limited: &'a [i64],
    unavailable: &'a [i64],
    retry_after: Option<(&'a str, f64)>,
}

impl<'a> Check<'a> {
    /// The field that says whether it worked.
    pub fn field(path: &'a str) -> Self {
        Check {
            fields: vec![path],
            expect: Expect::Present,
            messages: Vec::new(),
            rate_limited: &[],
            unavailable: &[],
            retry_after: None,
        }
    }

    /// The WeChat-family convention (WeCom, DingTalk, ...): `errcode` must be
    /// 0, the reason is in `errmsg`.
    pub fn errcode() -> Self {
        Check::field("errcode").eq(0).message("errmsg")
    }

    /// Another name the same field goes by in some replies (Feishu's older
    /// `StatusCode` beside `code`); the first one present is read.
    pub fn or_field(mut self, path: &'a str) -> Self {
        self.fields.push(path);
        self
    }

    pub fn eq(self, value: i64) -> Self {
        self.expect(Expect::Int(value))
    }

    /// The field is one of these strings.
    pub fn any_str(self, values: &'a [&'a str]) -> Self {
        self.expect(Expect::AnyStr(values))
    }

    pub fn eq_str(self, value: &'a str) -> Self {
        self.expect(Expect::Str(value))
    }

    pub fn is_true(self) -> Self {
        self.expect(Expect::Bool(true))
    }

    pub fn non_empty(self) -> Self {
        self.expect(Expect::NonEmpty)
    }

    pub fn expect(mut self, expect: Expect<'a>) -> Self {
        self.expect = expect;
        self
    }

    /// Where the reason is when it did not work (tried in order).
    pub fn message(mut self, path: &'a str) -> Self {
        self.messages.push(path);
        self
    }

    /// Codes (of the success field) that mean "slow down".
    pub fn rate_limited(mut self, codes: &'a [i64]) -> Self {
        self.rate_limited = codes;
        self
    }

    /// Codes that mean "try again later" (the service's own trouble).
    pub fn unavailable(mut self, codes: &'a [i64]) -> Self {
        self.unavailable = codes;
        self
    }

    /// Where a rate-limited reply says how long to wait, in seconds.
    pub fn retry_after(mut self, path: &'a str) -> Self {
        self.retry_after = Some((path, 1.0));
        self
    }

    /// Where a rate-limited reply says how long to wait, in milliseconds.
    pub fn retry_after_ms(mut self, path: &'a str) -> Self {
        self.retry_after = Some((path, 1000.0));
        self
    }

    /// Judge a reply: `Ok` with the parsed JSON when the success field holds
    /// what it must (and the status is 2xx), else the matching error:
    /// - HTTP 429 or a rate-limit code: `rate-limited` (the reply's wait, else
    ///   `Retry-After`);
    /// - HTTP 408/5xx or an "unavailable" code: `unavailable`;
    /// - anything else: `rejected`, with the service's own reason.
    pub fn judge(&self, resp: &Response) -> Result<Value, SendError> {
        let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
        if resp.status == 429 {
            let wait = parsed.as_ref().and_then(|v| self.wait(v));
            return Err(SendError::RateLimited(wait.or_else(|| resp.retry_after())));
        }
        let Some(value) = parsed else {
            if !resp.is_success() {
                return Err(resp.status_error());
            }
            return Err(SendError::Unavailable(format!(
                "HTTP {}: expected a JSON reply, got {}",
                resp.status,
                resp.snippet()
            )));
        };
        let (name, found) = self
            .fields
            .iter()
            .find_map(|f| lookup(&value, f).map(|v| (*f, v)))
            .unwrap_or((self.fields[0], &Value::Null));
        if resp.is_success() && self.matches(found) {
            return Ok(value);
        }
        let code = as_int(found);
        let reason = self
            .messages
            .iter()
            .find_map(|m| lookup(&value, m).map(text_of))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| resp.snippet());
        let what = match found {
            Value::Null => format!("HTTP {}: {reason}", resp.status),
            v => format!("{name} {}: {reason}", text_of(v)),
        };
        match code {
            Some(c) if self.rate_limited.contains(&c) => {
                Err(SendError::RateLimited(self.wait(&value)))
            }
            Some(c) if self.unavailable.contains(&c) => Err(SendError::Unavailable(what)),
            _ if resp.status == 408 || resp.status >= 500 => Err(SendError::Unavailable(what)),
            _ => Err(SendError::Rejected(what)),
        }
    }

    fn matches(&self, v: &Value) -> bool {
        match self.expect {
            Expect::Int(n) => as_int(v) == Some(n),
            Expect::Str(s) => v.as_str() == Some(s),
            Expect::AnyStr(list) => v.as_str().is_some_and(|s| list.contains(&s)),
            Expect::Bool(b) => v.as_bool() == Some(b),
            Expect::Present => !v.is_null(),
            Expect::NonEmpty => match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            },
        }
    }

    fn wait(&self, v: &Value) -> Option<u32> {
        let (path, per_second) = self.retry_after?;
        let n = lookup(v, path)?.as_f64()?;
        Some((n / per_second).ceil().max(0.0) as u32)
    }
}

impl Response {
    /// [`Check::judge`] this reply.
    pub fn check(&self, check: &Check) -> Result<Value, SendError> {
        check.judge(self)
    }

    /// `HTTP {status}: {why}`, the why in the service's own words: the text
    /// at `path` of its JSON reply when it has one there, else the start of
    /// the body.
    pub fn why_at(&self, path: &str) -> String {
        let said = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| lookup(&v, path).map(text_of))
            .filter(|s| !s.trim().is_empty());
        format!(
            "HTTP {}: {}",
            self.status,
            said.unwrap_or_else(|| self.snippet())
        )
    }

    /// [`Response::status_error`] for a service that says why at `path` of
    /// its JSON error reply (Home Assistant's and Webex's `message`).
    pub fn status_error_at(&self, path: &str) -> SendError {
        match self.status_error() {
            SendError::Rejected(_) => SendError::Rejected(self.why_at(path)),
            SendError::Unavailable(_) => SendError::Unavailable(self.why_at(path)),
            other => other,
        }
    }
}

/// The value at a dotted path (`result.message_id`, `errors.0`).
pub fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(o) => o.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!cur.is_null()).then_some(cur)
}

/// The value at a dotted path as an id (a message id, a token): strings as
/// they are, numbers as digits; `None` when the path is absent or null.
pub fn id_at(v: &Value, path: &str) -> Option<String> {
    lookup(v, path).map(text_of)
}

/// A value as an id or a reason: strings as they are, anything else as JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text_of).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The recipients a service refused, from its per-recipient list (WxPusher's
/// `data[]`): each entry whose `code` (a number or a numeric string) is not
/// `ok`, named by `who` (its place and entry) and described as
/// `who (code: status)`, or `who (code)` without a `status` text.
pub fn refused_recipients(
    targets: &[Value],
    ok: i64,
    who: impl Fn(usize, &Value) -> String,
) -> Vec<String> {
    let code_of = |t: &Value| match t.get("code")? {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        v => v.as_i64(),
    };
    targets
        .iter()
        .enumerate()
        .filter(|(_, t)| code_of(t).is_some_and(|c| c != ok))
        .map(|(i, t)| {
            let code = code_of(t).unwrap_or_default();
            match t
                .get("status")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(status) => format!("{} ({code}: {status})", who(i, t)),
                None => format!("{} ({code})", who(i, t)),
            }
        })
        .collect()
}

/// The outcome of a send to several recipients that the service reports one
/// by one (WxPusher's `data[]`): `failed` names the ones refused, out of
/// `total`. None delivered is a refusal naming them; some refused is still a
/// delivery, with a warning in the log naming those.
pub fn per_recipient(service: &str, total: usize, failed: Vec<String>) -> Result<(), SendError> {
    if failed.is_empty() {
        return Ok(());
    }
    if failed.len() >= total {
        return Err(SendError::Rejected(format!(
            "{service} delivered to no recipient: {}",
            failed.join(", ")
        )));
    }
    crate::log::warn(&format!(
        "{service} delivered to {} of {total} recipients; not to {}",
        total - failed.len(),
        failed.join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_error_in_the_services_words() {
        let said = r#"{"message": "Data should be valid JSON.", "trackingId": "t1"}"#;
        assert_eq!(
            reply(400, said).status_error_at("message"),
            SendError::Rejected("HTTP 400: Data should be valid JSON.".into())
        );
        assert_eq!(
            reply(503, said).status_error_at("message"),
            SendError::Unavailable("HTTP 503: Data should be valid JSON.".into())
        );
        assert_eq!(
            reply(401, "401: Unauthorized").status_error_at("message"),
            SendError::Rejected("HTTP 401: 401: Unauthorized".into())
        );
        assert_eq!(
            reply(404, r#"{"message": ""}"#).why_at("message"),
            r#"HTTP 404: {"message": ""}"#
        );
        assert_eq!(
            reply(429, said).status_error_at("message"),
            SendError::RateLimited(Some(9))
        );
    }

    #[test]
    fn ids_and_receipts_from_reply_paths() {
        let v = serde_json::json!({"result": {"message_id": 42}, "id": "abc", "gone": null});
        assert_eq!(id_at(&v, "result.message_id").as_deref(), Some("42"));
        assert_eq!(id_at(&v, "id").as_deref(), Some("abc"));
        assert_eq!(id_at(&v, "gone"), None);
        assert_eq!(id_at(&v, "missing.path"), None);
        assert_eq!(
            crate::Receipt::from_reply(&v, "id"),
            crate::Receipt::id("abc")
        );
        assert_eq!(
            crate::Receipt::from_reply(&v, "nope"),
            crate::Receipt::none()
        );
    }

    #[test]
    fn refused_recipients_are_named_with_their_code_and_status() {
        let data = serde_json::json!([
            {"uid": "a", "code": 1000, "status": "ok"},
            {"uid": "b", "code": "1001", "status": "gone"},
            {"code": 1002},
            {"uid": "d"},
        ]);
        let who = |i: usize, t: &Value| {
            t.get("uid")
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{}", i + 1), String::from)
        };
        assert_eq!(
            refused_recipients(data.as_array().unwrap(), 1000, who),
            vec!["b (1001: gone)", "#3 (1002)"]
        );
    }

    fn reply(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Retry-After".into(), "9".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    fn dingtalk() -> Check<'static> {
        Check::field("errcode")
            .eq(0)
            .message("errmsg")
            .rate_limited(&[410100])
            .unavailable(&[-1])
    }

    #[test]
    fn success_field_decides() {
        let ok = dingtalk().judge(&reply(200, r#"{"errcode":0,"errmsg":"ok"}"#));
        assert_eq!(ok.unwrap()["errmsg"], "ok");
        let e = dingtalk()
            .judge(&reply(
                200,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#,
            ))
            .unwrap_err();
        assert_eq!(
            e,
            SendError::Rejected("errcode 310000: sign not match".into())
        );
        // A 200 without the field is not success.
        assert!(matches!(
            dingtalk().judge(&reply(200, r#"{"hello":1}"#)),
            Err(SendError::Rejected(_))
        ));
        // Not JSON at all: a proxy page, worth retrying.
        assert!(matches!(
            dingtalk().judge(&reply(200, "<html>")),
            Err(SendError::Unavailable(_))
        ));
    }

    #[test]
    fn codes_map_to_kinds() {
        let limited = dingtalk().judge(&reply(200, r#"{"errcode":410100,"errmsg":"too fast"}"#));
        assert_eq!(limited.unwrap_err(), SendError::RateLimited(None));
        let busy = dingtalk().judge(&reply(200, r#"{"errcode":-1,"errmsg":"busy"}"#));
        assert!(matches!(busy, Err(SendError::Unavailable(m)) if m.contains("busy")));
        let down = dingtalk().judge(&reply(502, "bad gateway"));
        assert!(matches!(down, Err(SendError::Unavailable(m)) if m.contains("502")));
        let slow = dingtalk().judge(&reply(429, "x"));
        assert_eq!(slow.unwrap_err(), SendError::RateLimited(Some(9)));
    }

    #[test]
    fn telegram_style_retry_after_and_alternatives() {
        let tg = Check::field("ok")
            .is_true()
            .message("description")
            .retry_after("parameters.retry_after");
        let r = tg.judge(&reply(
            429,
            r#"{"ok":false,"error_code":429,"parameters":{"retry_after":31}}"#,
        ));
        assert_eq!(r.unwrap_err(), SendError::RateLimited(Some(31)));
        let r = tg.judge(&reply(
            400,
            r#"{"ok":false,"description":"Bad Request: chat not found"}"#,
        ));
        assert_eq!(
            r.unwrap_err(),
            SendError::Rejected("ok false: Bad Request: chat not found".into())
        );
        let matrix = Check::field("event_id").retry_after_ms("retry_after_ms");
        let r = matrix.judge(&reply(
            429,
            r#"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}"#,
        ));
        assert_eq!(r.unwrap_err(), SendError::RateLimited(Some(2)));
        let fs = Check::field("code").or_field("StatusCode").eq(0);
        assert!(fs.judge(&reply(200, r#"{"StatusCode":0}"#)).is_ok());
        assert!(fs.judge(&reply(200, r#"{"code":"0"}"#)).is_ok());
        let deer = Check::field("content.result").non_empty();
        assert!(
            deer.judge(&reply(200, r#"{"content":{"result":[]}}"#))
                .is_err()
        );
        assert!(
            deer.judge(&reply(200, r#"{"content":{"result":["{}"]}}"#))
                .is_ok()
        );
        assert_eq!(
            lookup(&serde_json::json!({"a":[1,{"b":2}]}), "a.1.b"),
            Some(&serde_json::json!(2))
        );
    }
}
