//! Mastodon statuses (`MASTODON_URL`, `MASTODON_ACCESS_TOKEN`, Apprise's
//! `mastodon://`, `toot://`, `mastodons://` and `toots://`).
//!
//! Sources: Mastodon's API docs (docs.joinmastodon.org, "statuses API
//! methods", Post a new status: POST `/api/v1/statuses` with
//! `Authorization: Bearer <user token>` (scope `write:statuses`), form data
//! `status`, `visibility` (`public`, `unlisted`, `private`, `direct`),
//! `spoiler_text`, `language`; an `Idempotency-Key` header prevents
//! duplicate submissions for up to an hour; 200 with the Status, its `id`;
//! 401 `{"error": "The access token is invalid"}`, 422 `{"error":
//! "Validation failed: Text can't be blank"}`); Apprise's `mastodon.py`
//! (the URL form `mastodon[s]://TOKEN@HOST[:PORT][/@USER...]`, `?token=`,
//! `?visibility=` with `default` meaning the account's own, `?spoiler=`,
//! `?language=`, targets mentioned ahead of the text, 500 characters, the
//! title folded into the body). Not in qinglong's notify.py: `MASTODON_*`
//! are mcp-push's own names (`MASTODON_ACCESS_TOKEN` as Cake.Mastodon and
//! Indiekit name it).
//!
//! Where the sources differ: Apprise puts its `?key=` idempotency key in the
//! JSON body under `Idempotency-Key`; the docs make it a header, which is
//! what is sent here, and its value is the delivery's own key (the same on
//! every retry of one delivery, unlike any other), so a retry whose first
//! attempt did post is not posted twice; a fixed `?key=` would fold every
//! message of an hour into the first one, so it is not read. The docs list
//! form data; Apprise sends JSON; form data is sent here.
//!
//! Length: 500 characters is Mastodon's default; an instance can allow more
//! (`max_chars`). Mastodon counts a link as 23 characters and a remote
//! mention by its user part; counting every character as written (what is
//! done here) can only cut earlier than needed, never too late. Written from
//! memory: the docs' rate limits page (300 requests per 5 minutes per
//! account, 429 with `X-RateLimit-Reset` as a timestamp, no `Retry-After`):
//! a 429 is retried with the host's backoff.

use mcp_push_sdk::prelude::*;

struct Mastodon;

const SCHEMES: &[&str] = &["mastodon", "toot", "mastodons", "toots"];

/// What `visibility` may be; `default` leaves it to the account's setting.
const VISIBILITIES: &[&str] = &["default", "public", "unlisted", "private", "direct"];

/// Mastodon's default length of a status, in characters.
const DEFAULT_MAX_CHARS: usize = 500;

