//! Misskey notes (`MK_URL`, `MK_TOKEN`, Apprise's `misskey://` and
//! `misskeys://`).
//!
//! Sources: Misskey's API (misskey-hub.net, "for developers / API": every
//! endpoint is a POST of JSON, the access token as `i` in the body); its
//! `notes/create` endpoint (misskey-dev/misskey,
//! `packages/backend/src/server/api/endpoints/notes/create.ts`: `text`,
//! `visibility` one of `public`, `home`, `followers`, `specified` (default
//! `public`), `cw`; 200 with `{createdNote: Note}`; scope `write:notes`,
//! 300 notes an hour; `CONTENT_REQUIRED` when there is no text); its
//! OpenAPI error table (`server/api/openapi/errors.ts`: `{"error":
//! {message, code, id}}`, 400 `INVALID_PARAM`, 401 `CREDENTIAL_REQUIRED`,
//! 403 `AUTHENTICATION_FAILED`, 429 `RATE_LIMIT_EXCEEDED`, 500
//! `INTERNAL_ERROR`); Apprise's `misskey.py` (the URL form
//! `misskey[s]://TOKEN@HOST[:PORT]`, `?token=`, `?visibility=`, the title
//! folded into the body). Not in qinglong's notify.py: `MK_*` are
//! mcp-push's own names (not `MISSKEY_*`: every name holding `KEY` counts
//! as a credential's, and the server, visibility and limit are not secret).
//!
//! Where the sources differ: Apprise also offers the visibility `private`,
//! which Misskey's `notes/create` does not take (its `INVALID_PARAM`); the
//! endpoint's four are accepted here. Apprise cuts at 512 characters; in
//! Misskey the limit is the instance's (`maxNoteTextLength` in the endpoint
//! source stored, 500 by default there; a fixed 3,000 in current releases,
//! written from memory), so it is a setting, `max_chars`, 3,000 unless set.

use mcp_push_sdk::prelude::*;

struct Misskey;

const SCHEMES: &[&str] = &["misskey", "misskeys"];

const VISIBILITIES: &[&str] = &["public", "home", "followers", "specified"];

const DEFAULT_MAX_CHARS: usize = 3000;

impl Channel for Misskey {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "misskey",
            "Misskey",
            env!("CARGO_PKG_VERSION"),
            "Posts a note to a Misskey account",
        )
        .formats(&["text"])
        .setting(
            Setting::new("server", "The instance's URL (https://misskey.io)")
                .env(&["MK_URL"])
                .required(),
        )
        .setting(
            Setting::new("token", "An access token allowed to compose notes")
                .env(&["MK_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "visibility",
                "public (default), home, followers or specified",
            )
            .env(&["MK_VISIBILITY"]),
        )
        .setting(Setting::new("cw", "A content warning shown before the text").env(&["MK_CW"]))
        .setting(
            Setting::new(
                "max_chars",
                "The instance's length limit of a note (3000 unless set)",
            )
            .env(&["MK_MAX_CHARS"])
            .default_value("3000"),
        )
        .allow_host("setting:server")
        .schemes(SCHEMES)
    }

    /// `misskey[s]://TOKEN@HOST[:PORT]` with `?token=` and `?visibility=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let token = u.param("token").map(String::from).or(u.user.clone());
        let (Some(token), false) = (token, u.host.is_empty()) else {
            return Err(format!(
                "{}:// needs an access token and the instance: {}://TOKEN@HOST",
                u.scheme, u.scheme
            ));
        };
        let server = format!(
            "{}://{}",
            if u.scheme == "misskeys" {
                "https"
            } else {
                "http"
            },
            u.authority()
        );
        Pairs::new()
            .set("server", server)
            .set("token", token)
            .maybe("visibility", u.param("visibility"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let visibility = settings.choice("visibility", VISIBILITIES, "public")?;
        let max = settings
            .parse::<usize>("max_chars")?
            .unwrap_or(DEFAULT_MAX_CHARS);
        let mut body = json!({
            "i": settings.require("token")?,
            "text": truncate(&msg.text_with_link(), Limit::Chars(max), CUT_MARKER),
            "visibility": visibility,
        });
        settings.copy_into(&mut body, &["cw"]);
        let reply = Request::post(format!(
            "{}/api/notes/create",
            settings.base_url("server", "")?
        ))
        .json(&body)
        .send()?;
        // Success is the created note; a refusal is `error.message` with
        // its `error.code`.
        let created = reply.check(
            &Check::field("createdNote.id")
                .non_empty()
                .message("error.message"),
        )?;
        Ok(Receipt::from_reply(&created, "createdNote.id"))
    }
}

