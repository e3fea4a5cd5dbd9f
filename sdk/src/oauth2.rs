//! OAuth 2.0 access tokens for channels whose service wants one (Microsoft
//! Graph; any API behind a client-credentials grant): fetched from the token
//! endpoint, kept in the host cache for their lifetime, and fetched anew
//! once when the service says a kept one is no longer good (401).
//!
//! Sources: RFC 6749 §4.4 (the client credentials grant: a form POST with
//! `grant_type=client_credentials` and an optional `scope`), §2.3.1 (the
//! client's id and secret in the form body, `client_secret_post`, which
//! every token endpoint accepts), §5.1 (the reply: `access_token`,
//! `token_type`, `expires_in`), §5.2 (errors: 400, or 401 for
//! `invalid_client`, with `error` and `error_description`); RFC 6750 §3.1
//! (a resource server's 401 `invalid_token` for an expired token).
//!
//! The secret is a setting's placeholder: the host puts the value in only
//! in the request to the token endpoint (an allowed host), so the
//! component never sees it; the token it gets back is a reply from an
//! allowed host.

use crate::cache;
use crate::{Request, Response, SendError};

/// A client-credentials grant at one token endpoint.
pub struct ClientCredentials<'a> {
    pub token_url: &'a str,
    pub client_id: &'a str,
    /// The secret's placeholder, as the settings give it.
    pub client_secret: &'a str,
    pub scope: Option<&'a str>,
}

/// When the endpoint gives no `expires_in` (it "RECOMMENDED"s one), an
/// hour, the common lifetime.
const DEFAULT_TTL: u32 = 3600;

impl ClientCredentials<'_> {
    /// A fresh token and how long it lives, in seconds.
    pub fn fetch(&self) -> Result<(String, u32), SendError> {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
        ];
        if let Some(scope) = self.scope {
            form.push(("scope", scope));
        }
        let reply = Request::post(self.token_url).form(&form).send()?;
        if !reply.is_success() {
            return Err(token_error(&reply));
        }
        cache::token_from(&reply.json()?, "access_token", "expires_in", DEFAULT_TTL)
    }

    /// `send` with a bearer token kept under `key` (fetched when none is
    /// kept); when the service answers 401, the kept token is dropped and
    /// `send` runs once more with a fresh one.
    pub fn with_bearer(
        &self,
        key: &str,
        send: impl FnMut(&str) -> Result<Response, SendError>,
    ) -> Result<Response, SendError> {
        cache::with_token(key, || self.fetch(), |r| r.status == 401, send)
    }
}

/// What a token endpoint's refusal means for the delivery (RFC 6749 §5.2):
/// a wrong client id or secret, a grant or scope the client may not use,
/// are the user's to fix (`config`: never retried, and said as such);
/// 429 waits, 5xx is retried.
pub fn token_error(reply: &Response) -> SendError {
    let body = reply.json().ok();
    let field = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let (error, description) = (field("error"), field("error_description"));
    let why = match (&error, &description) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e.clone(),
        _ => format!("HTTP {}: {}", reply.status, reply.snippet()),
    };
    match (reply.status, error.as_deref()) {
        (429, _) => SendError::RateLimited(reply.retry_after()),
        (s, _) if s >= 500 || s == 408 => {
            SendError::Unavailable(format!("the token endpoint failed: {why}"))
        }
        (_, Some("invalid_client" | "unauthorized_client")) => SendError::Config(format!(
            "the token endpoint refused the client id or secret ({why}): check them"
        )),
        (_, Some("invalid_scope" | "unsupported_grant_type" | "invalid_grant")) => {
            SendError::Config(format!(
                "the token endpoint refused the grant ({why}): check the app's permissions"
            ))
        }
        _ => SendError::Rejected(format!("the token endpoint refused: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("retry-after".into(), "7".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn refusals_say_what_to_do_next() {
        let bad_secret = reply(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        );
        let SendError::Config(why) = token_error(&bad_secret) else {
            panic!()
        };
        assert!(
            why.contains("AADSTS7000215") && why.contains("client id or secret"),
            "{why}"
        );
        let scope = reply(
            400,
            r#"{"error":"invalid_scope","error_description":"AADSTS70011"}"#,
        );
        assert!(matches!(token_error(&scope), SendError::Config(w) if w.contains("permissions")));
        assert!(matches!(
            token_error(&reply(429, "")),
            SendError::RateLimited(Some(7))
        ));
        assert!(matches!(
            token_error(&reply(503, "busy")),
            SendError::Unavailable(_)
        ));
        assert!(
            matches!(token_error(&reply(400, "<html>")), SendError::Rejected(w) if w.contains("HTTP 400"))
        );
    }
}
