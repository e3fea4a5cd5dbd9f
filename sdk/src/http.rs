//! Request builders over the host's `http.fetch`, and the usual mapping of
//! replies to [`SendError`]s.

use crate::SendError;
use crate::bindings::mcp_push::channel::http as wit;
use crate::encode::{form_encode, url_encode};

/// An outgoing request. Secrets' placeholders may stand anywhere in the URL,
/// headers or body; the host swaps in the values.
#[derive(Debug, Clone)]
pub struct Request {
    inner: wit::Request,
}

impl Request {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Request {
            inner: wit::Request {
                method: method.to_ascii_uppercase(),
                url: url.into(),
                headers: Vec::new(),
                body: Vec::new(),
                basic_auth: None,
                header_lines: None,
            },
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }

    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// HTTP Basic auth; the host encodes it after putting in secrets.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.inner.basic_auth = Some(wit::BasicAuth {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// A block of `Name: value` lines (e.g. a secret setting holding user
    /// headers), parsed by the host after it puts in secrets. These lines win
    /// over headers of the same name.
    pub fn header_lines(mut self, lines: &str) -> Self {
        self.inner.header_lines = Some(lines.into());
        self
    }

    /// Append `k=v` pairs to the URL's query, percent-encoded.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        if pairs.is_empty() {
            return self;
        }
        let sep = if self.inner.url.contains('?') {
            '&'
        } else {
            '?'
        };
        self.inner.url.push(sep);
        self.inner.url.push_str(&form_encode(pairs));
        self
    }

    /// Append one percent-encoded path segment.
    pub fn segment(mut self, segment: &str) -> Self {
        if !self.inner.url.ends_with('/') {
            self.inner.url.push('/');
        }
        self.inner.url.push_str(&url_encode(segment));
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.inner.body = body.into();
        self.set_content_type(content_type);
        self
    }

    pub fn json(self, value: &serde_json::Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.body("application/json", body)
    }

    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        self.body("application/x-www-form-urlencoded", form_encode(pairs))
    }

    pub fn text(self, body: &str) -> Self {
        self.body("text/plain; charset=utf-8", body)
    }

    fn set_content_type(&mut self, content_type: &str) {
        let headers = &mut self.inner.headers;
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        headers.push(("Content-Type".into(), content_type.into()));
    }

    pub fn url(&self) -> &str {
        &self.inner.url
    }

    pub fn method(&self) -> &str {
        &self.inner.method
    }

    pub fn headers(&self) -> &[(String, String)] {
        &self.inner.headers
    }

    pub fn body_bytes(&self) -> &[u8] {
        &self.inner.body
    }

    /// Send it. Transport failures and timeouts are `unavailable` (retried);
    /// a request the host denies is a `config` error (never retried).
    pub fn send(self) -> Result<Response, SendError> {
        crate::host::fetch(&self.inner)
            .map(Response::from)
            .map_err(|e| match e {
                wit::Error::Denied(why) => SendError::Config(format!("request denied: {why}")),
                wit::Error::Timeout => SendError::Unavailable("request timed out".into()),
                wit::Error::Transport(why) => SendError::Unavailable(why),
            })
    }
}

/// A reply from the service.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The host cut the body at its size cap.
    pub truncated: bool,
}

impl From<wit::Response> for Response {
    fn from(r: wit::Response) -> Self {
        Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
            truncated: r.truncated,
        }
    }
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, or `unavailable` (a proxy's error page, say).
    pub fn json(&self) -> Result<serde_json::Value, SendError> {
        serde_json::from_slice(&self.body).map_err(|_| {
            SendError::Unavailable(format!(
                "HTTP {}: expected JSON, got {}",
                self.status,
                self.snippet()
            ))
        })
    }

    /// The start of the body, for error messages.
    pub fn snippet(&self) -> String {
        let text = self.text();
        let text = text.trim();
        if text.is_empty() {
            return "an empty body".into();
        }
        match text.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text.to_string(),
        }
    }

    /// `Retry-After` in seconds, when given as a number.
    pub fn retry_after(&self) -> Option<u32> {
        self.header("retry-after")?
            .trim()
            .parse::<f64>()
            .ok()
            .map(|s| s.ceil() as u32)
    }

    /// Map a non-2xx status to the usual error: 429 is `rate-limited`
    /// (honouring `Retry-After`), 408 and 5xx are `unavailable`, other 4xx are
    /// `rejected`.
    pub fn error_for_status(self) -> Result<Self, SendError> {
        if self.is_success() {
            return Ok(self);
        }
        Err(self.status_error())
    }

    /// The error [`Response::error_for_status`] would give for this status.
    pub fn status_error(&self) -> SendError {
        let why = format!("HTTP {}: {}", self.status, self.snippet());
        match self.status {
            429 => SendError::RateLimited(self.retry_after()),
            408 | 500..=599 => SendError::Unavailable(why),
            _ => SendError::Rejected(why),
        }
    }
}

/// The first header of this name (case-insensitive).
pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
