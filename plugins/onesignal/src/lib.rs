//! OneSignal pushes (`ONESIGNAL_APP_ID`, `ONESIGNAL_API_KEY` or
//! `ONESIGNAL_REST_API_KEY`, `ONESIGNAL_SUBSCRIPTION_IDS`,
//! `ONESIGNAL_EXTERNAL_IDS`, `ONESIGNAL_SEGMENTS`, Apprise's
//! `onesignal://APP_ID@API_KEY/TARGETS`).
//!
//! Sources: OneSignal's API reference (documentation.onesignal.com,
//! "Push notification": POST `https://api.onesignal.com/notifications?c=push`
//! with `Authorization: Key <App API key>` and JSON `app_id`, a targeting
//! (`include_subscription_ids`, `included_segments`, or `include_aliases`
//! `{"external_id": [...]}` with `target_channel: "push"`; one targeting per
//! request), `contents` and `headings` by language, `subtitle`,
//! `template_id`, `url`; "View device": a legacy REST API key goes as
//! `Authorization: Basic <key>`; the server SDKs' reference: 200 with the
//! message's `id`, and no `id` when nobody was targeted (`errors`); "Rate
//! limits": 429 `{"errors": ["API rate limit exceeded."]}` with
//! `Retry-After`, 5xx and timeouts to be retried, and "never retry message
//! sends without an `idempotency_key`"); Apprise's `one_signal.py` (the URL
//! forms `onesignal://[TEMPLATE:]APP_ID@API_KEY/TARGETS`, targets: player
//! ids, `@external user ids`, `#segments`, e-mail addresses; `?subtitle=`,
//! `?language=` (`en`), `?template=`; one request per kind of target;
//! `Authorization: Basic`; 200 or 204 success). Not in qinglong's
//! notify.py: `ONESIGNAL_APP_ID` and `ONESIGNAL_REST_API_KEY` are the names
//! OneSignal's server SDK examples read; the others are mcp-push's own.
//!
//! Every `ONESIGNAL_*` name contains `SIG`, which the host takes for a
//! credential's name, so each setting read from one is secret: the App ID
//! (Apprise keeps it private too), the key, the targets (lists, an item a
//! placeholder each; write them without spaces) and `api_url` (its origin
//! public). The subtitle, template and language are read from the config
//! file or the URL only.
//!
//! Where the sources differ, the current docs are followed: player ids go
//! in `include_subscription_ids` (Apprise: the legacy
//! `include_player_ids`), user ids in `include_aliases.external_id`
//! (Apprise: `include_external_user_ids`), and an App API key is sent as
//! `Key` while any other key is a legacy REST key sent as `Basic`, as
//! Apprise does. Apprise's e-mail targets send e-mail, not a push; they are
//! refused here. Every attempt carries the same `idempotency_key` (a UUID
//! made from the delivery's key), as the docs ask, so a retry never pushes
//! twice. Written from memory: App API keys start with `os_v2_` (how the
//! key's kind is told), and the wording of the errors in the tests.

use mcp_push_sdk::prelude::*;

struct OneSignal;

const OFFICIAL: &str = "https://api.onesignal.com";

/// The three kinds of target: setting, the field that takes them, its
/// prefix in a one-line URL.
const KINDS: &[(&str, &str, &str)] = &[
    ("subscription_ids", "include_subscription_ids", ""),
    ("external_ids", "external_id", "@"),
    ("segments", "included_segments", "#"),
];

