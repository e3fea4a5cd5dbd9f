//! Pushsafer (`PUSHSAFER_PRIVATE_KEY`, Apprise's `psafer://PRIVATEKEY[/DEVICE]`
//! and `psafers://`).
//!
//! Sources: Pushsafer's API pages (pushsafer.com/en/pushapi: HTTP POST, not
//! GET, of a form to `https://www.pushsafer.com/api`; pushsafer.com/en/pushapi_ext:
//! `k` the private or alias key and `m` the message (at most 5,000
//! characters) are required; `d` a device id, a group `gs…` or `a` for all
//! devices; `t` the title, at most 255 characters; `s` a sound 0 to 62, `v`
//! vibration 1 to 3, `i` an icon 1 to 181, `u` a link; `pr` the priority,
//! -2 (lowest) to 2 (highest)). The pages at hand show no reply, so the
//! reply is as Pushsafer's own Java client (appzer/pushsafer-java-client)
//! reads it: `{"status": 1, "success": "message transmitted", "available": N,
//! "message_ids": "…"}`, or `{"status": 0, "error": "invalid key"}` (also
//! "invalid device", "invalid device group", "not enough API calls") sent
//! with the HTTP statuses 250/255, 270, 275 and 280, which are 2xx: only
//! `status` tells success. Home Assistant's Pushsafer tests add that a reply
//! may hold a second JSON object after the first, so the first is read.
//! Apprise's `pushsafer.py`: `psafer[s]://PRIVATEKEY[/TARGET…]` with
//! `?priority=`, `?sound=`, `?vibration=`, `?to=`. Not in qinglong's
//! notify.py: `PUSHSAFER_*` are mcp-push's own names.
//!
//! Where they differ: Apprise's `psafer://` posts over plain HTTP; here both
//! schemes use HTTPS, so the key never travels in clear. Apprise reads
//! `?priority=` but never sends it; here it is sent as `pr`. Apprise sends
//! one request per target; here a channel has one target (a device, a group
//! or all), so a retry never repeats a delivered part. Apprise also takes
//! sound names (`?sound=bell`); here a sound is Pushsafer's number.

use mcp_push_sdk::prelude::*;

struct Pushsafer;

const OFFICIAL: &str = "https://www.pushsafer.com";

/// Apprise's priority names (a given prefix picks the first that starts
/// with it, as in Apprise) and Pushsafer's numbers.
const PRIORITIES: [(&str, &str); 5] = [
    ("low", "-2"),
    ("medium", "-1"),
    ("normal", "0"),
    ("high", "1"),
    ("emergency", "2"),
];

impl Channel for Pushsafer {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushsafer",
            "Pushsafer",
            env!("CARGO_PKG_VERSION"),
            "Pushes to Pushsafer's apps with a private or alias key",
        )
        .formats(&["text"])
        .setting(
            Setting::new("private_key", "Private key (or an alias key)")
                .env(&["PUSHSAFER_PRIVATE_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "device",
                "A device id, a group id (gs…), or a for all devices",
            )
            .env(&["PUSHSAFER_DEVICE"])
            .default_value("a"),
        )
        .setting(Setting::new("sound", "Sound 0 (silent) to 62").env(&["PUSHSAFER_SOUND"]))
        .setting(Setting::new("vibration", "Vibration 1 to 3").env(&["PUSHSAFER_VIBRATION"]))
        .setting(Setting::new("icon", "Icon 1 to 181").env(&["PUSHSAFER_ICON"]))
        .setting(
            Setting::new(
                "priority",
                "A fixed priority, -2 to 2 or low/medium/normal/high/emergency; else the message's",
            )
            .env(&["PUSHSAFER_PRIORITY"]),
        )
        .setting(Setting::api_url("PUSHSAFER_API_URL", OFFICIAL))
        .allow_host("www.pushsafer.com")
        .allow_host("setting:api_url")
        .schemes(&["psafer", "psafers"])
    }

    /// `psafer[s]://PRIVATEKEY[/DEVICE][?priority=&sound=&vibration=&to=]`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["psafer", "psafers"])?;
        if u.host.is_empty() {
            return Err("psafer:// needs the private key: psafer://PRIVATEKEY".into());
        }
        let mut targets: Vec<String> = u.path.clone();
        if let Some(to) = u.param("to") {
            targets.extend(to.split([',', ' ']).map(|t| t.trim().to_string()));
        }
        targets.retain(|t| !t.is_empty());
        if targets.len() > 1 {
            return Err(
                "psafer:// pushes to one device or group; define a channel per target".into(),
            );
        }
        let pairs = Pairs::new()
            .set("private_key", u.host.clone())
            .maybe("device", targets.pop())
            .maybe("priority", u.param("priority"))
            .maybe("sound", u.param("sound"))
            .maybe("vibration", u.param("vibration"))
            .done()?;
        // Refuse a bad value now, not at the first send.
        let settings = Settings::from(pairs.clone());
        options(&settings).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let priority = match settings.get("priority") {
            Some(p) => priority_number(p).map_err(SendError::Config)?,
            None => msg.priority.on(["-1", "0", "1", "2"]),
        };
        // `m` is required; a message with a title alone sends it there.
        let (title, body) = match (msg.title.trim(), msg.body.trim()) {
            (t, "") => ("", t),
            (t, _) => (t, msg.body.as_str()),
        };
        let mut form = vec![
            ("k", settings.require("private_key")?.to_string()),
            ("d", settings.get_or("device", "a").trim().to_string()),
            ("m", truncate(body, Limit::Chars(5000), CUT_MARKER)),
            ("pr", priority.to_string()),
        ];
        if !title.is_empty() {
            form.push(("t", truncate(title, Limit::Chars(255), CUT_MARKER)));
        }
        if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
            form.push(("u", link.to_string()));
        }
        form.extend(options(settings)?);
        let reply = Request::post(format!("{}/api", settings.base_url("api_url", OFFICIAL)?))
            .form(&form)
            .send()?;
        let value = first_json(&reply)
            // `status` 1 is success, whatever the HTTP status; else `error`
            // says why.
            .check(&Check::field("status").eq(1).message("error"))?;
        Ok(Receipt::from_reply(&value, "message_ids"))
    }
}

