//! Join by joaoapps pushes (`JOIN_API_KEY`, `JOIN_DEVICES`, Apprise's
//! `join://APIKEY[/DEVICE…]`).
//!
//! Sources: Join's API page (joaoapps.com/join/api, "Send Push": the
//! `sendPush` URL with URL-encoded parameters `apikey`, `deviceId` (a
//! device or a group: `group.all`, `group.android`, `group.windows10`,
//! `group.phone`, `group.tablet`, `group.pc`), `deviceIds` (a comma
//! separated list), `deviceNames` (partial names, with the API key),
//! `title`, `text`, `url` (opened when the notification is clicked),
//! `icon`, `priority`); Apprise's `join.py` (the URL form, `?to=`,
//! `?priority=` by name or -2 to 2, `?image=`; a POST to
//! `https://joinjoaomgcd.appspot.com/_ah/api/messaging/v1/sendPush` with
//! the parameters in the query; 32-character ids are devices, `group.*`
//! groups, anything else a device name; `group.all` when none is given;
//! one request per target; the body cut at 1,000 characters; 401 an
//! invalid key). Not in qinglong's notify.py: `JOIN_*` are mcp-push's own
//! names.
//!
//! Where the sources differ: Apprise sends its own icon unless `image=no`;
//! here an icon only when `icon_url` is set. The message's link goes in
//! Join's `url` (the docs' click action) rather than the text. Written from
//! memory: the reply `{"success": true}`, or `{"success": false,
//! "errorMessage": …}` with HTTP 200 (an unknown key: "User Not
//! Authenticated"), which decides here.

use mcp_push_sdk::prelude::*;

struct Join;

const OFFICIAL: &str = "https://joinjoaomgcd.appspot.com";
const PATH: &str = "/_ah/api/messaging/v1/sendPush";

/// Apprise's cut (the parameters travel in the URL's query).
const LIMIT: Limit = Limit::Chars(1000);

/// Join's groups, as `deviceId` takes them.
const GROUPS: &[&str] = &[
    "all",
    "android",
    "chrome",
    "windows10",
    "phone",
    "tablet",
    "pc",
];

/// Apprise's names of Join's priorities, -2 to 2.
const PRIORITIES: &[(&str, i8)] = &[
    ("low", -2),
    ("moderate", -1),
    ("normal", 0),
    ("high", 1),
    ("emergency", 2),
];

impl Channel for Join {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "join",
            "Join",
            env!("CARGO_PKG_VERSION"),
            "Pushes to devices through Join by joaoapps",
        )
        .formats(&["text"])
        .setting(
            Setting::new("api_key", "Join's API key")
                .env(&["JOIN_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "devices",
                "Device ids, groups (group.all, group.phone, …) or device names, comma separated; default group.all",
            )
            .env(&["JOIN_DEVICES"]),
        )
        .setting(
            Setting::new(
                "priority",
                "-2 to 2 (or low, moderate, normal, high, emergency); default: the message's",
            )
            .env(&["JOIN_PRIORITY"]),
        )
        .setting(Setting::new("icon_url", "An icon for the notification").env(&["JOIN_ICON_URL"]))
        .setting(Setting::api_url("JOIN_API_URL", OFFICIAL))
        .allow_host("joinjoaomgcd.appspot.com")
        .allow_host("setting:api_url")
        .schemes(&["join"])
    }

    /// `join://APIKEY[/DEVICE…]` (or `join://APIKEY@DEVICE[/DEVICE…]`),
    /// with `?to=` and `?priority=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["join"])?;
        let mut devices = Vec::new();
        let key = match &u.user {
            Some(user) => {
                devices.push(u.host.clone());
                user.clone()
            }
            None => u.host.clone(),
        };
        if key.is_empty() {
            return Err("join:// needs the API key: join://APIKEY/DEVICE".into());
        }
        devices.extend(u.path.iter().cloned());
        if let Some(more) = u.param("to") {
            devices.extend(
                more.split([',', ' '])
                    .filter(|d| !d.is_empty())
                    .map(String::from),
            );
        }
        let pairs = Pairs::new()
            .set("api_key", key)
            .maybe("devices", (!devices.is_empty()).then(|| devices.join(",")))
            .maybe("priority", u.param("priority"))
            .done()?;
        priority(&Settings::from(pairs.clone()), Priority::Normal).map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let key = settings.require("api_key")?;
        let priority = priority(settings, msg.priority)?.to_string();
        let mut devices: Vec<&str> = settings.list("devices", &[',']);
        if devices.is_empty() {
            devices.push("group.all");
        }
        let text = truncate(&msg.body, LIMIT, CUT_MARKER);
        delivery::send_parts(&devices, 0, |device| {
            let mut query = vec![
                ("apikey", key.to_string()),
                ("priority", priority.clone()),
                ("title", msg.title.trim().to_string()),
                ("text", text.clone()),
            ];
            query.push(target(device));
            if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
                query.push(("url", link.to_string()));
            }
            query.extend(
                settings
                    .fields(&[("icon_url", "icon")])
                    .into_iter()
                    .map(|(f, v)| (f, v.to_string())),
            );
            // Success is `success: true`; a refusal says why in
            // `errorMessage`.
            Request::post(format!("{base}{PATH}"))
                .query(&query)
                .send()?
                .check(&Check::field("success").is_true().message("errorMessage"))?;
            Ok(())
        })?;
        Ok(Receipt::none())
    }
}

