//! Office 365 / Outlook e-mail through Microsoft Graph (`O365_TENANT`,
//! `O365_CLIENT_ID`, `O365_CLIENT_SECRET`, `O365_FROM`, `O365_TO`; Apprise's
//! `o365://` and `azure://`).
//!
//! Sources: the Microsoft identity platform's "OAuth 2.0 client credentials
//! flow" (POST `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`,
//! form `client_id`, `client_secret`, `scope=https://graph.microsoft.com/.default`,
//! `grant_type=client_credentials`; the reply `{token_type, expires_in,
//! access_token}`; errors `{error, error_description, error_codes}` such as
//! `invalid_client` AADSTS7000215 for a wrong secret); Graph's "user:
//! sendMail" (POST `/v1.0/users/{id | userPrincipalName}/sendMail` with
//! `{message: {subject, body: {contentType: Text | HTML, content},
//! toRecipients, ccRecipients, bccRecipients}}`, `202 Accepted` with no body;
//! `saveToSentItems` "specify it only if the parameter is false"; the
//! application permission `Mail.Send`); Graph's "error responses" (`{error:
//! {code, message}}`; 401, 403, 404, 429 with `Retry-After`, 503, 504) and
//! "throttling"; Apprise's `office365.py` (the URL
//! `o365://SOURCE/TENANT/CLIENT_ID/SECRET[/TO...]` where the secret may hold
//! `/` and the recipients are the e-mail addresses at the end, `?to=`,
//! `?cc=`, `?bcc=`, `?from=`, `?tenant=`, `?oauth_id=`, `?oauth_secret=`;
//! mail to the source when no one else is named; one mail per recipient).
//! Not in qinglong's notify.py: `O365_*` are mcp-push's own names.
//!
//! The token comes from the SDK's OAuth 2.0 client-credentials helper and
//! is kept for its lifetime in the host's cache (a 401 from Graph fetches
//! it anew once). `cc` and `bcc` go with the first recipient's mail only,
//! so that each copy goes out once (Apprise copies them into every mail);
//! a retry skips the recipients already sent to.

use mcp_push_sdk::mail::Recipients;
use mcp_push_sdk::oauth2::ClientCredentials;
use mcp_push_sdk::prelude::*;

struct Office365;

const LOGIN: &str = "https://login.microsoftonline.com";
const GRAPH: &str = "https://graph.microsoft.com";
const SCHEMES: &[&str] = &["o365", "azure"];
/// Outlook's longest subject.
const SUBJECT: usize = 255;
/// Graph takes a request body of up to 4 MB; the rest of a mail this long
/// would need an upload session.
const BODY: Limit = Limit::Bytes(3_500_000);
const TOKEN: &str = "graph-token";