/// The optional form fields, each checked against Pushsafer's range.
fn options(settings: &Settings) -> Result<Vec<(&'static str, String)>, SendError> {
    let fields = settings.fields(&[("sound", "s"), ("vibration", "v"), ("icon", "i")]);
    let mut out = Vec::new();
    for (field, value) in fields {
        let (name, max, min) = match field {
            "s" => ("sound", 62, 0),
            "v" => ("vibration", 3, 1),
            _ => ("icon", 181, 1),
        };
        match value.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => out.push((field, n.to_string())),
            _ => {
                return Err(SendError::Config(format!(
                    "{name} must be a number from {min} to {max}, not {value:?}"
                )));
            }
        }
    }
    if let Some(p) = settings.get("priority") {
        priority_number(p).map_err(SendError::Config)?;
    }
    Ok(out)
}

/// A priority setting as Pushsafer's number: `-2`..`2`, or a name Apprise
/// takes (`low`, `medium`, `normal`, `high`, `emergency`, or a prefix).
fn priority_number(value: &str) -> Result<&'static str, String> {
    let v = value.trim().to_ascii_lowercase();
    PRIORITIES
        .iter()
        .find(|(name, number)| v == *number || (!v.is_empty() && name.starts_with(&v)))
        .map(|(_, number)| *number)
        .ok_or_else(|| {
            format!(
                "priority must be -2 to 2 or low, medium, normal, high, emergency, not {value:?}"
            )
        })
}

/// The reply with only its first JSON value as the body: Pushsafer may
/// follow it with a second object, which is not part of the answer.
fn first_json(reply: &Response) -> Response {
    let mut first = reply.clone();
    let mut values = mcp_push_sdk::serde_json::Deserializer::from_slice(&reply.body)
        .into_iter::<mcp_push_sdk::serde_json::Value>();
    if let Some(Ok(value)) = values.next() {
        first.body = value.to_string().into_bytes();
    }
    first
}

