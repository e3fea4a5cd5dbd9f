//! The host side of `http.fetch`: allowed hosts on every hop, secrets put in
//! only on the way out, a request budget and a body cap. The call's deadline
//! bounds the fetch from outside (see `runtime::invoke`); a fetch started
//! after it is refused here.

use super::sandbox::HostIo;
use super::wit_v0_1::http;
use base64::Engine as _;
use reqwest::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderMap, HeaderName, HeaderValue,
    LOCATION,
};
use reqwest::{Method, StatusCode};
use std::time::Instant;
use url::Url;

const MAX_REDIRECTS: usize = 5;

impl http::Host for HostIo {
    async fn fetch(&mut self, req: http::Request) -> Result<http::Response, http::Error> {
        // Describing the URL scans it for secrets: only worth it when the
        // line will be written.
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return self.fetch_inner(req).await;
        }
        let shown = format!("{} {}", req.method, self.secrets.describe(&req.url));
        let result = self.fetch_inner(req).await;
        match &result {
            Ok(r) => tracing::debug!(channel = %self.channel, "{shown} -> {}", r.status),
            Err(e) => tracing::debug!(channel = %self.channel, "{shown} -> {e:?}"),
        }
        result
    }
}

impl HostIo {
    async fn fetch_inner(&mut self, req: http::Request) -> Result<http::Response, http::Error> {
        self.spend_request().map_err(http::Error::Denied)?;
        let mut url = Url::parse(&self.secrets.fill(&req.url)).map_err(|e| {
            http::Error::Transport(format!(
                "invalid URL {}: {e}",
                self.secrets.describe(&req.url)
            ))
        })?;
        self.check(&url, "")?;
        let mut method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| http::Error::Transport(format!("invalid method {:?}", req.method)))?;

        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let (name, value) = self.header(name, value)?;
            headers.append(name, value);
        }
        // Names the user's header block set: dropped on a hop to another host,
        // like Authorization, since they may carry credentials.
        let mut user_header_names = Vec::new();
        if let Some(lines) = &req.header_lines {
            let filled = self.secrets.fill(lines);
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
                self.secrets.fill(&auth.user),
                self.secrets.fill(&auth.password)
            );
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| http::Error::Transport("invalid basic auth".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        // Bytes: each redirect hop clones the body, which should not copy it.
        let mut body = bytes::Bytes::from(self.secrets.fill_bytes(&req.body));

        for hop in 0..=MAX_REDIRECTS {
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
                    return Err(http::Error::Transport(format!(
                        "more than {MAX_REDIRECTS} redirects"
                    )));
                }
                let next = url
                    .join(location)
                    .map_err(|e| http::Error::Transport(format!("bad redirect location: {e}")))?;
                self.check(&next, "redirect to ")?;
                if status == StatusCode::SEE_OTHER
                    || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                        && method == Method::POST)
                {
                    method = Method::GET;
                    body = bytes::Bytes::new();
                    headers.remove(CONTENT_TYPE);
                    headers.remove(CONTENT_LENGTH);
                }
                if next.origin() != url.origin() {
                    headers.remove(AUTHORIZATION);
                    headers.remove(COOKIE);
                    for name in &user_header_names {
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

    fn check_deadline(&self) -> Result<(), http::Error> {
        if Instant::now() >= self.deadline {
            Err(http::Error::Timeout)
        } else {
            Ok(())
        }
    }

    fn check(&self, url: &Url, what: &str) -> Result<(), http::Error> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(http::Error::Denied(format!(
                "{what}{}: only http and https are allowed",
                url.scheme()
            )));
        }
        match self.host_denied(url.host_str().unwrap_or(""), what) {
            None => Ok(()),
            Some(why) => Err(http::Error::Denied(why)),
        }
    }

    fn header(&self, name: &str, value: &str) -> Result<(HeaderName, HeaderValue), http::Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| http::Error::Transport(format!("invalid header name {name:?}")))?;
        let filled = self.secrets.fill(value);
        let is_secret = filled != value;
        let mut value = HeaderValue::from_str(&filled)
            .map_err(|_| http::Error::Transport(format!("invalid value for header {name}")))?;
        value.set_sensitive(is_secret || name == AUTHORIZATION);
        Ok((name, value))
    }

    fn transport_error(&self, url: &Url, e: reqwest::Error) -> http::Error {
        if e.is_timeout() {
            return http::Error::Timeout;
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
        http::Error::Transport(self.secrets.describe(&format!("{host}: {why}")))
    }

    async fn read(&self, mut resp: reqwest::Response) -> Result<http::Response, http::Error> {
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), self.secrets.hide(v.to_str().ok()?))))
            .collect();
        let cap = self.limits.max_response_bytes;
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
        let (body, truncated) = read_capped.await.map_err(|e| {
            http::Error::Transport(format!("reading the reply: {}", e.without_url()))
        })?;
        Ok(http::Response {
            status,
            headers,
            body: self.secrets.hide_bytes(&body),
            truncated,
        })
    }
}
