//! Firebase Cloud Messaging, HTTP v1 (`FCM_KEY` or `FCM_KEY_FILE`,
//! `FCM_TARGETS`, `FCM_PROJECT`; Apprise's
//! `fcm://PROJECT/TARGET...?keyfile=/path/sa.json`).
//!
//! Sources: Firebase's reference for `projects.messages.send` (POST
//! `https://fcm.googleapis.com/v1/projects/{project}/messages:send`, body
//! `{"message": {token | topic, notification: {title, body, image},
//! android, apns, webpush, data}}`, reply `{"name":
//! "projects/…/messages/…"}`; errors as a `google.rpc.Status`, `{"error":
//! {code, message, status, details: [{"@type":
//! "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode}]}}`,
//! with the `ErrorCode` table: UNREGISTERED 404, INVALID_ARGUMENT 400,
//! SENDER_ID_MISMATCH 403, QUOTA_EXCEEDED 429, UNAVAILABLE 503, INTERNAL
//! 500, THIRD_PARTY_AUTH_ERROR 401, UNSPECIFIED_ERROR); Google's OAuth 2.0
//! for service accounts (developers.google.com/identity/protocols/oauth2/
//! service-account: a JWT with header `{"alg":"RS256","typ":"JWT"}`, claims
//! `iss` = the account's `client_email`, `scope`
//! `https://www.googleapis.com/auth/firebase.messaging`, `aud`
//! `https://oauth2.googleapis.com/token`, `iat`, `exp` at most an hour
//! later, POSTed as the form `grant_type=urn:ietf:params:oauth:grant-type:
//! jwt-bearer&assertion=JWT`; the reply's `access_token` and `expires_in`);
//! Apprise's `apprise/plugins/fcm/` for the URL form, targets (`#topic`, a
//! device token otherwise), the `+key=value` data entries, `image_url`,
//! `color` and its priority table (`min`/`low`/`normal` → Android `NORMAL`,
//! APNs `apns-priority: 5`, Web Push `Urgency` very-low/low/normal;
//! `high`/`max` → Android `HIGH`, APNs `10` with `apns-push-type: alert`,
//! Web Push `high`).
//!
//! The key: Google gives a service account's private key as a JSON file.
//! The component reads no files and never sees a secret, so the file's
//! contents are the secret setting `key`: the user gives it as `FCM_KEY`
//! (the JSON itself) or, as any secret setting, through a file
//! (`FCM_KEY_FILE=/path/sa.json`, `key_file = "…"` in a channel table,
//! `?keyfile=` in the URL, which becomes `key_file`): the host reads the
//! file into the secret (config/from_file.rs). The JWT is signed by the host
//! (`keys` import, RS256) with the key behind the placeholder. The account's
//! `client_email` (the JWT's issuer) and `project_id` are not secret; the
//! setting's shape declares them public (`key.client_email`,
//! `key.project_id`), so the host hands them over and the user approves
//! that once. The project defaults to the file's `project_id`; a different
//! one given is refused, as Apprise refuses it.
//!
//! The access token (an hour) is kept in the host's cache for a minute less
//! than `expires_in`; a 401 that is not THIRD_PARTY_AUTH_ERROR fetches a new
//! one once. One `messages:send` per target, as the API takes one; a retry
//! skips the targets already reached, and a target the service refuses for
//! good (UNREGISTERED, INVALID_ARGUMENT, SENDER_ID_MISMATCH) does not stop
//! the others: the delivery is refused at the end, naming them.
//!
//! Where the sources differ: Apprise's legacy mode (`fcm://APIKEY/…`, the
//! server key and `https://fcm.googleapis.com/fcm/send`) is refused with the
//! reason: Google shut the legacy API down in June 2024. Apprise takes the
//! token endpoint from the key file's `token_uri`; here it is the setting
//! `oauth_url` (Google's by default), so the channel reaches only hosts it
//! declares. Apprise has no conditions, and neither has this. Not in
//! qinglong's notify.py: `FCM_*` are mcp-push's own names.