impl Channel for Office365 {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "office365",
            "Office 365",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail from an Office 365 / Outlook mailbox through Microsoft Graph",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("tenant", "The directory (tenant) id or domain of the app registration")
                .env(&["O365_TENANT"])
                .required(),
        )
        .setting(
            Setting::new("client_id", "The app registration's application (client) id")
                .env(&["O365_CLIENT_ID"])
                .required(),
        )
        .setting(
            Setting::new(
                "client_secret",
                "A client secret of the app, which needs the Mail.Send application permission",
            )
            .env(&["O365_CLIENT_SECRET"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new("from", "The mailbox that sends: its address or user object id")
                .env(&["O365_FROM"])
                .required(),
        )
        .setting(
            Setting::new(
                "to",
                "Recipients, separated by `,` or `;`, each sent a mail of their own; default: the sender",
            )
            .env(&["O365_TO"]),
        )
        .setting(Setting::new("cc", "Carbon copies, separated by `,` or `;`").env(&["O365_CC"]))
        .setting(
            Setting::new("bcc", "Blind carbon copies, separated by `,` or `;`").env(&["O365_BCC"]),
        )
        .setting(
            Setting::new(
                "login_url",
                "Sign-in base URL (https://login.microsoftonline.us for US Government), else for tests",
            )
            .env(&["O365_LOGIN_URL"])
            .default_value(LOGIN),
        )
        .setting(
            Setting::new(
                "graph_url",
                "Graph base URL (https://graph.microsoft.us for US Government), else for tests",
            )
            .env(&["O365_GRAPH_URL"])
            .default_value(GRAPH),
        )
        .allow_host("login.microsoftonline.com")
        .allow_host("graph.microsoft.com")
        .allow_host("setting:login_url")
        .allow_host("setting:graph_url")
        .schemes(SCHEMES)
    }

    /// `o365://SOURCE/TENANT/CLIENT_ID/SECRET[/TO...]` (the source an
    /// address, `user@domain`, or an object id as the host), with `?to=`,
    /// `?cc=`, `?bcc=`, `?from=`, `?tenant=`, `?oauth_id=`, `?oauth_secret=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let from = match (u.param("from"), &u.user) {
            (Some(f), _) => f.to_string(),
            (None, Some(user)) => format!("{user}@{}", u.host),
            (None, None) => u.host.clone(),
        };
        let mut path: Vec<String> = u.path.clone();
        let take_first = |path: &mut Vec<String>| (!path.is_empty()).then(|| path.remove(0));
        let tenant = match u.param("tenant") {
            Some(t) => Some(t.to_string()),
            None => take_first(&mut path),
        };
        let client_id = match u.param("oauth_id") {
            Some(c) => Some(c.to_string()),
            None => take_first(&mut path),
        };
        // The recipients are the addresses at the end; what is left before
        // them is the secret, which may itself hold `/`.
        let mut to = Vec::new();
        while path.last().is_some_and(|p| looks_like_address(p)) {
            to.insert(0, path.pop().unwrap_or_default());
        }
        let secret = match u.param("oauth_secret") {
            Some(s) => Some(s.to_string()),
            None => (!path.is_empty()).then(|| path.join("/")),
        };
        to.extend(u.param("to").map(String::from));
        let usage = "o365://SOURCE/TENANT/CLIENT_ID/SECRET[/TO...]";
        let (Some(tenant), Some(client_id), Some(secret)) = (tenant, client_id, secret) else {
            return Err(format!(
                "o365:// needs a tenant, a client id and a secret: {usage}"
            ));
        };
        if from.is_empty() {
            return Err(format!("o365:// needs the sending mailbox: {usage}"));
        }
        Pairs::new()
            .set("tenant", tenant)
            .set("client_id", client_id)
            .set("client_secret", secret)
            .set("from", from)
            .maybe("to", (!to.is_empty()).then(|| to.join(",")))
            .maybe("cc", u.param("cc"))
            .maybe("bcc", u.param("bcc"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let from = settings.require("from")?;
        let Recipients { to, cc, bcc } = Recipients::of(settings, from);
        if to == [from] && !looks_like_address(from) {
            return Err(SendError::Config(
                "no recipient: set `to` (the sender is an object id, not an address)".into(),
            ));
        }
        let tenant = settings.require("tenant")?;
        let token_url = format!(
            "{}/{}/oauth2/v2.0/token",
            settings.base_url("login_url", LOGIN)?,
            mcp_push_sdk::encode::url_encode(tenant)
        );
        let graph = settings.base_url("graph_url", GRAPH)?;
        let scope = format!("{GRAPH}/.default");
        let grant = ClientCredentials {
            token_url: &token_url,
            client_id: settings.require("client_id")?,
            client_secret: settings.require("client_secret")?,
            scope: Some(&scope),
        };
        let url = format!(
            "{graph}/v1.0/users/{}/sendMail",
            mcp_push_sdk::encode::url_encode(from)
        );
        let (content_type, content) = if msg.is_html() {
            ("HTML", truncate(&msg.body, BODY, CUT_MARKER))
        } else {
            ("Text", truncate(&msg.body_with_link(), BODY, CUT_MARKER))
        };
        let indexed: Vec<(usize, &str)> = to.iter().copied().enumerate().collect();
        // One token request besides the mails, at most.
        mcp_push_sdk::delivery::send_parts(&indexed, 1, |(i, address)| {
            let mut message = json!({
                "subject": msg.headline(SUBJECT),
                "body": { "contentType": content_type, "content": content },
                "toRecipients": recipients(&[address]),
            });
            if *i == 0 {
                if !cc.is_empty() {
                    message["ccRecipients"] = recipients(&cc);
                }
                if !bcc.is_empty() {
                    message["bccRecipients"] = recipients(&bcc);
                }
            }
            let body = json!({ "message": message });
            let reply = grant.with_bearer(TOKEN, |token| {
                Request::post(&url).bearer(token).json(&body).send()
            })?;
            // 202 Accepted, no body: the mail is on its way.
            match reply.status {
                200..=299 => Ok(()),
                403 | 404 => Err(SendError::Config(format!(
                    "Graph refused to send as {from:?} ({}): the app needs the Mail.Send \
                     application permission (with admin consent) and `from` must be a mailbox \
                     of the tenant",
                    reply.why_at("error.message")
                ))),
                _ => Err(reply.status_error_at("error.message")),
            }
        })?;
        Ok(Receipt::none())
    }
}

fn recipients(list: &[&str]) -> mcp_push_sdk::serde_json::Value {
    list.iter()
        .map(|a| json!({ "emailAddress": { "address": a } }))
        .collect()
}

/// An address rather than a piece of a secret (Apprise's `is_email`, in
/// short): something before and after one `@`, with a dot after it.
fn looks_like_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !domain.contains('@'),
        None => false,
    }
}