impl Channel for Mastodon {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "mastodon",
            "Mastodon",
            env!("CARGO_PKG_VERSION"),
            "Posts a status to a Mastodon account",
        )
        .formats(&["text"])
        .setting(
            Setting::new("server", "The instance's URL (https://mastodon.social)")
                .env(&["MASTODON_URL"])
                .required(),
        )
        .setting(
            Setting::new(
                "access_token",
                "An access token with the write:statuses scope",
            )
            .env(&["MASTODON_ACCESS_TOKEN"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "visibility",
                "public, unlisted, private or direct; default: the account's own",
            )
            .env(&["MASTODON_VISIBILITY"]),
        )
        .setting(
            Setting::new(
                "to",
                "Accounts to mention ahead of the text (@user or @user@host), space or comma separated",
            )
            .env(&["MASTODON_TO"]),
        )
        .setting(
            Setting::new("spoiler_text", "A content warning shown before the text")
                .env(&["MASTODON_SPOILER_TEXT"]),
        )
        .setting(
            Setting::new("language", "ISO 639-1 code of the status's language")
                .env(&["MASTODON_LANGUAGE"]),
        )
        .setting(
            Setting::new(
                "max_chars",
                "The instance's length limit of a status (500 unless it allows more)",
            )
            .env(&["MASTODON_MAX_CHARS"])
            .default_value("500"),
        )
        .allow_host("setting:server")
        .schemes(SCHEMES)
    }

    /// `mastodon[s]://TOKEN@HOST[:PORT][/@USER[/@USER@HOST...]]` (also
    /// `toot[s]://`), with `?token=`, `?visibility=`, `?spoiler=`,
    /// `?language=` and `?to=` as Apprise reads them.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let token = u.param("token").map(String::from).or(u.user.clone());
        let (Some(token), false) = (token, u.host.is_empty()) else {
            return Err(format!(
                "{}:// needs an access token and the instance: {}://TOKEN@HOST",
                u.scheme, u.scheme
            ));
        };
        let secure = u.scheme.ends_with('s');
        let mut to: Vec<String> = u.path.iter().map(|p| mention(p)).collect();
        if let Some(more) = u.param("to") {
            to.extend(
                more.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(mention),
            );
        }
        let server = format!(
            "{}://{}",
            if secure { "https" } else { "http" },
            u.authority()
        );
        Pairs::new()
            .set("server", server)
            .set("access_token", token)
            .maybe("visibility", u.param("visibility"))
            .maybe("spoiler_text", u.param("spoiler"))
            .maybe("language", u.param("language"))
            .maybe("to", (!to.is_empty()).then(|| to.join(" ")))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let visibility = settings.choice("visibility", VISIBILITIES, "default")?;
        let max = settings
            .parse::<usize>("max_chars")?
            .unwrap_or(DEFAULT_MAX_CHARS);
        let mut status: Vec<String> = settings
            .list("to", &[' ', ','])
            .into_iter()
            .map(mention)
            .collect();
        status.push(msg.text_with_link());
        let status = truncate(&status.join(" "), Limit::Chars(max), CUT_MARKER);
        let mut form = vec![("status", status)];
        if visibility != "default" {
            form.push(("visibility", visibility.to_string()));
        }
        for (field, key) in [("spoiler_text", "spoiler_text"), ("language", "language")] {
            if let Some(v) = settings.get(key) {
                form.push((field, v.to_string()));
            }
        }
        let reply = Request::post(format!(
            "{}/api/v1/statuses",
            settings.base_url("server", "")?
        ))
        .bearer(settings.require("access_token")?)
        .header("Idempotency-Key", &format!("mcp-push-{}", delivery::key()))
        .form(&form)
        .send()?;
        // Success is the posted Status, with its `id`; a refusal says why in
        // `error`.
        let status = reply.check(&Check::field("id").non_empty().message("error"))?;
        Ok(Receipt::from_reply(&status, "id"))
    }
}

/// `user` or `@user@host` as a mention, `@` first.
fn mention(account: &str) -> String {
    format!("@{}", account.trim().trim_start_matches('@'))
}