use mcp_push_sdk::cache;
use mcp_push_sdk::delivery;
use mcp_push_sdk::keys::{self, Algorithm};
use mcp_push_sdk::prelude::*;

struct Fcm;

const SCHEMES: &[&str] = &["fcm"];
const API: &str = "https://fcm.googleapis.com";
const OAUTH_URL: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Where the access token is kept between sends.
const TOKEN: &str = "access_token";
/// The assertion's life: Google takes at most an hour.
const ASSERTION_SECS: u64 = 3600;
/// FCM takes a message of at most 4,096 bytes (INVALID_ARGUMENT beyond);
/// the title and body are cut to leave room for the rest of it.
const TITLE_BYTES: usize = 256;
const BODY_BYTES: usize = 3000;
const PRIORITIES: &[&str] = &["min", "low", "normal", "high", "max"];
/// A service-account JSON file as Google writes it (`project_id` before
/// `client_email`), and as a tool that sorts keys writes it.
const FILE_IN_ORDER: &str = r#"(?s)\s*\{.*"project_id"\s*:\s*"(?P<project_id>[^"\\]*)".*"client_email"\s*:\s*"(?P<client_email>[^"\\]+)".*\}\s*"#;
const FILE_SORTED: &str = r#"(?s)\s*\{.*"client_email"\s*:\s*"(?P<client_email>[^"\\]+)".*"project_id"\s*:\s*"(?P<project_id>[^"\\]*)".*\}\s*"#;