export_channel!(Office365);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Office365>();
    }

    #[test]
    fn parses_apprise_o365_urls() {
        assert_eq!(
            Office365::parse_url(
                "o365://ops@example.com/contoso.onmicrosoft.com/11111111-2222-3333-4444-555555555555/s3cr/et~x/ada@example.org/bob@example.org?cc=lead@example.org"
            )
            .unwrap(),
            pairs(&[
                ("tenant", "contoso.onmicrosoft.com"),
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("client_secret", "s3cr/et~x"),
                ("from", "ops@example.com"),
                ("to", "ada@example.org,bob@example.org"),
                ("cc", "lead@example.org"),
            ])
        );
        // An object id as the source, everything by parameter.
        assert_eq!(
            Office365::parse_url(
                "azure://3f2504e0-4f89-11d3-9a0c-0305e82c3301?tenant=t1&oauth_id=c1&oauth_secret=s1&to=ada@example.org"
            )
            .unwrap(),
            pairs(&[
                ("tenant", "t1"),
                ("client_id", "c1"),
                ("client_secret", "s1"),
                ("from", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
                ("to", "ada@example.org"),
            ])
        );
        assert!(Office365::parse_url("o365://ops@example.com/tenant/client").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Office365>()
            .setting("tenant", "contoso.onmicrosoft.com")
            .setting("client_id", "c1")
            .setting("client_secret", "the-secret")
            .setting("from", "ops@contoso.com")
            .setting("to", "ada@example.org;bob@example.org")
            .setting("cc", "lead@example.org")
    }

    fn token() -> Reply {
        Reply::json(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                   "access_token": "eyJ0eXAiOiJKV1Qi.graph"}),
        )
    }

    #[test]
    fn one_token_then_one_mail_per_recipient_cc_with_the_first() {
        let h = harness()
            .reply(token())
            .reply(Reply::text(202, ""))
            .reply(Reply::text(202, ""));
        h.send(&message("Build done", "v2 is live")).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            reqs[0].url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            reqs[0].form("grant_type").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(reqs[0].form("client_id").as_deref(), Some("c1"));
        assert_eq!(
            reqs[0].form("scope").as_deref(),
            Some("https://graph.microsoft.com/.default")
        );
        assert_eq!(
            reqs[1].url,
            "https://graph.microsoft.com/v1.0/users/ops%40contoso.com/sendMail"
        );
        assert_eq!(
            reqs[1].header("authorization"),
            Some("Bearer eyJ0eXAiOiJKV1Qi.graph")
        );
        let first = reqs[1].json();
        assert_eq!(first["message"]["subject"], "Build done");
        assert_eq!(first["message"]["body"]["contentType"], "Text");
        assert_eq!(
            first["message"]["toRecipients"][0]["emailAddress"]["address"],
            "ada@example.org"
        );
        assert_eq!(
            first["message"]["ccRecipients"][0]["emailAddress"]["address"],
            "lead@example.org"
        );
        assert!(first.get("saveToSentItems").is_none());
        let second = reqs[2].json();
        assert_eq!(
            second["message"]["toRecipients"][0]["emailAddress"]["address"],
            "bob@example.org"
        );
        assert!(second["message"].get("ccRecipients").is_none());
    }

    /// An address written twice (case aside, or in `to` and `cc`) gets one
    /// mail, not two.
    #[test]
    fn an_address_written_twice_gets_one_mail() {
        let h = harness()
            .setting("to", "ada@example.org;ADA@example.org")
            .setting("cc", "Ada@Example.org,lead@example.org")
            .reply(token())
            .reply(Reply::text(202, ""));
        h.send(&message("Build done", "v2 is live")).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2, "{reqs:?}");
        let cc = &reqs[1].json()["message"]["ccRecipients"];
        assert_eq!(cc.as_array().map(Vec::len), Some(1), "{cc}");
        assert_eq!(cc[0]["emailAddress"]["address"], "lead@example.org");
    }

    #[test]
    fn graph_refusals_map_to_what_to_do_next() {
        let denied = Reply::json(
            403,
            json!({"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}}),
        );
        let err = harness()
            .setting("to", "ada@example.org")
            .reply(token())
            .reply(denied)
            .send(&message("t", "b"));
        assert!(
            matches!(&err, Err(SendError::Config(w)) if w.contains("Mail.Send") && w.contains("Access is denied")),
            "{err:?}"
        );
        let throttled = Reply::text(429, "").header("Retry-After", "12");
        let err = harness()
            .setting("to", "ada@example.org")
            .reply(token())
            .reply(throttled)
            .send(&message("t", "b"));
        assert!(
            matches!(err, Err(SendError::RateLimited(Some(12)))),
            "{err:?}"
        );
        let bad_secret = Reply::json(
            401,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}),
        );
        let err = harness().reply(bad_secret).send(&message("t", "b"));
        assert!(
            matches!(&err, Err(SendError::Config(w)) if w.contains("AADSTS7000215")),
            "{err:?}"
        );
    }

    #[test]
    fn an_expired_token_is_fetched_anew_once() {
        let expired = Reply::json(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}}),
        );
        let h = harness()
            .setting("to", "ada@example.org")
            .reply(token())
            .reply(expired)
            .reply(token())
            .reply(Reply::text(202, ""));
        h.send(&message("t", "b")).unwrap();
        assert_eq!(h.requests().len(), 4);
    }

    #[test]
    fn an_object_id_sender_needs_recipients() {
        let h = harness()
            .setting("from", "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
            .setting("to", "");
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Config(_))
        ));
    }
}
