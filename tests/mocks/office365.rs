//! A mock of the Microsoft identity platform's token endpoint and Graph's
//! `sendMail`, built from their docs: "OAuth 2.0 client credentials flow"
//! (POST `/{tenant}/oauth2/v2.0/token`, form `client_id`, `client_secret`,
//! `scope` (a resource's `/.default`), `grant_type=client_credentials`;
//! `{token_type, expires_in, ext_expires_in, access_token}`; errors
//! `{error, error_description, error_codes}`: `invalid_client` AADSTS7000215
//! for a wrong secret (401), `invalid_scope` AADSTS1002012 for a scope
//! without `/.default`, AADSTS90002 for an unknown tenant (400)); Graph's
//! "user: sendMail" (POST `/v1.0/users/{id | userPrincipalName}/sendMail`,
//! `Authorization: Bearer`, `{message: {subject, body: {contentType,
//! content}, toRecipients, ...}}`, 202 with no body) and "error responses"
//! (`{error: {code, message}}`: 401 InvalidAuthenticationToken, 404
//! ErrorInvalidUser, 400 ErrorInvalidRecipients, 429 ApplicationThrottled
//! with `Retry-After` — here for a body containing "storm").
//! `Mock::service(mocks::office365::api())` serves both hosts' paths.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::json;

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
pub const SECRET: &str = "qWgdYAmab0YSkuL1qKv5bPX~Zq8-Rr3G.eHkBRpk";
pub const MAILBOX: &str = "ops@contoso.com";
const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJub25jZSI6Im1vY2sifQ.graph.mock";

fn aad(status: u16, error: &str, code: u32, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": format!("AADSTS{code}: {description}"),
               "error_codes": [code], "timestamp": "2026-12-04 21:00:00Z",
               "trace_id": "255d1aef-8c98-452f-ac51-23d051240864",
               "correlation_id": "fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7"}),
    )
}

fn graph(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, json!({"error": {"code": code, "message": message}}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if let Some(tenant) = r
            .path()
            .strip_suffix("/oauth2/v2.0/token")
            .map(|t| t.trim_start_matches('/'))
        {
            return token(r, tenant);
        }
        if let Some(user) = r
            .path()
            .strip_prefix("/v1.0/users/")
            .and_then(|p| p.strip_suffix("/sendMail"))
        {
            return send_mail(r, user);
        }
        graph(404, "UnknownError", "")
    }
}

fn token(r: &Recorded, tenant: &str) -> Reply {
    if tenant != TENANT {
        return aad(
            400,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    if r.form("grant_type").as_deref() != Some("client_credentials") {
        return aad(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if r.form("client_id").as_deref() != Some(CLIENT_ID) {
        return aad(
            400,
            "unauthorized_client",
            700016,
            "Application not found in the directory.",
        );
    }
    if r.form("client_secret").as_deref() != Some(SECRET) {
        return aad(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    if !r.form("scope").is_some_and(|s| s.ends_with("/.default")) {
        return aad(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
        );
    }
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
               "access_token": TOKEN}),
    )
}

fn send_mail(r: &Recorded, user: &str) -> Reply {
    if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
        return graph(401, "InvalidAuthenticationToken", "Access token is empty.");
    }
    let user = user.replace("%40", "@");
    if user != MAILBOX {
        return graph(
            404,
            "ErrorInvalidUser",
            &format!("The requested user '{user}' is invalid."),
        );
    }
    let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
        return graph(400, "RequestBodyRead", "Invalid JSON.");
    };
    let to = &b["message"]["toRecipients"];
    if to.as_array().is_none_or(|l| l.is_empty())
        || to[0]["emailAddress"]["address"].as_str().is_none()
    {
        return graph(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid., Recipient is not resolved. All recipients must be resolved before a message can be submitted.",
        );
    }
    if b["message"]["body"]["content"]
        .as_str()
        .is_some_and(|c| c.contains("storm"))
    {
        return graph(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        )
        .header("retry-after", "10");
    }
    Reply::text(202, "")
}