/// The parameter a target goes in: a group or a 32-character id is a
/// `deviceId`, anything else a device name.
fn target(device: &str) -> (&'static str, String) {
    let group = device
        .strip_prefix("group.")
        .unwrap_or(device)
        .to_ascii_lowercase();
    if GROUPS.contains(&group.as_str()) {
        return ("deviceId", format!("group.{group}"));
    }
    if device.len() == 32 && device.chars().all(|c| c.is_ascii_alphanumeric()) {
        return ("deviceId", device.to_string());
    }
    ("deviceNames", device.to_string())
}

/// The `priority` setting (a number or Apprise's name), else the message's
/// on Join's scale.
fn priority(settings: &Settings, of_message: Priority) -> Result<i8, SendError> {
    let Some(given) = settings.get("priority") else {
        return Ok(of_message.on([-1, 0, 1, 2]));
    };
    let given = given.trim().to_ascii_lowercase();
    PRIORITIES
        .iter()
        .find(|(name, level)| *name == given || level.to_string() == given)
        .map(|(_, level)| *level)
        .ok_or_else(|| {
            SendError::Config(format!(
                "setting `priority` must be -2 to 2 or low, moderate, normal, high, emergency, not {given:?}"
            ))
        })
}

export_channel!(Join);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "abcdef0123456789abcdef0123456789";
    const DEVICE: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Join>();
    }

    #[test]
    fn parses_apprises_join_urls() {
        assert_eq!(
            Join::parse_url(&format!("join://{KEY}")).unwrap(),
            pairs(&[("api_key", KEY)])
        );
        assert_eq!(
            Join::parse_url(&format!(
                "join://{KEY}/{DEVICE}/phone?to=Nexus&priority=high"
            ))
            .unwrap(),
            pairs(&[
                ("api_key", KEY),
                ("devices", &format!("{DEVICE},phone,Nexus")),
                ("priority", "high"),
            ])
        );
        assert_eq!(
            Join::parse_url(&format!("join://{KEY}@group.pc")).unwrap(),
            pairs(&[("api_key", KEY), ("devices", "group.pc")])
        );
        assert!(Join::parse_url("join://").is_err());
        assert!(
            Join::parse_url(&format!("join://{KEY}?priority=loud"))
                .unwrap_err()
                .contains("priority")
        );
    }

    fn harness() -> Harness {
        Harness::new::<Join>().setting("api_key", KEY)
    }

    fn ok() -> Reply {
        Reply::json(200, json!({"success": true, "userAuthError": false}))
    }

    /// The documented request: the parameters in the query of `sendPush`,
    /// `group.all` without devices, the link as Join's `url`, the key only
    /// on the wire.
    #[test]
    fn pushes_to_all_devices_by_default() {
        let h = harness().reply(ok());
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert!(
            req.url
                .starts_with("https://joinjoaomgcd.appspot.com/_ah/api/messaging/v1/sendPush?")
        );
        assert_eq!(req.query("deviceId").as_deref(), Some("group.all"));
        assert_eq!(req.query("title").as_deref(), Some("Deploy"));
        assert_eq!(req.query("text").as_deref(), Some("v2 is live"));
        assert_eq!(
            req.query("url").as_deref(),
            Some("https://ci.example.com/7")
        );
        assert_eq!(req.query("priority").as_deref(), Some("0"));
        assert_ne!(req.query("apikey").as_deref(), Some(KEY));
        assert_eq!(h.on_the_wire()[0].query("apikey").as_deref(), Some(KEY));
    }

    /// Each target in turn, in the parameter its kind takes; a retry
    /// resumes after the targets reached.
    #[test]
    fn devices_groups_and_names_each_in_turn() {
        let h = harness()
            .setting("devices", &format!("{DEVICE}, Phone, Nexus"))
            .setting("icon_url", "https://x.example/i.png")
            .reply(ok())
            .reply(Reply::text(503, "<html>Service Unavailable</html>"))
            .reply(ok())
            .reply(ok());
        let msg = message("T", "B");
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
        h.send(&msg).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs[0].query("deviceId").as_deref(), Some(DEVICE));
        assert_eq!(reqs[1].query("deviceId").as_deref(), Some("group.phone"));
        assert_eq!(reqs[2].query("deviceId").as_deref(), Some("group.phone"));
        assert_eq!(reqs[3].query("deviceNames").as_deref(), Some("Nexus"));
        assert_eq!(
            reqs[3].query("icon").as_deref(),
            Some("https://x.example/i.png")
        );
    }

    #[test]
    fn priority_from_the_message_or_the_setting_and_the_cut() {
        let h = harness().reply(ok());
        let mut msg = message("T", &"é".repeat(1200));
        msg.priority = Priority::Urgent;
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.query("priority").as_deref(), Some("2"));
        assert_eq!(req.query("text").unwrap().chars().count(), 1000);
        let set = harness().setting("priority", "Moderate").reply(ok());
        set.send(&msg).unwrap();
        assert_eq!(set.requests()[0].query("priority").as_deref(), Some("-1"));
        let bad = harness().setting("priority", "9");
        assert!(matches!(bad.send(&msg), Err(SendError::Config(_))));
        assert!(bad.requests().is_empty());
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn refusals_map_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                200,
                json!({"success": false, "userAuthError": true, "errorMessage": "User Not Authenticated"})
            )),
            SendError::Rejected("success false: User Not Authenticated".into())
        );
        assert!(matches!(
            outcome(Reply::text(401, "Unauthorized")),
            SendError::Rejected(_)
        ));
        assert_eq!(outcome(Reply::text(429, "")), SendError::RateLimited(None));
        assert!(matches!(
            outcome(Reply::text(500, "<html>Error</html>")),
            SendError::Unavailable(_)
        ));
    }
}