export_channel!(Misskey);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const TOKEN: &str = "pXq3V7s9Kd2LmN4bRt8Wz1Yc";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Misskey>();
    }

    #[test]
    fn parses_apprise_misskey_urls() {
        assert_eq!(
            Misskey::parse_url(&format!("misskeys://{TOKEN}@misskey.io")).unwrap(),
            pairs(&[("server", "https://misskey.io"), ("token", TOKEN)])
        );
        assert_eq!(
            Misskey::parse_url("misskey://local.test:3000/?token=T0k&visibility=home").unwrap(),
            pairs(&[
                ("server", "http://local.test:3000"),
                ("token", "T0k"),
                ("visibility", "home"),
            ])
        );
        assert!(Misskey::parse_url("misskeys://misskey.io").is_err());
        assert!(Misskey::parse_url("mastodon://T@misskey.io").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Misskey>()
            .setting("server", "https://misskey.example")
            .setting("token", TOKEN)
    }

    fn created() -> Reply {
        Reply::json(
            200,
            json!({"createdNote": {"id": "9k2x7w3b1a", "createdAt": "2026-12-04T04:00:00.000Z",
                   "text": "Deploy", "visibility": "public", "userId": "9a0b1c2d3e"}}),
        )
    }

    /// The documented request: JSON to `/api/notes/create`, the token as
    /// `i` (only on the wire), title, body and link as `text`; the note's id
    /// kept.
    #[test]
    fn posts_the_documented_json() {
        let h = harness().reply(created());
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("9k2x7w3b1a")
        );
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://misskey.example/api/notes/create");
        let body = req.json();
        assert_eq!(
            body["text"],
            "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7"
        );
        assert_eq!(body["visibility"], "public");
        assert!(body.get("cw").is_none());
        assert_ne!(body["i"], TOKEN);
        assert_eq!(h.on_the_wire()[0].json()["i"], TOKEN);
    }

    #[test]
    fn visibility_and_content_warning() {
        let h = harness()
            .setting("visibility", "Followers")
            .setting("cw", "CI noise")
            .reply(created());
        h.send(&message("", "disk full")).unwrap();
        let body = h.requests()[0].json();
        assert_eq!(body["visibility"], "followers");
        assert_eq!(body["cw"], "CI noise");
        assert_eq!(body["text"], "disk full");
        // Apprise's `private` is not one of Misskey's.
        let bad = harness().setting("visibility", "private");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("visibility")
        ));
        assert!(bad.requests().is_empty());
    }

    #[test]
    fn a_long_note_is_cut_to_the_instances_limit() {
        let h = harness().reply(created());
        h.send(&message("", &"é".repeat(3500))).unwrap();
        let text = h.requests()[0].json()["text"].as_str().unwrap().to_string();
        assert_eq!(text.chars().count(), 3000);
        assert!(text.ends_with(CUT_MARKER));
        let small = harness().setting("max_chars", "500").reply(created());
        small.send(&message("", &"é".repeat(600))).unwrap();
        let text = small.requests()[0].json()["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(text.chars().count(), 500);
    }

    fn error(status: u16, code: &str, message: &str, id: &str) -> Reply {
        Reply::json(
            status,
            json!({"error": {"message": message, "code": code, "id": id}}),
        )
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, code, text, id) in [
            (
                400,
                "INVALID_PARAM",
                "Invalid param.",
                "3d81ceae-475f-4600-b2a8-2bc116157532",
            ),
            (
                401,
                "CREDENTIAL_REQUIRED",
                "Credential required.",
                "1384574d-a912-4b81-8601-c7b1c4085df1",
            ),
            (
                403,
                "AUTHENTICATION_FAILED",
                "Authentication failed. Please ensure your token is correct.",
                "b0a7f5f8-dc2f-4171-b91f-de88ad238e14",
            ),
            (
                400,
                "CONTENT_REQUIRED",
                "Content required. You need to set text, fileIds, renoteId or poll.",
                "6f57e42b-c348-439b-bc45-993995cc515a",
            ),
        ] {
            assert_eq!(
                outcome(error(status, code, text, id)),
                SendError::Rejected(format!("HTTP {status}: {text}"))
            );
        }
        assert_eq!(
            outcome(error(
                429,
                "RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded. Please try again later.",
                "d5826d14-3982-4d2e-8011-b9e9f02499ef"
            )),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(error(
                500,
                "INTERNAL_ERROR",
                "Internal error occurred. Please contact us if the error persists.",
                "5d37dbcb-891e-41ca-a3d6-e690c97775ac"
            )),
            SendError::Unavailable(
                "HTTP 500: Internal error occurred. Please contact us if the error persists."
                    .into()
            )
        );
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 502")
        ));
    }
}