impl Channel for Fcm {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "fcm",
            "Firebase Cloud Messaging",
            env!("CARGO_PKG_VERSION"),
            "Pushes to Android, iOS and web app installs through Firebase (HTTP v1)",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "key",
                "The service account's JSON key file, its contents (or give its path as FCM_KEY_FILE)",
            )
            .env(&["FCM_KEY"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "targets",
                "Device registration tokens and #topics (or /topics/NAME), comma-separated",
            )
            .env(&["FCM_TARGETS"])
            .required(),
        )
        .setting(
            Setting::new("project", "The Firebase project id (default: the key file's)")
                .env(&["FCM_PROJECT"]),
        )
        .setting(
            Setting::new(
                "priority",
                "min, low, normal, high or max (default: from the message's priority)",
            )
            .env(&["FCM_PRIORITY"]),
        )
        .setting(
            Setting::new("data", "Data entries for the app, `key=value` lines")
                .env(&["FCM_DATA"]),
        )
        .setting(Setting::new("image_url", "An https:// image shown with the notification").env(&["FCM_IMAGE_URL"]))
        .setting(Setting::new("color", "The Android notification's color, #rrggbb").env(&["FCM_COLOR"]))
        .setting(
            Setting::new("api_url", "The FCM API (https://fcm.googleapis.com)")
                .env(&["FCM_API_URL"])
                .default_value(API),
        )
        .setting(
            Setting::new("oauth_url", "Google's token endpoint (https://oauth2.googleapis.com/token)")
                .env(&["FCM_OAUTH_URL"])
                .default_value(OAUTH_URL),
        )
        .allow_host("fcm.googleapis.com")
        .allow_host("oauth2.googleapis.com")
        .allow_host("setting:api_url")
        .allow_host("setting:oauth_url")
        .schemes(SCHEMES)
    }

    fn shapes() -> Vec<Shape> {
        vec![
            Shape::new("key")
                .form(
                    "service_account",
                    FILE_IN_ORDER,
                    &["project_id", "client_email"],
                )
                .form(
                    "service_account_sorted",
                    FILE_SORTED,
                    &["project_id", "client_email"],
                ),
        ]
    }

    /// `fcm://PROJECT/TARGET/#TOPIC?keyfile=/path/sa.json`, as Apprise
    /// writes it (`?to=` adds targets, `+key=value` adds data entries,
    /// `priority`, `image_url`, `color`, `project`).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let keyfile = u.param("keyfile");
        if keyfile.is_none()
            || u.param("mode")
                .is_some_and(|m| m.eq_ignore_ascii_case("legacy"))
        {
            return Err(LEGACY.into());
        }
        let mut targets: Vec<String> = u.path.clone();
        if let Some(to) = u.param("to") {
            targets.extend(
                to.split([',', ' '])
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
        }
        if targets.is_empty() {
            return Err(
                "fcm:// needs a device token or #topic: fcm://PROJECT/TOKEN?keyfile=/path/sa.json"
                    .into(),
            );
        }
        let data: Vec<String> = u
            .query
            .iter()
            // Apprise's `+key=value`; the parser reads a raw `+` as a space.
            .filter_map(|(k, v)| {
                let k = k.strip_prefix('+').or(k.strip_prefix(' '))?;
                Some(format!("{k}={v}"))
            })
            .collect();
        let project = u
            .param("project")
            .map(String::from)
            .or(Some(u.host.clone()).filter(|h| !h.is_empty()));
        let color = u
            .param("color")
            .filter(|c| !["yes", "no", "true", "false"].contains(c));
        Pairs::new()
            .set("key_file", keyfile.unwrap_or_default())
            .set("targets", targets.join(","))
            .maybe("project", project)
            .maybe("priority", u.param("priority"))
            .maybe("image_url", u.param("image_url"))
            .maybe("color", color)
            .maybe("data", (!data.is_empty()).then(|| data.join("\n")))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let key = settings.require("key")?;
        let (Some(email), Some(file_project)) = (
            settings.get("key.client_email"),
            settings.get("key.project_id"),
        ) else {
            return Err(SendError::Config(
                "the key is not a Google service-account JSON key file (one with client_email and \
                 project_id): create one under Project settings → Service accounts"
                    .into(),
            ));
        };
        let project = settings.get("project").unwrap_or(file_project);
        if !file_project.is_empty() && project != file_project {
            return Err(SendError::Config(format!(
                "the key file is for project {file_project:?}, not {project:?}"
            )));
        }
        let api = settings.base_url("api_url", API)?;
        let oauth_url = settings.get_or("oauth_url", OAUTH_URL).to_string();
        let targets = targets(settings)?;
        let message = message(settings, msg)?;
        let fetch = || access_token(key, email, &oauth_url);
        let url = format!("{api}/v1/projects/{}/messages:send", url_encode(project));

        let mut first_name = None;
        let mut refused = Vec::new();
        // A token fetch, a fetch again after a 401 and the resend.
        delivery::send_parts(&targets, 3, |target| {
            let mut body = json!({"message": message});
            match target {
                Target::Token(t) => body["message"]["token"] = json!(t),
                Target::Topic(t) => body["message"]["topic"] = json!(t),
            }
            let reply = cache::with_token(TOKEN, fetch, stale, |token| {
                Request::post(&url).bearer(token).json(&body).send()
            })?;
            match checked(&reply) {
                Ok(()) => {
                    first_name = first_name.take().or(id_at(&reply.json()?, "name"));
                    Ok(())
                }
                Err(SendError::Rejected(why)) => {
                    refused.push(format!("{}: {why}", target.describe()));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        })?;
        if !refused.is_empty() {
            let reached = targets.len() - refused.len();
            return Err(SendError::Rejected(format!(
                "reached {reached} of {} targets; {}",
                targets.len(),
                refused.join("; ")
            )));
        }
        Ok(Receipt::maybe(first_name))
    }
}

const LEGACY: &str = "fcm:// needs ?keyfile=/path/to/service-account.json: Google shut the legacy \
     FCM API (server keys, fcm://APIKEY/...) down in June 2024; only HTTP v1 with a service \
     account remains";

enum Target {
    Token(String),
    Topic(String),
}

impl Target {
    /// For refusals: a topic by name, a device token by its start only.
    fn describe(&self) -> String {
        match self {
            Target::Topic(t) => format!("topic {t}"),
            Target::Token(t) => format!("device {}…", t.chars().take(8).collect::<String>()),
        }
    }
}

/// `#topic` and `/topics/topic` are topics (Apprise takes the first, its
/// legacy mode wrote the second); anything else is a registration token.
fn targets(settings: &Settings) -> Result<Vec<Target>, SendError> {
    let list: Vec<Target> = settings
        .list("targets", &[',', ' ', '\n'])
        .into_iter()
        .map(
            |t| match t.strip_prefix('#').or(t.strip_prefix("/topics/")) {
                Some(topic) => Target::Topic(topic.to_string()),
                None => Target::Token(t.to_string()),
            },
        )
        .collect();
    if list.is_empty() {
        return Err(SendError::Config(
            "no device token or #topic in `targets`".into(),
        ));
    }
    Ok(list)
}

/// The message without its target: notification, priority per platform,
/// color, image and data.
fn message(
    settings: &Settings,
    msg: &Message,
) -> Result<mcp_push_sdk::serde_json::Value, SendError> {
    let mut m = json!({
        "notification": {
            "title": truncate(&msg.title, Limit::Bytes(TITLE_BYTES), CUT_MARKER),
            "body": truncate(&msg.body_with_link(), Limit::Bytes(BODY_BYTES), CUT_MARKER),
        },
    });
    if let Some(image) = settings.get("image_url") {
        m["notification"]["image"] = json!(image);
    }
    let priority = match settings.get("priority") {
        Some(_) => Some(settings.choice("priority", PRIORITIES, "normal")?),
        None => match msg.priority {
            Priority::Low => Some("low"),
            Priority::Normal => None,
            Priority::High => Some("high"),
            Priority::Urgent => Some("max"),
        },
    };
    if let Some(p) = priority {
        let (android, apns, urgency) = match p {
            "min" => ("NORMAL", "5", "very-low"),
            "low" => ("NORMAL", "5", "low"),
            "normal" => ("NORMAL", "5", "normal"),
            _ => ("HIGH", "10", "high"),
        };
        m["android"] = json!({"priority": android});
        m["apns"] = json!({"headers": {"apns-priority": apns}});
        if apns == "10" {
            m["apns"]["headers"]["apns-push-type"] = json!("alert");
        }
        m["webpush"] = json!({"headers": {"Urgency": urgency}});
    }
    if let Some(color) = settings.get("color") {
        let hex = color.trim().trim_start_matches('#');
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(SendError::Config(format!(
                "`color` must be #rrggbb, not {color:?}"
            )));
        }
        m["android"]["notification"] = json!({"color": format!("#{}", hex.to_ascii_lowercase())});
    }
    let mut data = mcp_push_sdk::serde_json::Map::new();
    for line in settings.list("data", &['\n']) {
        let Some((k, v)) = line.split_once('=') else {
            return Err(SendError::Config(format!(
                "`data`: {line:?} is not key=value"
            )));
        };
        data.insert(k.trim().to_string(), json!(v.trim()));
    }
    if !data.is_empty() {
        m["data"] = json!(data);
    }
    Ok(m)
}

