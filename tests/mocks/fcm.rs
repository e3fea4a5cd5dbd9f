//! A mock of Firebase Cloud Messaging's HTTP v1 API and Google's OAuth 2.0
//! token endpoint, built from their docs.
//!
//! `POST /token` (developers.google.com/identity/protocols/oauth2/
//! service-account): the form `grant_type=urn:ietf:params:oauth:grant-type:
//! jwt-bearer&assertion=JWT`; the JWT is verified for real: header `alg`
//! RS256 and `typ` JWT, the RS256 signature against the public key of
//! tests/keys/rsa.pem (the key in [`key_file`]), claims `iss` = the
//! account's `client_email`, `scope` the FCM scope, `aud` this endpoint's
//! URL, `iat` about now and `exp` after it by at most an hour. Success is
//! `{access_token, expires_in: 3599, token_type: "Bearer"}`; a failure is
//! OAuth's `400 {"error": "invalid_grant", "error_description": …}`.
//!
//! `POST /v1/projects/{PROJECT}/messages:send`
//! (firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send):
//! `Authorization: Bearer` a token issued here, a body `{"message": {…}}`
//! with exactly one of `token` and `topic` and a `notification` of strings;
//! the reply `{"name": "projects/{PROJECT}/messages/{id}"}`. Errors are
//! `google.rpc.Status` bodies with an `FcmError` detail and the documented
//! HTTP status of its `ErrorCode`: UNREGISTERED 404 (the device token
//! `unregistered-device`), QUOTA_EXCEEDED 429 with `Retry-After` (a title
//! holding "quota"), UNAVAILABLE 503 (a title holding "unavailable"),
//! INVALID_ARGUMENT 400 (a malformed message), and 401 UNAUTHENTICATED
//! without a detail for a token it does not take (here: the token presented
//! with the first title that says "expire", as if it had expired early).
//! `Mock::service(mocks::fcm::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub const PROJECT: &str = "mcp-push-demo";
pub const CLIENT_EMAIL: &str = "push@mcp-push-demo.iam.gserviceaccount.com";
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
pub const RSA_PEM: &str = include_str!("../keys/rsa.pem");

/// A service-account key file as the Firebase console writes it.
pub fn key_file() -> String {
    serde_json::to_string_pretty(&json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": RSA_PEM,
        "client_email": CLIENT_EMAIL,
        "client_id": "123456789012345678901",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/push%40mcp-push-demo.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    }))
    .unwrap()
}

/// The DER RSAPublicKey of the test key.
fn public_key() -> Vec<u8> {
    use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};
    let der = PrivatePkcs8KeyDer::from_pem_slice(RSA_PEM.as_bytes()).unwrap();
    let pair = ring::rsa::KeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    use ring::signature::KeyPair;
    pair.public_key().as_ref().to_vec()
}

fn b64(part: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
}

