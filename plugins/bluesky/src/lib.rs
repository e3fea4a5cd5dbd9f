//! Bluesky posts (`BLUESKY_HANDLE`, `BLUESKY_APP_PASSWORD`, Apprise's
//! `bluesky://HANDLE@APP_PASSWORD` and `bsky://`).
//!
//! Sources: the AT Protocol's XRPC methods as Bluesky documents them
//! (docs.bsky.app, "HTTP reference"): `com.atproto.server.createSession`
//! (`identifier`, `password` → `accessJwt`, `did`; 401
//! `AuthenticationRequired` for a wrong password) and
//! `com.atproto.repo.createRecord` (`repo` the account's DID, `collection`
//! `app.bsky.feed.post`, the record's `text`, `createdAt` and `facets`; →
//! `uri`, `cid`); errors as `{"error", "message"}`, `ExpiredToken` for an
//! access token past its time, 429 `RateLimitExceeded` with `ratelimit-reset`
//! (Unix seconds); the post lexicon (`app.bsky.feed.post`: text at most 300
//! graphemes) and rich-text facets (`app.bsky.richtext.facet#link`, byte
//! offsets into the UTF-8 text). Apprise's `bluesky.py` for the URL forms,
//! the handle completed with `.bsky.social` when it has no dot, and the title
//! folded into the text.
//!
//! Where the sources differ: Apprise resolves the handle to its DID and the
//! DID document to the account's own server (through `plc.directory`) before
//! logging in there; here the login and the post go to one service, by
//! default `https://bsky.social`, which serves every account it hosts (set
//! `BLUESKY_SERVICE` for an account on another server), so that the channel
//! reaches only hosts it declares. Apprise cuts at 280 characters; the
//! lexicon's 300 is used here (counted in characters, never more than
//! graphemes). Not in qinglong's notify.py: `BLUESKY_*` are mcp-push's own
//! names.

use mcp_push_sdk::cache;
use mcp_push_sdk::prelude::*;

struct Bluesky;

const SCHEMES: &[&str] = &["bluesky", "bsky"];
const OFFICIAL: &str = "https://bsky.social";
/// The post lexicon's limit is 300 graphemes; characters never outnumber them.
const LIMIT: usize = 300;
/// Where the session (`did accessJwt`) is kept between sends.
const SESSION: &str = "session";
/// Bluesky's access tokens live about two hours; kept for less, and an
/// `ExpiredToken` logs in again anyway.
const SESSION_SECS: u32 = 3600;

impl Channel for Bluesky {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "bluesky",
            "Bluesky",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Bluesky account",
        )
        .formats(&["text"])
        .setting(
            Setting::new("handle", "The account's handle (ada.bsky.social)")
                .env(&["BLUESKY_HANDLE"])
                .required(),
        )
        .setting(
            Setting::new("app_password", "An app password (Settings → App passwords)")
                .env(&["BLUESKY_APP_PASSWORD"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("service", "The account's server (https://bsky.social)")
                .env(&["BLUESKY_SERVICE"])
                .default_value(OFFICIAL),
        )
        .allow_host("bsky.social")
        .allow_host("setting:service")
        .schemes(SCHEMES)
    }

    /// `bluesky://HANDLE@APP_PASSWORD` (or `bsky://`), as Apprise writes it.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let (Some(handle), false) = (u.user.clone(), u.host.is_empty()) else {
            return Err(format!(
                "{}:// needs the handle and an app password: {}://HANDLE@APP_PASSWORD",
                u.scheme, u.scheme
            ));
        };
        Pairs::new()
            .set("handle", handle)
            .set("app_password", u.authority())
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let service = settings.base_url("service", OFFICIAL)?;
        let handle = settings.require("handle")?.trim().trim_start_matches('@');
        let handle = match handle.contains('.') {
            true => handle.to_string(),
            false => format!("{handle}.bsky.social"),
        };
        let password = settings.require("app_password")?;
        let login = || {
            let reply = Request::post(format!("{service}/xrpc/com.atproto.server.createSession"))
                .json(&json!({"identifier": handle, "password": password}))
                .send()?;
            let reply = checked(reply)?;
            let v = reply.json()?;
            match (v["did"].as_str(), v["accessJwt"].as_str()) {
                (Some(did), Some(jwt)) => Ok((format!("{did} {jwt}"), SESSION_SECS)),
                _ => Err(SendError::Unavailable(
                    "createSession gave no did and accessJwt".into(),
                )),
            }
        };
        let record = post(msg);
        let reply = cache::with_token(SESSION, login, expired, |session| {
            let (did, jwt) = session.split_once(' ').unwrap_or_default();
            Request::post(format!("{service}/xrpc/com.atproto.repo.createRecord"))
                .bearer(jwt)
                .json(&json!({
                    "repo": did,
                    "collection": "app.bsky.feed.post",
                    "record": record,
                }))
                .send()
        })?;
        let reply = checked(reply)?;
        Ok(Receipt::from_reply(&reply.json()?, "uri"))
    }
}

/// The post: title and body in the text, cut to the limit, and the link
/// after it as a link facet (byte offsets, as the facet spec counts).
fn post(msg: &Message) -> mcp_push_sdk::serde_json::Value {
    let link = msg.link.as_deref().filter(|l| !l.is_empty());
    let room = match link {
        Some(l) => LIMIT.saturating_sub(l.chars().count() + 2),
        None => LIMIT,
    };
    let mut text = truncate(&msg.text(), Limit::Chars(room), CUT_MARKER);
    let mut facets = Vec::new();
    if let Some(link) = link {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        text.push_str(link);
        facets.push(json!({
            "index": {"byteStart": start, "byteEnd": text.len()},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}],
        }));
    }
    let now = mcp_push_sdk::crypto::unix_millis();
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": format!(
            "{}.{:03}Z",
            mcp_push_sdk::crypto::utc_timestamp(now / 1000).trim_end_matches('Z'),
            now % 1000
        ),
    });
    if !facets.is_empty() {
        record["facets"] = json!(facets);
    }
    record
}