/// A fresh access token and its life, for the JWT signed by the host with
/// the key it never shows.
fn access_token(key: &str, email: &str, oauth_url: &str) -> Result<(String, u32), SendError> {
    let now = mcp_push_sdk::crypto::unix_millis() / 1000;
    let claims = json!({
        "iss": email,
        "scope": SCOPE,
        "aud": oauth_url,
        "iat": now,
        "exp": now + ASSERTION_SECS,
    });
    let assertion = keys::jwt(Algorithm::Rs256, key, &claims)?;
    let reply = Request::post(oauth_url)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .send()?;
    if !reply.is_success() {
        // OAuth's `{"error": "invalid_grant", "error_description": …}`.
        let v = reply.json().unwrap_or_default();
        let why = match (v["error"].as_str(), v["error_description"].as_str()) {
            (Some(e), Some(d)) => format!("token: {e}: {d}"),
            (Some(e), None) => format!("token: {e}"),
            _ => format!("token: HTTP {}: {}", reply.status, reply.snippet()),
        };
        return Err(match reply.status {
            429 => SendError::RateLimited(reply.retry_after()),
            408 | 500..=599 => SendError::Unavailable(why),
            _ => SendError::Rejected(why),
        });
    }
    cache::token_from(&reply.json()?, "access_token", "expires_in", 3600)
}