/// Why the assertion is refused, if it is.
fn check_assertion(jwt: &str, audience: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe".into());
    };
    let json_of = |p: &str| -> Option<Value> { serde_json::from_slice(&b64(p)?).ok() };
    let (Some(h), Some(c), Some(sig)) = (json_of(header), json_of(claims), b64(signature)) else {
        return Err("Invalid JWT Signature.".into());
    };
    if h["alg"] != "RS256" || h.get("typ").is_some_and(|t| t != "JWT") {
        return Err("Invalid JWT header".into());
    }
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key(),
    )
    .verify(format!("{header}.{claims}").as_bytes(), &sig)
    .map_err(|_| "Invalid JWT Signature.".to_string())?;
    if c["iss"] != CLIENT_EMAIL {
        return Err("Invalid issuer".into());
    }
    if c["scope"] != SCOPE {
        return Err("Invalid OAuth scope or ID token audience provided.".into());
    }
    if c["aud"] != audience {
        return Err(format!("Invalid JWT: aud {} is not {audience}", c["aud"]));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (Some(iat), Some(exp)) = (c["iat"].as_i64(), c["exp"].as_i64()) else {
        return Err("Invalid JWT: iat and exp are required".into());
    };
    if (iat - now).abs() > 300 || exp <= iat || exp - iat > 3600 || exp < now {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    Ok(())
}

fn fcm_error(status: u16, rpc_status: &str, code: Option<&str>, message: &str) -> Reply {
    let mut error = json!({"code": status, "message": message, "status": rpc_status});
    if let Some(code) = code {
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": code,
        }]);
    }
    Reply::json(status, json!({"error": error}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    // Tokens issued, and the ones it no longer takes.
    let issued: Mutex<(u32, Vec<String>)> = Mutex::new((0, Vec::new()));
    move |r: &Recorded| {
        let send_path = format!("/v1/projects/{PROJECT}/messages:send");
        match (r.method.as_str(), r.path()) {
            ("POST", "/token") => {
                if r.form("grant_type").as_deref()
                    != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
                {
                    return Reply::json(
                        400,
                        json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
                    );
                }
                let audience = format!("http://{}/token", r.header("host").unwrap_or_default());
                let assertion = r.form("assertion").unwrap_or_default();
                if let Err(why) = check_assertion(&assertion, &audience) {
                    return Reply::json(
                        400,
                        json!({"error": "invalid_grant", "error_description": why}),
                    );
                }
                let mut state = issued.lock().unwrap();
                state.0 += 1;
                Reply::json(
                    200,
                    json!({"access_token": format!("ya29.mock-{}", state.0), "expires_in": 3599, "token_type": "Bearer"}),
                )
            }
            ("POST", p) if p == send_path => {
                let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let m = &body["message"];
                let title = m["notification"]["title"].as_str().unwrap_or_default();
                let token = r
                    .header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .unwrap_or_default();
                {
                    let mut state = issued.lock().unwrap();
                    let known = token
                        .strip_prefix("ya29.mock-")
                        .and_then(|n| n.parse::<u32>().ok())
                        .is_some_and(|n| (1..=state.0).contains(&n));
                    // "expire": the token presented first is taken as one
                    // that expired early; a new one is taken.
                    if known && title.contains("expire") && state.1.is_empty() {
                        state.1.push(token.to_string());
                    }
                    if !known || state.1.iter().any(|t| t == token) {
                        return fcm_error(
                            401,
                            "UNAUTHENTICATED",
                            None,
                            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                        );
                    }
                }
                let targets = ["token", "topic", "condition"]
                    .iter()
                    .filter(|k| m[**k].is_string())
                    .count();
                let notification_ok = m["notification"]
                    .as_object()
                    .is_some_and(|n| n.values().all(Value::is_string));
                let data_ok = m.get("data").is_none_or(|d| {
                    d.as_object()
                        .is_some_and(|d| d.values().all(Value::is_string))
                });
                if targets != 1 || !notification_ok || !data_ok {
                    return fcm_error(
                        400,
                        "INVALID_ARGUMENT",
                        Some("INVALID_ARGUMENT"),
                        "Request contains an invalid argument.",
                    );
                }
                if m["token"] == "unregistered-device" {
                    return fcm_error(
                        404,
                        "NOT_FOUND",
                        Some("UNREGISTERED"),
                        "Requested entity was not found.",
                    );
                }
                if title.contains("quota") {
                    return fcm_error(
                        429,
                        "RESOURCE_EXHAUSTED",
                        Some("QUOTA_EXCEEDED"),
                        "Quota exceeded for quota metric 'Send requests'.",
                    )
                    .header("Retry-After", "30");
                }
                if title.contains("unavailable") {
                    return fcm_error(
                        503,
                        "UNAVAILABLE",
                        Some("UNAVAILABLE"),
                        "The service is currently unavailable.",
                    );
                }
                Reply::json(
                    200,
                    json!({"name": format!("projects/{PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96")}),
                )
            }
            _ => fcm_error(404, "NOT_FOUND", None, "Not Found"),
        }
    }
}
