//! Nextcloud Talk chat messages (`NEXTCLOUD_TALK_URL`,
//! `NEXTCLOUD_TALK_USER`, `NEXTCLOUD_TALK_PASSWORD`, `NEXTCLOUD_TALK_ROOMS`,
//! Apprise's `nctalk://` and `nctalks://`).
//!
//! Sources: Nextcloud Talk's Chat API docs (nextcloud-talk.readthedocs.io,
//! `docs/chat.md` of nextcloud/spreed, "Sending a new chat message": POST
//! `/ocs/v2.php/apps/spreed/api/v1/chat/{token}` with `message`,
//! `replyTo`, `referenceId`, `silent` (no chat notifications, with the
//! `silent-send` capability); `201 Created` with the new message (its `id`);
//! 400 for any other error, 403 a read-only conversation, 404 a
//! conversation not found for the participant, 412 the lobby is active, 413
//! a message over the 32,000 characters of `max-length`); Nextcloud's OCS
//! docs (developer manual, "OCS APIs overview", "External API": every
//! request with `OCS-APIRequest: true` and Basic auth, JSON with `Accept:
//! application/json`, the reply wrapped in `{"ocs": {"meta": {status,
//! statuscode, message}, "data": ...}}`; "General": maintenance mode is a
//! 503 with `x-nextcloud-maintenance-mode: 1`); the Nextcloud forum's curl
//! line for users (`curl -u user:password …/chat/<token> -H "OCS-APIRequest:
//! true" --data-raw '{"message": …}'`); Apprise's `nextcloudtalk.py` (the
//! URL form `nctalk[s]://USER:PASSWORD@HOST[:PORT]/ROOM[/ROOM…]`,
//! `?url_prefix=` for a server under a path, one request per room, 200 or
//! 201 as success). Not in qinglong's notify.py: `NEXTCLOUD_TALK_*` are
//! mcp-push's own names.
//!
//! The password is best an app password (Settings → Security → Devices &
//! sessions), as Apprise's wiki advises.
//!
//! Where the sources differ: Apprise joins title and body with `\r\n` and
//! puts its own name in place of a missing title; here the title is left
//! out when there is none and the two are joined like every other channel's
//! (a blank line; Talk renders Markdown, so a Markdown message's title is
//! bold). Apprise cuts a message at 4,000 characters; the docs' limit is
//! 32,000, which is followed. Apprise's `+Header=value` extra headers are
//! not read. Written from memory: the body of a 401 (a wrong password,
//! `{"ocs": {"meta": {"statuscode": 997, "message": "Current user is not
//! logged in"}}}`), used in the tests only.

use mcp_push_sdk::prelude::*;

struct NextcloudTalk;

const SCHEMES: &[&str] = &["nctalk", "nctalks"];

/// Talk's `max-length` of a chat message since Nextcloud 16.0.1.
const LIMIT: Limit = Limit::Chars(32000);

/// What separates rooms in one value (Apprise splits its path at `/`).
const ROOM_SEPARATORS: &[char] = &[',', ' ', '/', ';'];

