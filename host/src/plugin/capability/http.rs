//! The `http` capability: allowed origins on every hop, secrets put in only
//! on the way out and never carried to another origin by a redirect, a
//! request budget that counts every hop, and a body cap. The call's deadline
//! bounds the fetch from outside (see `runtime::invoke`); a fetch started
//! after it is refused here. Written on the host's own request and response
//! types; each WIT version converts to them (see `plugin::wit`).

use super::context::CallContext;
use base64::Engine as _;
use reqwest::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderMap, HeaderName, HeaderValue,
    LOCATION,
};
use reqwest::{Method, StatusCode};
use std::time::Instant;
use url::Url;

const MAX_REDIRECTS: usize = 5;

/// Headers the host sets from the URL and the connection (RFC 9110 §7.2 and
/// the hop-by-hop list of §7.6.1).
const HOST_ONLY_HEADERS: [&str; 10] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Whether the scheme or authority of the URL as the component wrote it
/// holds a placeholder (a whole-URL secret such as a webhook URL, or a
/// secret spliced into the host): then the host it reaches comes from a
/// secret, and no message may name it.
fn authority_from_secret(raw: &str) -> bool {
    let rest = raw.split_once("://").map_or(raw, |(scheme, rest)| {
        if mcp_push_policy::Secrets::looks_secret(scheme.as_bytes()) {
            ""
        } else {
            rest
        }
    });
    let authority = if raw.contains("://") {
        rest.split(['/', '?', '#']).next().unwrap_or("")
    } else {
        raw
    };
    rest.is_empty() || mcp_push_policy::Secrets::looks_secret(authority.as_bytes())
}

/// Credentials the host encodes after it puts in secrets, since a
/// placeholder inside base64 could not be found.
pub(crate) struct BasicAuth {
    pub user: String,
    pub password: String,
}

pub(crate) struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub basic_auth: Option<BasicAuth>,
    /// `Name: value` lines parsed after secrets are put in.
    pub header_lines: Option<String>,
}

pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the cap and was cut.
    pub truncated: bool,
}

pub(crate) enum Error {
    /// Not an allowed host, or over the per-send request budget.
    Denied(String),
    Timeout,
    Transport(String),
}

/// Written as the WIT bindings write theirs (`Error::Denied("...")`), so that
/// the debug lines read as before.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Denied(e) => f.debug_tuple("Error::Denied").field(e).finish(),
            Error::Timeout => f.debug_tuple("Error::Timeout").finish(),
            Error::Transport(e) => f.debug_tuple("Error::Transport").field(e).finish(),
        }
    }
}

/// The `http` capability's part of a call: the client its requests go
/// through (the shared one, or the one for the channel's proxy).
pub(crate) struct HttpState {
    pub client: reqwest::Client,
}

impl HttpState {
    pub(crate) async fn fetch(
        &self,
        call: &mut CallContext,
        req: Request,
    ) -> Result<Response, Error> {
        Fetch {
            call,
            client: &self.client,
        }
        .fetch(req)
        .await
    }
}

/// One `fetch`: the call it belongs to and the client it goes through.
struct Fetch<'a> {
    call: &'a mut CallContext,
    client: &'a reqwest::Client,
}