export_channel!(Pushsafer);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const KEY: &str = "XXXXXXXXXXXXXXXXXXXX";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Pushsafer>();
    }

    #[test]
    fn parses_apprise_psafer_urls() {
        assert_eq!(
            Pushsafer::parse_url(&format!("psafers://{KEY}")).unwrap(),
            vec![("private_key".into(), KEY.into())]
        );
        assert_eq!(
            Pushsafer::parse_url(&format!(
                "psafer://{KEY}/gs23?priority=emergency&sound=8&vibration=2"
            ))
            .unwrap(),
            vec![
                ("private_key".into(), KEY.into()),
                ("device".into(), "gs23".into()),
                ("priority".into(), "emergency".into()),
                ("sound".into(), "8".into()),
                ("vibration".into(), "2".into()),
            ]
        );
        let to = Pushsafer::parse_url(&format!("psafers://{KEY}?to=52")).unwrap();
        assert_eq!(to[1], ("device".into(), "52".into()));
        assert!(Pushsafer::parse_url(&format!("psafer://{KEY}/52/53")).is_err());
        assert!(Pushsafer::parse_url("psafer://").is_err());
        for bad in ["priority=urgent", "sound=bell", "vibration=4", "sound=63"] {
            assert!(
                Pushsafer::parse_url(&format!("psafer://{KEY}?{bad}")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn priorities_by_name_prefix_or_number() {
        for (given, want) in [
            ("low", "-2"),
            ("med", "-1"),
            ("n", "0"),
            ("HIGH", "1"),
            ("e", "2"),
            ("-2", "-2"),
            ("1", "1"),
        ] {
            assert_eq!(priority_number(given).unwrap(), want, "{given}");
        }
        assert!(priority_number("3").is_err());
        assert!(priority_number("moderate").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Pushsafer>().setting("private_key", KEY)
    }

    fn transmitted() -> Reply {
        Reply::json(
            200,
            json!({"status": 1, "success": "message transmitted", "available": 921, "message_ids": "59693451:57813"}),
        )
    }

    /// The documented request: a form POSTed to `/api`, the key only on the
    /// wire, all devices unless one is set, the message's priority as `pr`.
    #[test]
    fn posts_the_documented_form() {
        let h = harness()
            .setting("sound", "8")
            .setting("vibration", "2")
            .setting("icon", "25")
            .reply(transmitted());
        let mut msg = message("Backup", "done");
        msg.priority = Priority::High;
        msg.link = Some("https://ci.example.com/7".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("59693451:57813"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://www.pushsafer.com/api");
        assert!(!req.text().contains(KEY));
        let wire = &h.on_the_wire()[0];
        for (field, want) in [
            ("k", KEY),
            ("d", "a"),
            ("t", "Backup"),
            ("m", "done"),
            ("pr", "1"),
            ("u", "https://ci.example.com/7"),
            ("s", "8"),
            ("v", "2"),
            ("i", "25"),
        ] {
            assert_eq!(wire.form(field).as_deref(), Some(want), "{field}");
        }
    }

    #[test]
    fn a_fixed_priority_and_device_and_a_title_alone() {
        let h = harness()
            .setting("priority", "low")
            .setting("device", "gs23")
            .reply(transmitted());
        let mut msg = message("Disk full", "");
        msg.priority = Priority::Urgent;
        h.send(&msg).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("pr").as_deref(), Some("-2"));
        assert_eq!(wire.form("d").as_deref(), Some("gs23"));
        assert_eq!(wire.form("m").as_deref(), Some("Disk full"));
        assert_eq!(wire.form("t"), None);
        let bad = harness().setting("sound", "bell").reply(transmitted());
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("sound")
        ));
    }

    /// Title 255 characters, message 5,000, each cut with a marker.
    #[test]
    fn long_fields_are_cut_to_pushsafers_limits() {
        let h = harness().reply(transmitted());
        h.send(&message(&"T".repeat(300), &"é".repeat(6000)))
            .unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("t").unwrap().chars().count(), 255);
        let m = wire.form("m").unwrap();
        assert_eq!(m.chars().count(), 5000);
        assert!(m.ends_with(CUT_MARKER));
    }

    /// A second JSON object after the answer does not make it unreadable.
    #[test]
    fn a_reply_followed_by_a_second_object_is_read() {
        let h = harness().reply(Reply::text(
            200,
            r#"{"status":1,"success":"message transmitted"}{"available":{"a":{"x":"y"}}}"#,
        ));
        assert!(h.send(&message("T", "B")).is_ok());
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    fn error(status: u16, error: &str) -> Reply {
        Reply::json(status, json!({"status": 0, "error": error}))
    }

    /// Pushsafer's refusals come with 2xx statuses (250 to 280); `status` 0
    /// decides, and none of them is helped by a retry.
    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        for (status, why) in [
            (250, "invalid key"),
            (255, "invalid key"),
            (270, "invalid device"),
            (275, "invalid device group"),
            (280, "not enough API calls"),
        ] {
            assert_eq!(
                outcome(error(status, why)),
                SendError::Rejected(format!("status 0: {why}")),
                "{status}"
            );
        }
        assert!(matches!(
            outcome(error(500, "unknown")),
            SendError::Unavailable(m) if m == "status 0: unknown"
        ));
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.contains("HTTP 502")
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>maintenance</html>")),
            SendError::Unavailable(_)
        ));
        assert_eq!(
            outcome(Reply::text(429, "slow down").header("retry-after", "60")),
            SendError::RateLimited(Some(60))
        );
    }
}