impl Channel for NextcloudTalk {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "nextcloud-talk",
            "Nextcloud Talk",
            env!("CARGO_PKG_VERSION"),
            "Posts to Nextcloud Talk conversations as a user",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "url",
                "The Nextcloud server's URL, with its path if it has one (https://cloud.example.com)",
            )
            .env(&["NEXTCLOUD_TALK_URL"])
            .required(),
        )
        .setting(
            Setting::new("user", "The user that posts (a member of each conversation)")
                .env(&["NEXTCLOUD_TALK_USER"])
                .required(),
        )
        .setting(
            Setting::new("password", "The user's app password")
                .env(&["NEXTCLOUD_TALK_PASSWORD"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "rooms",
                "Conversation tokens (the end of the conversation's link), comma or space separated",
            )
            .env(&["NEXTCLOUD_TALK_ROOMS"])
            .required(),
        )
        .setting(
            Setting::new("silent", "true: post without chat notifications")
                .env(&["NEXTCLOUD_TALK_SILENT"]),
        )
        .allow_host("setting:url")
        .schemes(SCHEMES)
    }

    /// `nctalk[s]://USER:PASSWORD@HOST[:PORT]/ROOM[/ROOM…]`, http unless
    /// `nctalks://`, with `?url_prefix=` (a server under a path) and
    /// `?silent=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let form = format!("{}://USER:PASSWORD@HOST/ROOM", u.scheme);
        let (Some(user), Some(password), false) = (&u.user, &u.password, u.host.is_empty()) else {
            return Err(format!(
                "{}:// needs a user, a password and the host: {form}",
                u.scheme
            ));
        };
        if u.path.is_empty() {
            return Err(format!(
                "{}:// needs a conversation token: {form}",
                u.scheme
            ));
        }
        let mut server = OneLine {
            path: Vec::new(),
            ..u.clone()
        }
        .base_url(u.scheme == "nctalks");
        if let Some(prefix) = u
            .param("url_prefix")
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
        {
            server = format!("{server}/{prefix}");
        }
        Pairs::new()
            .set("url", server)
            .set("user", user.clone())
            .set("password", password.clone())
            .set("rooms", u.path.join(","))
            .maybe("silent", u.param("silent"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("url", "")?;
        let user = settings.require("user")?;
        let password = settings.require("password")?;
        let silent = settings.flag("silent")?.unwrap_or(false);
        let rooms = settings.list("rooms", ROOM_SEPARATORS);
        if rooms.is_empty() {
            return Err(SendError::Config(
                "setting `rooms` (NEXTCLOUD_TALK_ROOMS) names no conversation".into(),
            ));
        }
        let text = if msg.is_markdown() {
            msg.with_link(msg.markdown())
        } else {
            msg.text_with_link()
        };
        let mut body = json!({ "message": truncate(&text, LIMIT, CUT_MARKER) });
        if silent {
            body["silent"] = json!(true);
        }
        let mut first_id = None;
        // One request per conversation, as Apprise sends them; a retry skips
        // the conversations already reached.
        delivery::send_parts(&rooms, 0, |room| {
            // Success is 201 with the posted message in `ocs.data` (its
            // `id`); a refusal is the HTTP status, the reason (often empty)
            // in `ocs.meta.message`.
            let posted = Request::post(format!("{base}/ocs/v2.php/apps/spreed/api/v1/chat"))
                .segment(room)
                .header("OCS-APIRequest", "true")
                .header("Accept", "application/json")
                .basic_auth(user, password)
                .json(&body)
                .send()?
                .check(&Check::field("ocs.data.id").message("ocs.meta.message"))?;
            first_id = first_id.take().or(id_at(&posted, "ocs.data.id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first_id))
    }
}

export_channel!(NextcloudTalk);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const PASSWORD: &str = "Xq7rT-9aBcD-eF2gH-iJ4kL-mN6oP";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<NextcloudTalk>();
    }

    #[test]
    fn parses_apprises_nctalk_urls() {
        assert_eq!(
            NextcloudTalk::parse_url(&format!(
                "nctalks://ci:{PASSWORD}@cloud.example.com/abc123/def456"
            ))
            .unwrap(),
            pairs(&[
                ("url", "https://cloud.example.com"),
                ("user", "ci"),
                ("password", PASSWORD),
                ("rooms", "abc123,def456"),
            ])
        );
        assert_eq!(
            NextcloudTalk::parse_url(
                "nctalk://ci:p%40ss@192.168.1.5:8080/abc123?url_prefix=/nextcloud/&silent=yes"
            )
            .unwrap(),
            pairs(&[
                ("url", "http://192.168.1.5:8080/nextcloud"),
                ("user", "ci"),
                ("password", "p@ss"),
                ("rooms", "abc123"),
                ("silent", "yes"),
            ])
        );
        for bad in [
            "nctalks://cloud.example.com/abc123",
            "nctalks://ci@cloud.example.com/abc123",
            "nctalks://ci:pw@cloud.example.com",
            "nctalks://ci:pw@/abc123",
        ] {
            assert!(NextcloudTalk::parse_url(bad).is_err(), "{bad}");
        }
    }

    fn harness() -> Harness {
        Harness::new::<NextcloudTalk>()
            .setting("url", "https://cloud.example.com/")
            .setting("user", "ci")
            .setting("password", PASSWORD)
            .setting("rooms", "abc123")
    }

    /// The reply the docs describe: 201, the new message in `ocs.data`.
    fn created(id: u64) -> Reply {
        Reply::json(
            201,
            json!({"ocs": {
                "meta": {"status": "ok", "statuscode": 201, "message": "OK"},
                "data": {"id": id, "token": "abc123", "actorType": "users", "actorId": "ci",
                         "message": "T", "messageType": "comment", "markdown": true},
            }}),
        )
    }

    fn failure(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"ocs": {
                "meta": {"status": "failure", "statuscode": status, "message": message},
                "data": [],
            }}),
        )
    }

    /// The documented request: JSON `message` to the conversation's chat,
    /// `OCS-APIRequest: true`, Basic auth with the app password (a
    /// placeholder until it is on the wire); the message's id kept.
    #[test]
    fn posts_the_documented_request() {
        let h = harness().reply(created(412));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("412"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.url,
            "https://cloud.example.com/ocs/v2.php/apps/spreed/api/v1/chat/abc123"
        );
        assert_eq!(req.header("ocs-apirequest"), Some("true"));
        assert_eq!(req.header("accept"), Some("application/json"));
        assert_eq!(
            req.json(),
            json!({"message": "Deploy\n\nv2 is live\n\nhttps://ci.example.com/7"})
        );
        assert_ne!(req.basic_auth.as_ref().unwrap().1, PASSWORD);
        let wire = &h.on_the_wire()[0];
        let expected = mcp_push_sdk::encode::base64(format!("ci:{PASSWORD}").as_bytes());
        assert_eq!(
            wire.header("authorization"),
            Some(format!("Basic {expected}").as_str())
        );
    }

    #[test]
    fn markdown_bold_title_and_silent() {
        let h = harness().setting("silent", "true").reply(created(1));
        let mut msg = message("Deploy", "**v2** is live");
        msg.format = Format::Markdown;
        h.send(&msg).unwrap();
        assert_eq!(
            h.requests()[0].json(),
            json!({"message": "**Deploy**\n\n**v2** is live", "silent": true})
        );
        let bad = harness().setting("silent", "maybe");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(bad.requests().is_empty());
    }

    /// One request per conversation; a retry after a failure part-way
    /// skips the conversations already reached.
    #[test]
    fn each_room_in_turn_and_a_retry_resumes() {
        let h = harness()
            .setting("rooms", "abc123, def456 ghi789")
            .reply(created(1))
            .reply(Reply::text(502, "<html>Bad Gateway</html>"))
            .reply(created(2))
            .reply(created(3));
        let msg = message("T", "B");
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        assert_eq!(h.parts_sent(), 1);
        h.send(&msg).unwrap();
        let rooms: Vec<String> = h
            .requests()
            .iter()
            .map(|r| r.url.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(rooms, ["abc123", "def456", "def456", "ghi789"]);
    }

    #[test]
    fn a_long_message_is_cut_to_max_length() {
        let h = harness().reply(created(1));
        h.send(&message("", &"é".repeat(33000))).unwrap();
        let sent = h.requests()[0].json()["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(sent.chars().count(), 32000);
        assert!(sent.ends_with(CUT_MARKER));
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(failure(401, "Current user is not logged in")),
            SendError::Rejected("HTTP 401: Current user is not logged in".into())
        );
        for (status, what) in [
            (400, "400"),
            (403, "403"),
            (404, "404"),
            (412, "412"),
            (413, "413"),
        ] {
            assert!(
                matches!(outcome(failure(status, "")), SendError::Rejected(m) if m.starts_with(&format!("HTTP {what}: {{"))),
                "{status}"
            );
        }
        assert_eq!(
            outcome(failure(429, "").header("Retry-After", "30")),
            SendError::RateLimited(Some(30))
        );
        assert!(matches!(
            outcome(
                Reply::text(503, "<html>maintenance</html>")
                    .header("x-nextcloud-maintenance-mode", "1")
            ),
            SendError::Unavailable(m) if m.starts_with("HTTP 503")
        ));
        // A 200 that is not a posted message (a login page) is no delivery.
        assert!(matches!(
            outcome(Reply::text(200, "<html>Login</html>")),
            SendError::Unavailable(_)
        ));
    }
}