/// The FcmError code of a google.rpc.Status reply, if it has one.
fn error_code(reply: &Response) -> Option<String> {
    let v = reply.json().ok()?;
    v["error"]["details"].as_array()?.iter().find(|d| {
        d["@type"]
            .as_str()
            .is_some_and(|t| t.ends_with("google.firebase.fcm.v1.FcmError"))
    })?["errorCode"]
        .as_str()
        .map(String::from)
}

/// A 401 for the kept token (expired or revoked early), not the APNs or
/// Web Push credentials FCM reports as THIRD_PARTY_AUTH_ERROR.
fn stale(reply: &Response) -> bool {
    reply.status == 401 && error_code(reply).as_deref() != Some("THIRD_PARTY_AUTH_ERROR")
}

/// Success is a 2xx with the message's `name`; otherwise the ErrorCode
/// (else the HTTP status) says what to do: QUOTA_EXCEEDED waits for
/// `Retry-After`, UNAVAILABLE and INTERNAL are retried (UNAVAILABLE after
/// `Retry-After` when given), the rest are refused for good.
fn checked(reply: &Response) -> Result<(), SendError> {
    if reply.is_success() {
        return Ok(());
    }
    let v = reply.json().unwrap_or_default();
    let code = error_code(reply).unwrap_or_else(|| {
        v["error"]["status"]
            .as_str()
            .unwrap_or("UNSPECIFIED_ERROR")
            .to_string()
    });
    let message = v["error"]["message"].as_str().unwrap_or_default();
    let why = match message.is_empty() {
        true => format!("{code} (HTTP {}): {}", reply.status, reply.snippet()),
        false => format!("{code} (HTTP {}): {message}", reply.status),
    };
    Err(match (code.as_str(), reply.status) {
        ("QUOTA_EXCEEDED", _) | (_, 429) => SendError::RateLimited(reply.retry_after()),
        ("UNAVAILABLE", _) if reply.retry_after().is_some() => {
            SendError::RateLimited(reply.retry_after())
        }
        ("UNAVAILABLE" | "INTERNAL", _) | (_, 408 | 500..=599) => SendError::Unavailable(why),
        _ => SendError::Rejected(why),
    })
}

