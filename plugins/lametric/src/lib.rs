//! LaMetric Time clocks (`LAMETRIC_DEVICE` with `LAMETRIC_API_KEY`, or
//! `LAMETRIC_APP_ID` with `LAMETRIC_APP_TOKEN`; Apprise's `lametric://` and
//! `lametrics://`).
//!
//! Sources: LaMetric's developer docs (lametric-documentation.readthedocs.io,
//! "Notifications", device API: POST `/api/v2/device/notifications` on the
//! clock, HTTP Basic auth as the user `dev` with the device's API key, a
//! Notification object `{priority: info|warning|critical, icon_type:
//! none|info|alert, lifetime, model: {frames: [{icon, text}], sound:
//! {category: alarms|notifications, id, repeat}, cycles}}`); its cloud
//! reference (an indicator app's push URL
//! `https://developer.lametric.com/api/v1/dev/widget/update/com.lametric.{app_id}/{version}`
//! with the `X-Access-Token` header and `{frames: [...]}`); Apprise's
//! `lametric.py` (`lametric://APIKEY@HOST[:PORT]` for a clock, port 8080
//! over http and `lametrics://` for https; `lametric://APP_TOKEN@APP_ID[/VERSION]`
//! for the cloud, told apart by `?mode=` or by the token's form, 80 or more
//! letters and digits ending in `==`; `?priority=`, `?icon=`, `?icon_type=`,
//! `?sound=`, `?cycles=`; 200 or 201 as success; its wiki noting that
//! LaMetric seems to have dropped the cloud mode). Not in qinglong's
//! notify.py: `LAMETRIC_*` are mcp-push's own names.
//!
//! Written from memory: the clock's reply `{"success": {"id": "N"}}` and its
//! errors `{"errors": [{"message"}]}`; the clock's https port 4343; the
//! sound ids of the `alarms` category being `alarm1` to `alarm13` (every
//! other id is a `notifications` sound).
//!
//! Where the sources differ: Apprise folds the title into one frame; the
//! docs show a notification as a list of frames, so a title is a frame of
//! its own ahead of the body's.

use mcp_push_sdk::prelude::*;

struct LaMetric;

const SCHEMES: &[&str] = &["lametric", "lametrics"];

const CLOUD: &str = "https://developer.lametric.com";