impl Fetch<'_> {
    async fn fetch(&mut self, req: Request) -> Result<Response, Error> {
        // Describing the URL scans it for secrets: only worth it when the
        // line will be written.
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return self.fetch_inner(req).await;
        }
        let shown = format!("{} {}", req.method, self.call.secrets.describe(&req.url));
        let result = self.fetch_inner(req).await;
        match &result {
            Ok(r) => tracing::debug!(channel = %self.call.channel, "{shown} -> {}", r.status),
            Err(e) => tracing::debug!(channel = %self.call.channel, "{shown} -> {e:?}"),
        }
        result
    }

    async fn fetch_inner(&mut self, req: Request) -> Result<Response, Error> {
        self.call.spend_request().map_err(Error::Denied)?;
        // A URL that does not parse comes from the settings (a typo such as
        // a missing scheme): a configuration error, not an outage to retry.
        // The parser's reason is left out when a secret is in the URL.
        let mut url = Url::parse(&self.call.secrets.fill_url(&req.url)).map_err(|e| {
            let why = match self.call.secrets.describe(&req.url) {
                shown if shown.contains("<secret") => "the URL is not valid".to_string(),
                shown => format!("{shown:?} is not a valid URL ({e})"),
            };
            Error::Denied(format!(
                "{why}; a URL setting needs its scheme, e.g. https://host/path"
            ))
        })?;
        self.check(&url, "", authority_from_secret(&req.url))?;
        let mut method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| Error::Transport(format!("invalid method {:?}", req.method)))?;

        let mut headers = HeaderMap::new();
        // Headers that carry a secret: dropped on a hop to another origin,
        // like Authorization and the user's header block.
        let mut secret_headers = Vec::new();
        for (name, value) in &req.headers {
            let (name, value) = self.header(name, value)?;
            if value.is_sensitive() {
                secret_headers.push(name.clone());
            }
            headers.append(name, value);
        }
        let mut user_header_names = Vec::new();
        if let Some(lines) = &req.header_lines {
            let filled = self.call.secrets.fill(lines);
            let mut seen = Vec::new();
            for line in filled.lines() {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let (name, value) = self.header(name.trim(), value.trim())?;
                if !seen.contains(&name) {
                    headers.remove(&name);
                    seen.push(name.clone());
                }
                headers.append(name.clone(), value);
                user_header_names.push(name);
            }
        }
        if let Some(auth) = &req.basic_auth {
            let pair = format!(
                "{}:{}",
                self.call.secrets.fill(&auth.user),
                self.call.secrets.fill(&auth.password)
            );
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| Error::Transport("invalid basic auth".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        // Bytes: each redirect hop clones the body, which should not copy it.
        let body_has_secret = !self.call.secrets.placeholders_in(&req.body).is_empty();
        let mut body = bytes::Bytes::from(self.call.secrets.fill_bytes(&req.body));

        for hop in 0..=MAX_REDIRECTS {
            // Every hop is a request: the budget counts them all.
            if hop > 0 {
                self.call.spend_request().map_err(Error::Denied)?;
            }
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if !body.is_empty() {
                builder = builder.body(body.clone());
            }
            self.check_deadline()?;
            let resp = builder
                .send()
                .await
                .map_err(|e| self.transport_error(&url, e))?;

            let status = resp.status();
            let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok());
            if status.is_redirection()
                && let Some(location) = location
            {
                if hop == MAX_REDIRECTS {
                    return Err(Error::Transport(format!(
                        "more than {MAX_REDIRECTS} redirects"
                    )));
                }
                let next = url
                    .join(location)
                    .map_err(|e| Error::Transport(format!("bad redirect location: {e}")))?;
                self.check(&next, "redirect to ", false)?;
                let keeps_body = !(status == StatusCode::SEE_OTHER
                    || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                        && method == Method::POST));
                if !keeps_body {
                    method = Method::GET;
                    body = bytes::Bytes::new();
                    headers.remove(CONTENT_TYPE);
                    headers.remove(CONTENT_LENGTH);
                }
                if next.origin() != url.origin() {
                    // No secret crosses to another origin, even one the
                    // channel may reach: a body with a secret in it is not
                    // sent again, and the component gets the redirect itself.
                    if keeps_body && body_has_secret && !body.is_empty() {
                        return self.read(resp).await;
                    }
                    headers.remove(AUTHORIZATION);
                    headers.remove(COOKIE);
                    for name in user_header_names.iter().chain(&secret_headers) {
                        headers.remove(name);
                    }
                }
                url = next;
                continue;
            }
            return self.read(resp).await;
        }
        unreachable!("the redirect loop returns on its last hop")
    }

    fn check_deadline(&self) -> Result<(), Error> {
        if Instant::now() >= self.call.deadline {
            Err(Error::Timeout)
        } else {
            Ok(())
        }
    }

    /// `from_secret`: the URL's scheme or authority came out of a secret,
    /// so the reason must not quote them.
    fn check(&self, url: &Url, what: &str, from_secret: bool) -> Result<(), Error> {
        if !matches!(url.scheme(), "http" | "https") {
            let scheme = if from_secret {
                "a scheme taken from a secret setting"
            } else {
                url.scheme()
            };
            return Err(Error::Denied(self.call.secrets.describe(&format!(
                "{what}{scheme}: only http and https are allowed"
            ))));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        match self
            .call
            .host_denied(url.host_str().unwrap_or(""), port, what, from_secret)
        {
            None => Ok(()),
            Some(why) => Err(Error::Denied(why)),
        }
    }

    fn header(&self, name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Transport(format!("invalid header name {name:?}")))?;
        if HOST_ONLY_HEADERS.contains(&name.as_str()) {
            // `Host` would let a plugin route a request with secrets in it,
            // sent to an allowed address, to another site behind a shared
            // proxy or CDN; the others are the connection's, not the
            // request's.
            return Err(Error::Denied(format!(
                "header {name} is set by the host, not by a channel"
            )));
        }
        let filled = self.call.secrets.fill(value);
        let is_secret = filled != value;
        let mut value = HeaderValue::from_str(&filled)
            .map_err(|_| Error::Transport(format!("invalid value for header {name}")))?;
        value.set_sensitive(is_secret || name == AUTHORIZATION);
        Ok((name, value))
    }

    fn transport_error(&self, url: &Url, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            return Error::Timeout;
        }
        // reqwest's message names the URL, which may hold a secret: describe the
        // host and the causes only.
        let e = e.without_url();
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            why.push_str(": ");
            why.push_str(&s.to_string());
            source = s.source();
        }
        let host = url.host_str().unwrap_or("");
        Error::Transport(self.call.secrets.describe(&format!("{host}: {why}")))
    }

    async fn read(&self, mut resp: reqwest::Response) -> Result<Response, Error> {
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), self.call.secrets.hide(v.to_str().ok()?))))
            .collect();
        let cap = self.call.limits.max_response_bytes;
        let read_capped = async {
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                if body.len() + chunk.len() > cap {
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    return Ok((body, true));
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((body, false))
        };
        let (body, truncated) = read_capped
            .await
            .map_err(|e| Error::Transport(format!("reading the reply: {}", e.without_url())))?;
        Ok(Response {
            status,
            headers,
            body: self.call.secrets.hide_bytes(&body),
            truncated,
        })
    }
}