export_channel!(Fcm);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const RSA: &str = include_str!("../../../tests/keys/rsa.pem");

    fn key_file() -> String {
        mcp_push_sdk::serde_json::to_string_pretty(&json!({
            "type": "service_account",
            "project_id": "demo-123",
            "private_key_id": "abc",
            "private_key": RSA,
            "client_email": "push@demo-123.iam.gserviceaccount.com",
            "token_uri": OAUTH_URL,
        }))
        .unwrap()
    }

    fn harness(targets: &str) -> Harness {
        Harness::new::<Fcm>()
            .setting("key", &key_file())
            .setting("targets", targets)
    }

    fn token() -> Reply {
        Reply::json(
            200,
            json!({"access_token": "ya29.tok", "expires_in": 3599, "token_type": "Bearer"}),
        )
    }

    fn sent(name: &str) -> Reply {
        Reply::json(
            200,
            json!({"name": format!("projects/demo-123/messages/{name}")}),
        )
    }

    fn fcm_error(status: u16, code: &str) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": status, "message": "m", "status": "S", "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ]}}),
        )
    }

    #[test]
    fn one_token_signed_by_the_host_then_one_send_per_target() {
        let h = harness("dev-token-1,#news")
            .reply(token())
            .reply(sent("1"))
            .reply(sent("2"));
        let mut msg = message("Build", "green");
        msg.priority = Priority::High;
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("projects/demo-123/messages/1")
        );
        let wire = h.requests();
        assert_eq!(wire.len(), 3);
        assert_eq!(wire[0].url, OAUTH_URL);
        let form = |k: &str| wire[0].form(k).unwrap();
        assert_eq!(
            form("grant_type"),
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        );
        let parts: Vec<String> = form("assertion").split('.').map(String::from).collect();
        assert_eq!(parts.len(), 3);
        let claims: mcp_push_sdk::serde_json::Value =
            mcp_push_sdk::serde_json::from_slice(&base64_url_decode(&parts[1])).unwrap();
        assert_eq!(claims["iss"], "push@demo-123.iam.gserviceaccount.com");
        assert_eq!(claims["scope"], SCOPE);
        assert_eq!(claims["aud"], OAUTH_URL);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            3600
        );
        assert_eq!(
            wire[1].url,
            "https://fcm.googleapis.com/v1/projects/demo-123/messages:send"
        );
        assert_eq!(wire[1].header("authorization"), Some("Bearer ya29.tok"));
        let body = wire[1].json();
        assert_eq!(body["message"]["token"], "dev-token-1");
        assert_eq!(body["message"]["notification"]["title"], "Build");
        assert_eq!(body["message"]["android"]["priority"], "HIGH");
        assert_eq!(body["message"]["apns"]["headers"]["apns-priority"], "10");
        assert_eq!(wire[2].json()["message"]["topic"], "news");

        let h = harness("dev").reply(token()).reply(sent("3"));
        h.send(&message("t", &"é".repeat(4000))).unwrap();
        let body = h.requests()[1].json()["message"]["notification"]["body"].clone();
        assert!(
            body.as_str().unwrap().len() <= BODY_BYTES,
            "cut to fit 4 KB"
        );
    }

    fn base64_url_decode(s: &str) -> Vec<u8> {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    }

    #[test]
    fn errors_by_fcm_error_code() {
        for (reply, want) in [
            (fcm_error(404, "UNREGISTERED"), "rejected"),
            (fcm_error(400, "INVALID_ARGUMENT"), "rejected"),
            (fcm_error(403, "SENDER_ID_MISMATCH"), "rejected"),
            (
                fcm_error(429, "QUOTA_EXCEEDED").header("Retry-After", "30"),
                "limited 30",
            ),
            (fcm_error(503, "UNAVAILABLE"), "unavailable"),
            (fcm_error(500, "INTERNAL"), "unavailable"),
            (fcm_error(401, "THIRD_PARTY_AUTH_ERROR"), "rejected"),
        ] {
            let h = harness("dev").reply(token()).reply(reply);
            let got = match h.send(&message("t", "b")).unwrap_err() {
                SendError::Rejected(_) => "rejected".to_string(),
                SendError::RateLimited(Some(s)) => format!("limited {s}"),
                SendError::Unavailable(_) => "unavailable".to_string(),
                other => format!("{other:?}"),
            };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn settings_and_urls() {
        let pairs = Fcm::parse_url(
            "fcm://demo-123/dev1/%23news?keyfile=/etc/sa.json&+kind=build&priority=high",
        )
        .unwrap();
        let get = |k: &str| pairs.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
        assert_eq!(get("key_file"), Some("/etc/sa.json"));
        assert_eq!(get("targets"), Some("dev1,#news"));
        assert_eq!(get("project"), Some("demo-123"));
        assert_eq!(get("data"), Some("kind=build"));
        assert!(
            Fcm::parse_url("fcm://AAAAkey/dev1")
                .unwrap_err()
                .contains("June 2024")
        );

        let h = harness("dev").setting("project", "other");
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Config(ref m) if m.contains("demo-123")),
            "{err:?}"
        );
        let h = Harness::new::<Fcm>()
            .setting("key", RSA)
            .setting("targets", "dev");
        let err = h.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Config(ref m) if m.contains("service-account")),
            "{err:?}"
        );
    }
}