impl Channel for LaMetric {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "lametric",
            "LaMetric",
            env!("CARGO_PKG_VERSION"),
            "Shows a notification on a LaMetric Time clock",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "token",
                "The clock's API key (with `device`), or the indicator app's access token (with `app_id`)",
            )
            .env(&["LAMETRIC_API_KEY", "LAMETRIC_APP_TOKEN"])
            .required()
            .secret(),
        )
        .setting(
            Setting::new(
                "device",
                "The clock's URL on the local network: http://IP:8080 (or https://IP:4343)",
            )
            .env(&["LAMETRIC_DEVICE"]),
        )
        .setting(
            Setting::new("app_id", "The indicator app's id, for the cloud push URL instead of a clock")
                .env(&["LAMETRIC_APP_ID"]),
        )
        .setting(
            Setting::new("app_version", "The indicator app's version (1)")
                .env(&["LAMETRIC_APP_VERSION"])
                .default_value("1"),
        )
        .setting(
            Setting::new(
                "priority",
                "info, warning or critical; else from the message's priority",
            )
            .env(&["LAMETRIC_PRIORITY"]),
        )
        .setting(
            Setting::new("icon", "An icon id (i620, a7956) shown with the text")
                .env(&["LAMETRIC_ICON"]),
        )
        .setting(
            Setting::new("icon_type", "none, info or alert: the clock's own mark first")
                .env(&["LAMETRIC_ICON_TYPE"]),
        )
        .setting(
            Setting::new("sound", "A sound id (notification, positive1, alarm3, ...)")
                .env(&["LAMETRIC_SOUND"]),
        )
        .setting(
            Setting::new(
                "cycles",
                "How many times the text scrolls; 0 keeps it until dismissed (1)",
            )
            .env(&["LAMETRIC_CYCLES"])
            .default_value("1"),
        )
        .setting(
            Setting::new("api_url", "Base URL of the cloud API, for a proxy or tests")
                .env(&["LAMETRIC_API_URL"])
                .default_value(CLOUD),
        )
        .allow_host("developer.lametric.com")
        .allow_host("setting:device")
        .allow_host("setting:api_url")
        .schemes(SCHEMES)
    }

    /// `lametric[s]://APIKEY@HOST[:PORT]` (a clock; port 8080 over http,
    /// 4343 over https) or `lametric://APP_TOKEN@APP_ID[/VERSION]` (the
    /// cloud), told apart by `?mode=device|cloud`, else by the token's form.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        let token = u
            .param("token")
            .or(u.param("apikey"))
            .map(String::from)
            .or(u.password.clone())
            .or(u.user.clone());
        let (Some(token), false) = (token, u.host.is_empty()) else {
            return Err(
                "lametric:// needs a key and a clock (lametric://APIKEY@HOST) or an app \
                 (lametric://APP_TOKEN@APP_ID)"
                    .into(),
            );
        };
        let cloud = match u.param("mode") {
            Some(m) if m.eq_ignore_ascii_case("cloud") => true,
            Some(m) if m.eq_ignore_ascii_case("device") => false,
            Some(m) => {
                return Err(format!(
                    "lametric:// mode must be device or cloud, not {m:?}"
                ));
            }
            None => looks_like_app_token(&token) || u.param("app").is_some(),
        };
        let pairs = Pairs::new().set("token", token);
        let pairs = if cloud {
            let app = u.param("app").unwrap_or(&u.host);
            let app = app.strip_prefix("com.lametric.").unwrap_or(app);
            pairs.set("app_id", app).maybe(
                "app_version",
                u.param("app_ver").or(u.path.first().map(String::as_str)),
            )
        } else {
            let secure = u.scheme == "lametrics";
            let port = u.port.unwrap_or(if secure { 4343 } else { 8080 });
            pairs.set(
                "device",
                format!(
                    "{}://{}:{port}",
                    if secure { "https" } else { "http" },
                    u.host
                ),
            )
        };
        pairs
            .maybe("priority", u.param("priority"))
            .maybe("icon", u.param("icon"))
            .maybe("icon_type", u.param("icon_type"))
            .maybe("sound", u.param("sound"))
            .maybe("cycles", u.param("cycles"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let token = settings.require("token")?;
        let frames: Vec<_> = [msg.title.trim(), msg.body.trim()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .map(|text| {
                let mut frame = json!({ "text": text });
                settings.copy_into(&mut frame, &["icon"]);
                frame
            })
            .collect();
        let reply = match (settings.get("device"), settings.get("app_id")) {
            (Some(_), Some(_)) => {
                return Err(SendError::Config(
                    "set `device` (a clock) or `app_id` (the cloud), not both".into(),
                ));
            }
            (None, None) => {
                return Err(SendError::Config(
                    "set `device` (LAMETRIC_DEVICE, a clock) or `app_id` (LAMETRIC_APP_ID, the cloud)"
                        .into(),
                ));
            }
            (Some(device), None) => {
                if !device.contains("://") {
                    return Err(SendError::Config(format!(
                        "setting `device` must be the clock's URL, http://{device}:8080"
                    )));
                }
                let default = msg.priority.on(["info", "info", "warning", "critical"]);
                let priority =
                    settings.choice("priority", &["info", "warning", "critical"], default)?;
                let icon_type = settings.choice("icon_type", &["none", "info", "alert"], "none")?;
                let cycles = settings.parse::<u32>("cycles")?.unwrap_or(1);
                let mut model = json!({ "frames": frames, "cycles": cycles });
                if let Some(id) = settings.get("sound") {
                    let id = id.trim().to_ascii_lowercase();
                    let category = if id.starts_with("alarm") {
                        "alarms"
                    } else {
                        "notifications"
                    };
                    model["sound"] = json!({ "category": category, "id": id, "repeat": 1 });
                }
                Request::post(format!(
                    "{}/api/v2/device/notifications",
                    settings.base_url("device", "")?
                ))
                .basic_auth("dev", token)
                .header("Accept", "application/json")
                .json(&json!({
                    "priority": priority,
                    "icon_type": icon_type,
                    "model": model,
                }))
                .send()?
            }
            (None, Some(app)) => {
                let version = settings.parse::<u32>("app_version")?.unwrap_or(1);
                Request::post(format!(
                    "{}/api/v1/dev/widget/update/com.lametric.{}/{version}",
                    settings.base_url("api_url", CLOUD)?,
                    url_encode(app)
                ))
                .header("X-Access-Token", token)
                .header("Accept", "application/json")
                .json(&json!({ "frames": frames }))
                .send()?
            }
        };
        // Success is the status (200, or 201 from a clock with the
        // notification's id); a refusal says why in `errors`.
        if reply.is_success() {
            let id = reply.json().ok().and_then(|v| id_at(&v, "success.id"));
            Ok(Receipt::maybe(id))
        } else {
            Err(reply.status_error_at("errors.0.message"))
        }
    }
}

/// Apprise's test for a cloud app's access token: 80 or more letters and
/// digits, then `==`.
fn looks_like_app_token(token: &str) -> bool {
    token
        .strip_suffix("==")
        .is_some_and(|t| t.len() >= 80 && t.chars().all(|c| c.is_ascii_alphanumeric()))
}

export_channel!(LaMetric);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "8adaa0c98278dbb1ecb218d1c3e11f9312317ba474ab3361f80c0bd4f13a6749";
    const APP_TOKEN: &str = "K2MxWI0NzU0ZmI2NjJlZYTgViMDgDRiN8YjlmZjRmNTc4NDVhJzk0RiNjNh0EyKWWYzZjJjM2EwNDZhMzQ0YzRhNWE==";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<LaMetric>();
    }

    #[test]
    fn parses_apprise_device_and_cloud_urls() {
        assert_eq!(
            LaMetric::parse_url(&format!("lametric://{KEY}@192.168.1.12")).unwrap(),
            pairs(&[("token", KEY), ("device", "http://192.168.1.12:8080")])
        );
        assert_eq!(
            LaMetric::parse_url(&format!(
                "lametrics://dev:{KEY}@clock.lan?priority=critical&sound=alarm3&cycles=0"
            ))
            .unwrap(),
            pairs(&[
                ("token", KEY),
                ("device", "https://clock.lan:4343"),
                ("priority", "critical"),
                ("sound", "alarm3"),
                ("cycles", "0"),
            ])
        );
        assert_eq!(
            LaMetric::parse_url(&format!("lametric://{APP_TOKEN}@com.lametric.b1e0c6a1/2"))
                .unwrap(),
            pairs(&[
                ("token", APP_TOKEN),
                ("app_id", "b1e0c6a1"),
                ("app_version", "2")
            ])
        );
        assert_eq!(
            LaMetric::parse_url("lametric://short@myapp?mode=cloud").unwrap(),
            pairs(&[("token", "short"), ("app_id", "myapp")])
        );
        assert!(LaMetric::parse_url("lametric://192.168.1.12").is_err());
        assert!(LaMetric::parse_url("lametric://k@h?mode=both").is_err());
    }

    fn device() -> Harness {
        Harness::new::<LaMetric>()
            .setting("token", KEY)
            .setting("device", "http://192.168.1.12:8080")
    }

    /// The documented device request: a Notification object to
    /// `/api/v2/device/notifications`, Basic auth `dev:KEY` filled in by
    /// the host, the title and body as frames; the id from the reply kept.
    #[test]
    fn posts_the_documented_notification_to_a_clock() {
        let h = device()
            .setting("icon", "i620")
            .setting("sound", "Positive1")
            .reply(Reply::json(201, json!({"success": {"id": "7"}})));
        let mut msg = message("Deploy", "v2 is live");
        msg.priority = Priority::High;
        assert_eq!(h.send(&msg).unwrap().remote_id.as_deref(), Some("7"));
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            "http://192.168.1.12:8080/api/v2/device/notifications"
        );
        assert_eq!(
            req.json(),
            json!({
                "priority": "warning",
                "icon_type": "none",
                "model": {
                    "frames": [{"text": "Deploy", "icon": "i620"}, {"text": "v2 is live", "icon": "i620"}],
                    "cycles": 1,
                    "sound": {"category": "notifications", "id": "positive1", "repeat": 1},
                },
            })
        );
        let basic = format!(
            "Basic {}",
            mcp_push_sdk::encode::base64(format!("dev:{KEY}").as_bytes())
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(basic.as_str())
        );
    }

    #[test]
    fn settings_shape_the_notification() {
        let h = device()
            .setting("priority", "critical")
            .setting("icon_type", "alert")
            .setting("cycles", "0")
            .setting("sound", "alarm3")
            .reply(Reply::json(201, json!({"success": {"id": "8"}})));
        h.send(&message("", "smoke")).unwrap();
        let body = h.requests()[0].json();
        assert_eq!(body["priority"], "critical");
        assert_eq!(body["icon_type"], "alert");
        assert_eq!(body["model"]["cycles"], 0);
        assert_eq!(body["model"]["frames"], json!([{"text": "smoke"}]));
        assert_eq!(body["model"]["sound"]["category"], "alarms");
        for (key, value) in [("priority", "loud"), ("icon_type", "big"), ("cycles", "-1")] {
            let bad = device().setting(key, value);
            assert!(
                matches!(bad.send(&message("T", "B")), Err(SendError::Config(_))),
                "{key}"
            );
        }
        let bare = Harness::new::<LaMetric>()
            .setting("token", KEY)
            .setting("device", "192.168.1.12");
        assert!(
            matches!(bare.send(&message("T", "B")), Err(SendError::Config(m)) if m.contains("http://192.168.1.12:8080"))
        );
        let none = Harness::new::<LaMetric>().setting("token", KEY);
        assert!(matches!(
            none.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        let both = device().setting("app_id", "x");
        assert!(matches!(
            both.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
    }

    /// The cloud: the app's push URL with `X-Access-Token`, frames only.
    #[test]
    fn pushes_to_an_indicator_app_in_the_cloud() {
        let h = Harness::new::<LaMetric>()
            .setting("token", APP_TOKEN)
            .setting("app_id", "b1e0c6a1")
            .setting("app_version", "2")
            .reply(Reply::json(200, json!({"success": {"data": {}}})));
        h.send(&message("Deploy", "done")).unwrap();
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            "https://developer.lametric.com/api/v1/dev/widget/update/com.lametric.b1e0c6a1/2"
        );
        assert_eq!(
            req.json(),
            json!({"frames": [{"text": "Deploy"}, {"text": "done"}]})
        );
        assert_eq!(h.on_the_wire()[0].header("x-access-token"), Some(APP_TOKEN));
        assert_ne!(req.header("x-access-token"), Some(APP_TOKEN));
    }

    fn outcome(reply: Reply) -> SendError {
        device().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                401,
                json!({"errors": [{"message": "Authorization is required"}]})
            )),
            SendError::Rejected("HTTP 401: Authorization is required".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"errors": [{"message": "Invalid notification: frames is empty"}]})
            )),
            SendError::Rejected("HTTP 400: Invalid notification: frames is empty".into())
        );
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "5")),
            SendError::RateLimited(Some(5))
        );
        assert!(matches!(
            outcome(Reply::text(503, "busy")),
            SendError::Unavailable(m) if m == "HTTP 503: busy"
        ));
    }
}
