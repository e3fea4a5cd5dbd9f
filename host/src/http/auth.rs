//! Who may talk to `mcp-push serve`: anyone on loopback, only bearers of
//! `MCP_PUSH_TOKEN` once the server is reachable from elsewhere.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// Shorter tokens are refused: a guessable token is no protection.
pub const MIN_TOKEN_LEN: usize = 16;

/// Paths answered without a token (load balancers and probes).
const OPEN_PATHS: [&str; 1] = ["/healthz"];

/// Paths that also take the token as `?token=`: a browser's WebSocket cannot
/// set headers, nor can a browser opening the dashboard (which then keeps the
/// token in session storage and drops it from the address bar).
const QUERY_TOKEN_PATHS: [&str; 2] = ["/v1/stream", "/"];

#[derive(Clone)]
pub struct Auth {
    token: Option<Arc<str>>,
}

impl Auth {
    /// A token, when set, is always required; without one only a loopback
    /// address may be served.
    pub fn for_listen(addr: SocketAddr, token: Option<String>) -> Result<Auth, String> {
        let token = token.filter(|t| !t.is_empty());
        match &token {
            Some(t) if t.chars().count() < MIN_TOKEN_LEN => Err(format!(
                "MCP_PUSH_TOKEN is too short ({} characters): use at least {MIN_TOKEN_LEN}, \
                 e.g. the output of `openssl rand -hex 32`",
                t.chars().count()
            )),
            None if !addr.ip().is_loopback() => Err(format!(
                "refusing to serve on {addr} without a token: an address beyond loopback is \
                 reachable by others. Set MCP_PUSH_TOKEN to a long random value (e.g. \
                 `openssl rand -hex 32`); clients then send `Authorization: Bearer <token>`. \
                 Or listen on 127.0.0.1."
            )),
            _ => Ok(Auth {
                token: token.map(Arc::from),
            }),
        }
    }

    pub fn required(&self) -> bool {
        self.token.is_some()
    }

    fn admits(&self, req: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        if presented.is_some_and(|p| same(p.trim().as_bytes(), token.as_bytes())) {
            return true;
        }
        QUERY_TOKEN_PATHS.contains(&req.uri().path())
            && query_token(req.uri().query().unwrap_or_default())
                .is_some_and(|p| same(p.as_bytes(), token.as_bytes()))
    }
}

/// The `token` parameter of a query string, percent-decoded.
fn query_token(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Comparison whose time does not depend on where the strings differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn check(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    if OPEN_PATHS.contains(&req.uri().path()) || auth.admits(&req) {
        return next.run(req).await;
    }
    // A question's reply page: its reply token, checked there, is the
    // person's credential.
    if super::asks::is_reply_path(req.uri().path()) {
        req.extensions_mut().insert(super::asks::WithoutBearer);
        return next.run(req).await;
    }
    let body = axum::Json(serde_json::json!({
        "error": {
            "code": "unauthorized",
            "message": "missing or wrong bearer token: send `Authorization: Bearer <MCP_PUSH_TOKEN>` \
                        (the stream at /v1/stream and the dashboard at / also take `?token=`)",
        }
    }));
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_needs_a_long_token() {
        let public: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        assert!(Auth::for_listen(public, None).is_err());
        assert!(Auth::for_listen(public, Some("short".into())).is_err());
        assert!(
            Auth::for_listen(public, Some("x".repeat(32)))
                .unwrap()
                .required()
        );
        assert!(!Auth::for_listen(local, None).unwrap().required());
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
        assert_eq!(
            query_token("since=3&token=a%2Bb+c").as_deref(),
            Some("a+b c")
        );
        assert_eq!(query_token("since=3"), None);
    }
}