/// Whether the service no longer takes the kept access token.
fn expired(reply: &Response) -> bool {
    reply.status == 400 && error_of(reply).0 == "ExpiredToken"
        || reply.status == 401 && error_of(reply).0 == "InvalidToken"
}

/// An XRPC reply's `error` and `message`.
fn error_of(reply: &Response) -> (String, String) {
    let v = reply.json().unwrap_or_default();
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    (field("error"), field("message"))
}

/// A 2xx reply, else the XRPC error as the SDK's: 429 waits until
/// `ratelimit-reset`, 5xx is worth retrying, the rest is refused.
fn checked(reply: Response) -> Result<Response, SendError> {
    if reply.is_success() {
        return Ok(reply);
    }
    let (error, message) = error_of(&reply);
    let why = match (error.is_empty(), message.is_empty()) {
        (false, false) => format!("{error}: {message}"),
        (false, true) => error,
        _ => format!("HTTP {}: {}", reply.status, reply.snippet()),
    };
    Err(match reply.status {
        429 => {
            let reset = reply
                .header("ratelimit-reset")
                .and_then(|r| r.trim().parse::<u64>().ok());
            let now = mcp_push_sdk::crypto::unix_millis() / 1000;
            SendError::RateLimited(
                reset
                    .map(|r| r.saturating_sub(now).clamp(1, u32::MAX.into()) as u32)
                    .or(reply.retry_after()),
            )
        }
        408 | 500..=599 => SendError::Unavailable(why),
        _ => SendError::Rejected(why),
    })
}

export_channel!(Bluesky);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    fn harness() -> Harness {
        Harness::new::<Bluesky>()
            .setting("handle", "ada")
            .setting("app_password", "app-pass-1234")
    }

    fn session() -> Reply {
        Reply::json(
            200,
            json!({"did": "did:plc:ada", "accessJwt": "jwt-1", "handle": "ada.bsky.social"}),
        )
    }

    #[test]
    fn logs_in_once_and_posts_the_text_with_a_link_facet() {
        let h = harness()
            .reply(session())
            .reply(Reply::json(
                200,
                json!({"uri": "at://did:plc:ada/app.bsky.feed.post/1", "cid": "c"}),
            ))
            .reply(Reply::json(
                200,
                json!({"uri": "at://did:plc:ada/app.bsky.feed.post/2", "cid": "c"}),
            ));
        let mut msg = message("Deploy done", "v2 is live ✓");
        msg.link = Some("https://ci.example/42".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(
            receipt.remote_id.as_deref(),
            Some("at://did:plc:ada/app.bsky.feed.post/1")
        );
        h.send(&message("again", "b")).unwrap();
        let sent = h.requests();
        assert_eq!(sent.len(), 3, "one login for two posts");
        assert!(
            sent[0]
                .url
                .ends_with("/xrpc/com.atproto.server.createSession")
        );
        let login = sent[0].json();
        assert_eq!(login["identifier"], "ada.bsky.social");
        let post = sent[1].json();
        assert_eq!(post["repo"], "did:plc:ada");
        let text = post["record"]["text"].as_str().unwrap();
        assert_eq!(text, "Deploy done\n\nv2 is live ✓\n\nhttps://ci.example/42");
        let facet = &post["record"]["facets"][0];
        let (start, end) = (
            facet["index"]["byteStart"].as_u64().unwrap() as usize,
            facet["index"]["byteEnd"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text.as_bytes()[start..end], b"https://ci.example/42");
        assert!(sent[1].header("authorization").unwrap().ends_with("jwt-1"));
    }

    #[test]
    fn an_expired_token_logs_in_again_once() {
        let h = harness()
            .reply(session())
            .reply(Reply::json(
                400,
                json!({"error": "ExpiredToken", "message": "Token has expired"}),
            ))
            .reply(session())
            .reply(Reply::json(200, json!({"uri": "at://x/1"})));
        assert!(h.send(&message("t", "b")).is_ok());
        assert_eq!(h.requests().len(), 4);
    }

    #[test]
    fn errors_are_the_services() {
        let wrong = harness().reply(Reply::json(
            401,
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        ));
        let err = wrong.send(&message("t", "b")).unwrap_err();
        assert!(
            matches!(&err, SendError::Rejected(m) if m.contains("Invalid identifier or password")),
            "{err:?}"
        );
        let long = "x".repeat(400);
        let h = harness()
            .reply(session())
            .reply(Reply::json(200, json!({"uri": "at://x/1"})));
        h.send(&message("", &long)).unwrap();
        let text = h.requests()[1].json()["record"]["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(text.chars().count() <= LIMIT, "{}", text.chars().count());
    }

    #[test]
    fn apprise_urls() {
        let pairs = Bluesky::parse_url("bluesky://ada.bsky.social@abcd-efgh-ijkl-mnop").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("handle".to_string(), "ada.bsky.social".to_string()),
                (
                    "app_password".to_string(),
                    "abcd-efgh-ijkl-mnop".to_string()
                )
            ]
        );
        assert!(Bluesky::parse_url("bsky://ada").is_err());
    }
}
