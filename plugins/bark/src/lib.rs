//! Bark, the iOS push app (notify.py's `BARK_*`, Apprise's `bark://` and
//! `barks://`): the official server or a self-hosted one. Sources:
//! bark-server's API docs (POST `/{key}` with a JSON body, `code == 200`),
//! Apple's APNs payload limit of 4 KB, beyond which bark-server answers 500
//! (a retry would fail the same way), Apprise's `bark.py`.

use mcp_push_sdk::prelude::*;

struct Bark;

/// What the body may take of APNs' 4 KB, leaving room for the title, the
/// other fields and JSON escaping.
const LIMIT: Limit = Limit::Bytes(3000);

impl Channel for Bark {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "bark",
            "Bark",
            env!("CARGO_PKG_VERSION"),
            "Pushes to an iPhone through Bark (api.day.app or your own server)",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new(
                "push",
                "Device key, or the full URL https://server/KEY of a self-hosted server",
            )
            .env(&["BARK_PUSH"])
            .required()
            .secret(),
        )
        .setting(Setting::new("archive", "Keep in history (1 or 0)").env(&["BARK_ARCHIVE"]))
        .setting(Setting::new("group", "Group in the app").env(&["BARK_GROUP"]))
        .setting(Setting::new("sound", "Sound name").env(&["BARK_SOUND"]))
        .setting(Setting::new("icon", "Icon URL").env(&["BARK_ICON"]))
        .setting(
            Setting::new("level", "active, timeSensitive, passive or critical")
                .env(&["BARK_LEVEL"]),
        )
        .setting(Setting::new("url", "URL opened on tap").env(&["BARK_URL"]))
        .allow_host("api.day.app")
        .allow_host("setting:push.origin")
        .schemes(&["bark", "barks"])
    }

    /// `bark://HOST[:PORT]/DEVICE_KEY[?sound=..&group=..&level=..]`
    /// (`barks://` for https).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["bark", "barks"])?;
        let [key] = u.path.as_slice() else {
            return Err("bark:// takes one device key: bark://HOST/DEVICE_KEY".into());
        };
        let server = OneLine {
            path: Vec::new(),
            ..u.clone()
        };
        Pairs::new()
            .set(
                "push",
                format!("{}/{key}", server.base_url(u.scheme == "barks")),
            )
            .maybe("sound", u.param("sound"))
            .maybe("group", u.param("group"))
            .maybe("level", u.param("level"))
            .maybe("icon", u.param("icon"))
            .maybe("url", u.param("click"))
            .done()
    }

    /// A device key, or the URL of a self-hosted server whose origin is
    /// not secret (the host tells which; the key stays a secret).
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("push")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let push = settings.require("push")?;
        let url = if settings.get("push.form") == Some("url") {
            push.trim_end_matches('/').to_string()
        } else {
            format!("https://api.day.app/{push}")
        };
        let level = settings.get("level").unwrap_or(msg.priority.on([
            "passive",
            "active",
            "timeSensitive",
            "critical",
        ]));
        let mut body = json!({ "title": msg.title, "level": level });
        // The APNs payload (title, body and fields, JSON-escaped) holds 4 KB.
        let text = truncate(&msg.body, LIMIT, CUT_MARKER);
        if msg.is_markdown() {
            body["markdown"] = json!(text);
        } else {
            body["body"] = json!(text);
        }
        for (key, field) in [
            ("group", "group"),
            ("sound", "sound"),
            ("icon", "icon"),
            ("archive", "isArchive"),
        ] {
            if let Some(v) = settings.get(key) {
                body[field] = json!(v);
            }
        }
        if let Some(link) = settings.get("url").or(msg.link.as_deref()) {
            body["url"] = json!(link);
        }
        Request::post(url)
            .json(&body)
            .send()?
            .check(&Check::field("code").eq(200).message("message"))?;
        Ok(Receipt::none())
    }
}

export_channel!(Bark);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Bark>();
    }

    #[test]
    fn parses_bark_urls() {
        let s = Bark::parse_url("barks://bark.example.com:8443/KEY1?sound=bell").unwrap();
        assert_eq!(s[0].1, "https://bark.example.com:8443/KEY1");
        assert_eq!(s[1], ("sound".to_string(), "bell".to_string()));
        assert!(Bark::parse_url("bark://host").is_err());
    }

    #[test]
    fn a_long_body_is_cut_to_fit_apns() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Bark>()
            .setting("push", "DEVKEY123")
            .reply(Reply::json(200, json!({"code": 200, "message": "success"})));
        h.send(&message("Log", &"é".repeat(4000))).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.url, "https://api.day.app/DEVKEY123");
        assert!(wire.body.len() < 4096, "{} bytes", wire.body.len());
        assert!(wire.json()["body"].as_str().unwrap().ends_with(CUT_MARKER));
    }

    #[test]
    fn a_self_hosted_url_is_reached_by_its_public_origin() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Bark>()
            .setting("push", "https://bark.example:8443/DEVKEY123")
            .reply(Reply::json(200, json!({"code": 200})));
        h.send(&message("t", "b")).unwrap();
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://bark.example:8443/DEVKEY123"
        );
        assert!(!h.requests()[0].url.contains("DEVKEY123"));
    }

    /// The JSON body bark-server documents, from the settings and the
    /// message (urgent is `critical`, the link is `url`), and a wrong
    /// device key refused with Bark's reason (moved from tests/channels_cn.rs).
    #[test]
    fn body_fields_and_a_refused_key() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<Bark>()
            .setting("push", "https://bark.example/DeviceKey123")
            .setting("group", "ci")
            .setting("sound", "bell")
            .setting("archive", "1")
            .reply(Reply::json(200, json!({"code": 200, "message": "success"})))
            .reply(Reply::json(
                400,
                json!({"code": 400, "message": "failed to get device token: failed to get [DeviceKey] device token from database", "timestamp": 1700000000}),
            ));
        let mut msg = message("Done", "ok");
        msg.priority = Priority::Urgent;
        msg.link = Some("https://ci.example/1".into());
        h.send(&msg).unwrap();
        assert_eq!(h.on_the_wire()[0].method, "POST");
        assert_eq!(
            h.on_the_wire()[0].json(),
            json!({"title": "Done", "body": "ok", "level": "critical", "group": "ci",
                   "sound": "bell", "isArchive": "1", "url": "https://ci.example/1"})
        );
        let err = h.send(&message("T", "B")).unwrap_err();
        assert!(
            matches!(&err, SendError::Rejected(m) if m.starts_with("code 400: failed to get device token")),
            "{err:?}"
        );
    }
}