export_channel!(Mastodon);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const TOKEN: &str = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Mastodon>();
    }

    #[test]
    fn parses_apprise_mastodon_and_toot_urls() {
        for scheme in ["mastodons", "toots"] {
            assert_eq!(
                Mastodon::parse_url(&format!("{scheme}://{TOKEN}@mastodon.social")).unwrap(),
                pairs(&[
                    ("server", "https://mastodon.social"),
                    ("access_token", TOKEN)
                ])
            );
        }
        assert_eq!(
            Mastodon::parse_url(
                "toot://local.test:3000/@ops/bob@example.org?token=T0k&visibility=direct\
                 &spoiler=CI&language=en"
            )
            .unwrap(),
            pairs(&[
                ("server", "http://local.test:3000"),
                ("access_token", "T0k"),
                ("visibility", "direct"),
                ("spoiler_text", "CI"),
                ("language", "en"),
                ("to", "@ops @bob@example.org"),
            ])
        );
        assert!(Mastodon::parse_url("mastodon://mastodon.social").is_err());
        assert!(Mastodon::parse_url("mastodons://TOKEN@").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Mastodon>()
            .setting("server", "https://mastodon.example")
            .setting("access_token", TOKEN)
    }

    fn posted() -> Reply {
        Reply::json(
            200,
            json!({"id": "103254962155278888", "created_at": "2019-12-05T11:34:47.196Z",
                   "content": "<p>test content</p>", "visibility": "public"}),
        )
    }

    /// The documented request: form data to `/api/v1/statuses`, the token
    /// as a Bearer header, title, body and link as one text; `visibility`
    /// only when one is chosen; the status's id kept.
    #[test]
    fn posts_the_documented_form() {
        let h = harness().reply(posted());
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("103254962155278888")
        );
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://mastodon.example/api/v1/statuses");
        assert_eq!(
            req.form("status").as_deref(),
            Some("Deploy\n\nv2 is live\n\nhttps://ci.example.com/7")
        );
        assert_eq!(req.form("visibility"), None);
        assert_eq!(req.form("spoiler_text"), None);
        let wire = &h.on_the_wire()[0];
        assert_eq!(
            wire.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(!req.header("authorization").unwrap().contains(TOKEN));
    }

    #[test]
    fn visibility_mentions_warning_and_language() {
        let h = harness()
            .setting("visibility", "Direct")
            .setting("to", "ops, @bob@example.org")
            .setting("spoiler_text", "CI noise")
            .setting("language", "en")
            .reply(posted());
        h.send(&message("", "disk full")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(
            req.form("status").as_deref(),
            Some("@ops @bob@example.org disk full")
        );
        assert_eq!(req.form("visibility").as_deref(), Some("direct"));
        assert_eq!(req.form("spoiler_text").as_deref(), Some("CI noise"));
        assert_eq!(req.form("language").as_deref(), Some("en"));
        let bad = harness().setting("visibility", "friends");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("visibility")
        ));
        assert!(bad.requests().is_empty());
    }

    /// Every attempt of one delivery carries the same Idempotency-Key, the
    /// next delivery another.
    #[test]
    fn a_retry_keeps_its_idempotency_key() {
        let h = harness()
            .reply(Reply::text(502, "<html>Bad Gateway</html>"))
            .reply(posted())
            .reply(posted());
        let msg = message("Deploy", "v2");
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        h.send(&msg).unwrap();
        h.send(&msg).unwrap();
        let keys: Vec<String> = h
            .requests()
            .iter()
            .map(|r| r.header("idempotency-key").unwrap().to_string())
            .collect();
        assert_eq!(keys[0], keys[1], "a retry keeps its key");
        assert_ne!(keys[1], keys[2], "another delivery has another");
    }

    #[test]
    fn a_long_status_is_cut_to_the_instances_limit() {
        let h = harness().reply(posted());
        h.send(&message("", &"é".repeat(600))).unwrap();
        let status = h.requests()[0].form("status").unwrap();
        assert_eq!(status.chars().count(), 500);
        assert!(status.ends_with(CUT_MARKER));
        let wide = harness().setting("max_chars", "5000").reply(posted());
        wide.send(&message("", &"é".repeat(600))).unwrap();
        assert_eq!(
            wide.requests()[0].form("status").unwrap().chars().count(),
            600
        );
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                401,
                json!({"error": "The access token is invalid"})
            )),
            SendError::Rejected("HTTP 401: The access token is invalid".into())
        );
        assert_eq!(
            outcome(Reply::json(
                422,
                json!({"error": "Validation failed: Text can't be blank"})
            )),
            SendError::Rejected("HTTP 422: Validation failed: Text can't be blank".into())
        );
        assert_eq!(
            outcome(Reply::json(
                403,
                json!({"error": "This action is not allowed"})
            )),
            SendError::Rejected("HTTP 403: This action is not allowed".into())
        );
        assert_eq!(
            outcome(
                Reply::json(429, json!({"error": "Too many requests"}))
                    .header("x-ratelimit-reset", "2026-12-04T05:00:00.000Z")
            ),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(Reply::text(503, "<html>Service Unavailable</html>")),
            SendError::Unavailable(m) if m.starts_with("HTTP 503")
        ));
        // A 200 without a status is not a post.
        assert!(matches!(
            outcome(Reply::json(200, json!({}))),
            SendError::Rejected(m) if m == "HTTP 200: {}"
        ));
    }
}