impl Channel for OneSignal {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "onesignal",
            "OneSignal",
            env!("CARGO_PKG_VERSION"),
            "Pushes to an app's subscriptions, users or segments through OneSignal",
        )
        .formats(&["text"])
        .setting(
            Setting::new("app_id", "The OneSignal App ID")
                .env(&["ONESIGNAL_APP_ID"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("api_key", "The App API key (or a legacy REST API key)")
                .env(&["ONESIGNAL_API_KEY", "ONESIGNAL_REST_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "subscription_ids",
                "Subscription (player) ids, comma separated",
            )
            .env(&["ONESIGNAL_SUBSCRIPTION_IDS"])
            .secret(),
        )
        .setting(
            Setting::new("external_ids", "External user ids, comma separated")
                .env(&["ONESIGNAL_EXTERNAL_IDS"])
                .secret(),
        )
        .setting(
            Setting::new("segments", "Segment names, comma separated")
                .env(&["ONESIGNAL_SEGMENTS"])
                .secret(),
        )
        .setting(Setting::new("template_id", "A template to send"))
        .setting(Setting::new("subtitle", "An iOS subtitle"))
        .setting(
            Setting::new("language", "The two-letter language of the text").default_value("en"),
        )
        .setting(
            Setting::new("api_url", "API base URL, for a proxy or tests")
                .env(&["ONESIGNAL_API_URL"])
                .secret(),
        )
        .allow_host("api.onesignal.com")
        .allow_host("setting:api_url.origin")
        .schemes(&["onesignal"])
    }

    /// `onesignal://[TEMPLATE:]APP_ID@API_KEY/TARGET[/TARGET…]` (a
    /// subscription id, `@USER`, `#SEGMENT`), with `?to=`, `?subtitle=`,
    /// `?language=` (or `?lang=`) and `?template=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["onesignal"])?;
        let (template, app) = match (&u.user, &u.password) {
            (Some(t), Some(a)) => (Some(t.clone()), Some(a.clone())),
            (Some(a), None) => (None, Some(a.clone())),
            _ => (None, None),
        };
        let mut to = u.path.clone();
        if let Some(more) = u.param("to") {
            to.extend(
                more.split([',', ' '])
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
        }
        let (Some(app), false, false) = (app, u.host.is_empty(), to.is_empty()) else {
            return Err("onesignal:// needs the App ID, the API key and a target: \
                        onesignal://APP_ID@API_KEY/TARGET"
                .into());
        };
        let mut kinds: Vec<Vec<String>> = vec![Vec::new(); KINDS.len()];
        for target in &to {
            let (i, name) = KINDS
                .iter()
                .enumerate()
                .skip(1)
                .find_map(|(i, (_, _, prefix))| target.strip_prefix(prefix).map(|n| (i, n)))
                .unwrap_or((0, target.as_str()));
            if i == 0 && name.contains('@') {
                return Err(format!(
                    "OneSignal target {target:?} is an e-mail address; this channel sends pushes only"
                ));
            }
            if name.trim().is_empty() {
                return Err(format!("OneSignal target {target:?} names nothing"));
            }
            kinds[i].push(name.trim().to_string());
        }
        let mut pairs = Pairs::new()
            .set("app_id", app)
            .set("api_key", u.host.clone());
        for ((key, _, _), ids) in KINDS.iter().zip(kinds) {
            pairs = pairs.maybe(key, (!ids.is_empty()).then(|| ids.join(",")));
        }
        pairs
            .maybe(
                "template_id",
                u.param("template").map(String::from).or(template),
            )
            .maybe("subtitle", u.param("subtitle"))
            .maybe("language", u.param("language").or(u.param("lang")))
            .done()
    }

    /// An App API key (`os_v2_…`) is told from a legacy REST key by its
    /// form; the targets are lists, an item a placeholder each; the API
    /// URL's origin is public.
    fn shapes() -> Vec<Shape> {
        let mut shapes = vec![
            Shape::new("api_key").form("app", r"os_v2_.*", &[]),
            Shape::new("api_url").form(
                "url",
                r"(?P<origin>[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+)/?(?P<rest>[/?#].*)?",
                &["origin"],
            ),
        ];
        shapes.extend(KINDS.iter().map(|(key, _, _)| Shape::new(key).list(",")));
        shapes
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = api_url(settings);
        let key = settings.require("api_key")?;
        let scheme = if settings.get("api_key.form") == Some("app") {
            "Key"
        } else {
            "Basic"
        };
        let language = settings
            .get_or("language", "en")
            .trim()
            .to_ascii_lowercase();
        if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(SendError::Config(format!(
                "setting `language` must be a two-letter code, not {language:?}"
            )));
        }
        let mut body = json!({
            "app_id": settings.require("app_id")?,
            "contents": { &language: msg.body },
        });
        if !msg.title.trim().is_empty() {
            body["headings"] = json!({ &language: msg.title.trim() });
        }
        if let Some(subtitle) = settings.get("subtitle") {
            body["subtitle"] = json!({ &language: subtitle });
        }
        if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
            body["url"] = json!(link);
        }
        settings.copy_into(&mut body, &["template_id"]);
        let targetings: Vec<(&str, Vec<&str>)> = KINDS
            .iter()
            .map(|(key, field, _)| (*field, settings.list(key, &[','])))
            .filter(|(_, ids)| !ids.is_empty())
            .collect();
        if targetings.is_empty() {
            return Err(SendError::Config(
                "set `subscription_ids`, `external_ids` or `segments` \
                 (ONESIGNAL_SUBSCRIPTION_IDS, ONESIGNAL_EXTERNAL_IDS, ONESIGNAL_SEGMENTS)"
                    .into(),
            ));
        }
        let key_base = delivery::key();
        let mut first_id = None;
        // One request per kind of target (the API takes one targeting per
        // request); a retry skips the kinds reached, and each carries the
        // same idempotency key on every attempt.
        delivery::send_parts(&targetings, 0, |(field, ids)| {
            let mut request = body.clone();
            if *field == "external_id" {
                request["include_aliases"] = json!({ "external_id": ids });
                request["target_channel"] = json!("push");
            } else {
                request[*field] = json!(ids);
            }
            request["idempotency_key"] = json!(uuid(&format!("{key_base}/{field}")));
            // Success is the message's `id`; without one nothing was sent,
            // and `errors` says why.
            let sent = Request::post(format!("{base}/notifications"))
                .query(&[("c", "push")])
                .header("Authorization", &format!("{scheme} {key}"))
                .json(&request)
                .send()?
                .check(&Check::field("id").non_empty().message("errors"))?;
            first_id = first_id.take().or(id_at(&sent, "id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first_id))
    }
}

/// `api_url` is secret (its env name reads as a credential's), so it
/// arrives as a placeholder with its origin in clear: a bare origin is used
/// as such, a URL with a path whole; absent, the official server (as
/// SIGNL4's channel reads its own).
fn api_url(settings: &Settings) -> String {
    match (settings.get("api_url.origin"), settings.get("api_url.rest")) {
        (Some(origin), None) => origin.to_string(),
        _ => settings
            .get_or("api_url", OFFICIAL)
            .trim_end_matches('/')
            .to_string(),
    }
}

/// A UUID (version 4's layout) made from `seed`: the same for every attempt
/// of a delivery, another for another.
fn uuid(seed: &str) -> String {
    let h = mcp_push_sdk::crypto::hmac_sha256(b"mcp-push idempotency", seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

export_channel!(OneSignal);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const APP: &str = "8250eaf6-1a58-489e-b136-7c74a864b434";
    const KEY: &str = "os_v2_app_rbioz5q2lbeh3nrwpr2kqzfuguxkd6o4jm5ue2fhdq7n3ptk2z4q";
    const LEGACY: &str = "NGEwMGZmMjItY2NkNy0xMWUzLTk5ZDUtMDAwYzI5NDBlNjJj";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<OneSignal>();
    }

    #[test]
    fn parses_apprises_onesignal_urls() {
        assert_eq!(
            OneSignal::parse_url(&format!(
                "onesignal://{APP}@{LEGACY}/p1/%40u1/%23Active%20Users/p2"
            ))
            .unwrap(),
            pairs(&[
                ("app_id", APP),
                ("api_key", LEGACY),
                ("subscription_ids", "p1,p2"),
                ("external_ids", "u1"),
                ("segments", "Active Users"),
            ])
        );
        assert_eq!(
            OneSignal::parse_url(&format!(
                "onesignal://tpl-1:{APP}@{KEY}?to=p2&subtitle=CI&lang=de"
            ))
            .unwrap(),
            pairs(&[
                ("app_id", APP),
                ("api_key", KEY),
                ("subscription_ids", "p2"),
                ("template_id", "tpl-1"),
                ("subtitle", "CI"),
                ("language", "de"),
            ])
        );
        assert!(OneSignal::parse_url(&format!("onesignal://{KEY}/p1")).is_err());
        assert!(OneSignal::parse_url(&format!("onesignal://{APP}@{KEY}")).is_err());
        assert!(
            OneSignal::parse_url(&format!("onesignal://{APP}@{KEY}/ops%40example.com"))
                .unwrap_err()
                .contains("e-mail")
        );
    }

    fn harness(key: &str) -> Harness {
        Harness::new::<OneSignal>()
            .setting("app_id", APP)
            .setting("api_key", key)
            .setting("subscription_ids", "p1,p2")
    }

    fn created(id: &str) -> Reply {
        Reply::json(200, json!({"id": id, "external_id": null}))
    }

    /// The documented request: `Key` and the App API key, the App ID and
    /// the ids (all only on the wire), `contents` and `headings` in the
    /// language, the link as `url`, an idempotency key in UUID form.
    #[test]
    fn posts_the_documented_request() {
        let h = harness(KEY).reply(created("b98881cc-1e94-4366-bbd9-db8f3429292b"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("b98881cc-1e94-4366-bbd9-db8f3429292b")
        );
        assert_eq!(
            h.requests()[0].url,
            "https://api.onesignal.com/notifications?c=push"
        );
        assert!(!h.requests()[0].text().contains(APP));
        let wire = &h.on_the_wire()[0];
        assert_eq!(
            wire.header("authorization"),
            Some(format!("Key {KEY}").as_str())
        );
        let mut body = wire.json();
        let idem = body
            .as_object_mut()
            .unwrap()
            .remove("idempotency_key")
            .unwrap();
        assert_eq!(
            body,
            json!({"app_id": APP, "contents": {"en": "v2 is live"}, "headings": {"en": "Deploy"},
                   "url": "https://ci.example.com/7", "include_subscription_ids": ["p1", "p2"]})
        );
        let idem = idem.as_str().unwrap();
        assert_eq!(idem.len(), 36);
        assert_eq!(&idem[14..15], "4");
    }

    #[test]
    fn a_legacy_key_goes_as_basic() {
        let h = harness(LEGACY).reply(created("m"));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("Basic {LEGACY}").as_str())
        );
        assert!(
            !h.requests()[0]
                .header("authorization")
                .unwrap()
                .contains(LEGACY)
        );
    }

    /// A request per kind of target, users by their external id alias;
    /// a retry resumes after the kinds reached with the same idempotency
    /// key, and the next delivery has others.
    #[test]
    fn each_kind_of_target_and_a_retry_keeps_its_keys() {
        let h = harness(KEY)
            .setting("subscription_ids", "p1")
            .setting("external_ids", "alice")
            .setting("segments", "Active Users")
            .setting("language", "DE")
            .setting("subtitle", "CI")
            .setting("template_id", "tpl-1")
            .reply(created("m1"))
            .reply(Reply::text(502, "<html>Bad Gateway</html>"))
            .reply(created("m2"))
            .reply(created("m3"))
            .reply(created("m4"))
            .reply(created("m5"))
            .reply(created("m6"));
        let msg = message("", "B");
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        h.send(&msg).unwrap();
        h.send(&msg).unwrap();
        let reqs: Vec<_> = h.on_the_wire().iter().map(|r| r.json()).collect();
        assert_eq!(reqs[0]["include_subscription_ids"], json!(["p1"]));
        assert_eq!(
            reqs[1]["include_aliases"],
            json!({"external_id": ["alice"]})
        );
        assert_eq!(reqs[1]["target_channel"], "push");
        assert_eq!(reqs[3]["included_segments"], json!(["Active Users"]));
        assert_eq!(reqs[0]["contents"], json!({"de": "B"}));
        assert_eq!(reqs[0]["subtitle"], json!({"de": "CI"}));
        assert_eq!(reqs[0]["template_id"], "tpl-1");
        assert!(reqs[0].get("headings").is_none());
        assert_eq!(
            reqs[1]["idempotency_key"], reqs[2]["idempotency_key"],
            "a retry keeps its key"
        );
        assert_ne!(reqs[0]["idempotency_key"], reqs[1]["idempotency_key"]);
        assert_ne!(
            reqs[4]["idempotency_key"], reqs[0]["idempotency_key"],
            "another delivery"
        );
    }

    /// `api_url` (secret, its origin public) points the channel elsewhere.
    #[test]
    fn another_api_url_is_reached_by_its_origin() {
        let h = harness(KEY)
            .setting("api_url", "http://127.0.0.1:9/")
            .reply(created("m"));
        h.send(&message("T", "B")).unwrap();
        assert_eq!(
            h.on_the_wire()[0].url,
            "http://127.0.0.1:9/notifications?c=push"
        );
    }

    fn outcome(reply: Reply) -> SendError {
        harness(KEY)
            .reply(reply)
            .send(&message("T", "B"))
            .unwrap_err()
    }

    #[test]
    fn refusals_map_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                200,
                json!({"id": "", "errors": ["All included players are not subscribed"]})
            )),
            SendError::Rejected("id : All included players are not subscribed".into())
        );
        assert_eq!(
            outcome(Reply::json(
                403,
                json!({"errors": ["Access denied.  Please include an 'Authorization: ...' header with a valid API key"]})
            )),
            SendError::Rejected(
                "HTTP 403: Access denied.  Please include an 'Authorization: ...' header with a valid API key"
                    .into()
            )
        );
        assert_eq!(
            outcome(
                Reply::json(429, json!({"errors": ["API rate limit exceeded."]}))
                    .header("Retry-After", "100")
            ),
            SendError::RateLimited(Some(100))
        );
        assert!(matches!(
            outcome(Reply::json(503, json!({"errors": ["Service Unavailable"]}))),
            SendError::Unavailable(_)
        ));
        let bad = harness(KEY).setting("language", "english");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        let none = Harness::new::<OneSignal>()
            .setting("app_id", APP)
            .setting("api_key", KEY);
        assert!(matches!(
            none.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("ONESIGNAL_SEGMENTS")
        ));
        assert!(bad.requests().is_empty() && none.requests().is_empty());
    }
}
