//! Pushy pushes (`PUSHY_API_KEY`, `PUSHY_TO`, Apprise's
//! `pushy://APIKEY/TARGETS`).
//!
//! Sources: Pushy's API reference (pushy.me/docs/api and "Send
//! Notifications API": POST `https://api.pushy.me/push?api_key=KEY` with
//! JSON `to` (a device token, an array of them, a topic prefixed with
//! `/topics/`, or an array of topics, at most 100), `data` (the app's
//! payload, limited to 4 KB), `notification` (iOS: `title`, `body`,
//! `badge`, `sound`); a 200 with `{"success": true, "id": …, "info":
//! {"devices": N, "failed": [tokens]}}`); Apprise's `pushy.py` (the URL
//! form, `@DEVICE` and `#TOPIC` targets, a bare target a topic, `?sound=`,
//! `?badge=`, `?key=`, `?to=`; `data.message` and `notification.body` the
//! body, `notification.title` the title; one request per target; 401 an
//! invalid key). Not in qinglong's notify.py: `PUSHY_*` are mcp-push's own
//! names.
//!
//! Where the sources differ: Apprise sends a topic's bare name, which the
//! docs read as a device token; here it is `/topics/NAME`, as the docs
//! say. The docs take arrays, so devices go in one request and topics in
//! another rather than one request per target. Apprise cuts the body at
//! 4,096 characters; here the `data` payload is kept within the docs' 4 KB
//! (4,096 bytes of JSON). Written from memory: the error body `{"code": …,
//! "error": …}` of Pushy's API errors, used to quote the reason.

use mcp_push_sdk::prelude::*;

struct Pushy;

const OFFICIAL: &str = "https://api.pushy.me";

/// The docs' limit of `data`, as JSON bytes.
const DATA_BYTES: usize = 4096;

impl Channel for Pushy {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "pushy",
            "Pushy",
            env!("CARGO_PKG_VERSION"),
            "Pushes to an app's devices or topics through Pushy",
        )
        .formats(&["text"])
        .setting(
            Setting::new("api_key", "The app's Secret API Key")
                .env(&["PUSHY_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "to",
                "Device tokens (@TOKEN) and topics (#TOPIC, or a bare name), comma or space separated",
            )
            .env(&["PUSHY_TO"])
            .required(),
        )
        .setting(Setting::new("sound", "An iOS sound (ping.aiff)").env(&["PUSHY_SOUND"]))
        .setting(Setting::new("badge", "An iOS badge number").env(&["PUSHY_BADGE"]))
        .setting(Setting::api_url("PUSHY_API_URL", OFFICIAL))
        .allow_host("api.pushy.me")
        .allow_host("setting:api_url")
        .schemes(&["pushy"])
    }

    /// `pushy://APIKEY/TARGET[/TARGET…]`, with `?key=`, `?to=`, `?sound=`
    /// and `?badge=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["pushy"])?;
        let key = u
            .param("key")
            .map(String::from)
            .or_else(|| (!u.host.is_empty()).then(|| u.host.clone()));
        let mut to = u.path.clone();
        if let Some(more) = u.param("to") {
            to.extend(
                more.split([',', ' '])
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
        }
        let (Some(key), false) = (key, to.is_empty()) else {
            return Err("pushy:// needs the API key and a target: pushy://APIKEY/@DEVICE or pushy://APIKEY/#TOPIC".into());
        };
        let pairs = Pairs::new()
            .set("api_key", key)
            .set("to", to.join(","))
            .maybe("sound", u.param("sound"))
            .maybe("badge", u.param("badge"))
            .done()?;
        let settings = Settings::from(pairs.clone());
        targets(&settings).map_err(refusal)?;
        settings.parse::<u32>("badge").map_err(refusal)?;
        Ok(pairs)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let key = settings.require("api_key")?;
        let badge = settings.parse::<u32>("badge")?;
        let groups = targets(settings)?;
        let title = msg.title.trim();
        let data = fit_data(title, &msg.body_with_link());
        let mut notification = json!({ "body": data["message"] });
        if !title.is_empty() {
            notification["title"] = json!(title);
        }
        if let Some(sound) = settings.get("sound") {
            notification["sound"] = json!(sound);
        }
        if let Some(badge) = badge {
            notification["badge"] = json!(badge);
        }
        let mut first_id = None;
        // Devices in one request, topics in another; a retry skips a group
        // already reached.
        delivery::send_parts(&groups, 0, |group| {
            let body = json!({ "to": group, "data": data, "notification": notification });
            // Success is `success: true` with the push's `id`; a refusal
            // says why in `error`.
            let sent = Request::post(format!("{base}/push"))
                .query(&[("api_key", key)])
                .json(&body)
                .send()?
                .check(&Check::field("success").is_true().message("error"))?;
            first_id = first_id.take().or(id_at(&sent, "id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first_id))
    }
}

/// The targets as Pushy's `to` takes them, devices first and topics after,
/// each group a list of its own: `@TOKEN` a device, `#TOPIC` (or a bare
/// name, as Apprise reads it) the topic `/topics/TOPIC`.
fn targets(settings: &Settings) -> Result<Vec<Vec<String>>, SendError> {
    let (mut devices, mut topics) = (Vec::new(), Vec::new());
    for target in settings.list("to", &[',', ' ']) {
        let (list, name) = match target.strip_prefix('@') {
            Some(device) => (&mut devices, device),
            None => (
                &mut topics,
                target
                    .strip_prefix("/topics/")
                    .or(target.strip_prefix('#'))
                    .unwrap_or(target),
            ),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
        {
            return Err(SendError::Config(format!(
                "Pushy target {target:?} is neither a device (@TOKEN) nor a topic (#TOPIC)"
            )));
        }
        list.push(name.to_string());
    }
    let topics: Vec<String> = topics.into_iter().map(|t| format!("/topics/{t}")).collect();
    let groups: Vec<Vec<String>> = [devices, topics]
        .into_iter()
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() {
        return Err(SendError::Config(
            "setting `to` (PUSHY_TO) names no device or topic".into(),
        ));
    }
    Ok(groups)
}

/// `data` with the title and the message, the message cut (with `…`) so
/// that the JSON stays within Pushy's 4 KB.
fn fit_data(title: &str, text: &str) -> mcp_push_sdk::serde_json::Value {
    let with = |message: &str| {
        let mut data = json!({ "message": message });
        if !title.is_empty() {
            data["title"] = json!(title);
        }
        data
    };
    let fits = |budget: usize| with(&truncate(text, Limit::Bytes(budget), CUT_MARKER));
    if fits(DATA_BYTES).to_string().len() <= DATA_BYTES {
        return fits(DATA_BYTES);
    }
    // The longest cut whose JSON fits (escapes make a byte of text cost up
    // to six of JSON), by halving.
    let (mut low, mut high) = (0, DATA_BYTES);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(mid).to_string().len() <= DATA_BYTES {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    fits(low)
}

export_channel!(Pushy);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const KEY: &str = "6a547f1e7fa1dca83ec11a9210b99dfc87f3935b12415";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Pushy>();
    }

    #[test]
    fn parses_apprises_pushy_urls() {
        assert_eq!(
            Pushy::parse_url(&format!("pushy://{KEY}/@a6345d0278adc55d3474f5/%23news")).unwrap(),
            pairs(&[("api_key", KEY), ("to", "@a6345d0278adc55d3474f5,#news")])
        );
        assert_eq!(
            Pushy::parse_url(&format!(
                "pushy://?key={KEY}&to=alerts&sound=ping.aiff&badge=2"
            ))
            .unwrap(),
            pairs(&[
                ("api_key", KEY),
                ("to", "alerts"),
                ("sound", "ping.aiff"),
                ("badge", "2")
            ])
        );
        assert!(Pushy::parse_url(&format!("pushy://{KEY}")).is_err());
        assert!(Pushy::parse_url(&format!("pushy://{KEY}/news?badge=-1")).is_err());
        assert!(Pushy::parse_url(&format!("pushy://{KEY}/@")).is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Pushy>()
            .setting("api_key", KEY)
            .setting("to", "@a6345d0278adc55d3474f5")
    }

    fn pushed(id: &str) -> Reply {
        Reply::json(
            200,
            json!({"success": true, "id": id, "info": {"devices": 1}}),
        )
    }

    /// The documented request: the key in `?api_key=` (only on the wire),
    /// JSON `to`, `data` and `notification`; the push's id kept.
    #[test]
    fn posts_the_documented_request() {
        let h = harness()
            .setting("sound", "ping.aiff")
            .setting("badge", "1")
            .reply(pushed("5ea9b214b47cad768a35f13a"));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            h.send(&msg).unwrap().remote_id.as_deref(),
            Some("5ea9b214b47cad768a35f13a")
        );
        let req = &h.requests()[0];
        assert!(req.url.starts_with("https://api.pushy.me/push?api_key="));
        assert_ne!(req.query("api_key").as_deref(), Some(KEY));
        assert_eq!(h.on_the_wire()[0].query("api_key").as_deref(), Some(KEY));
        assert_eq!(
            req.json(),
            json!({
                "to": ["a6345d0278adc55d3474f5"],
                "data": {"title": "Deploy", "message": "v2 is live\n\nhttps://ci.example.com/7"},
                "notification": {"title": "Deploy", "body": "v2 is live\n\nhttps://ci.example.com/7",
                                 "sound": "ping.aiff", "badge": 1},
            })
        );
    }

    /// Devices in one request, topics (`/topics/…`) in another; a retry
    /// skips the group reached.
    #[test]
    fn devices_and_topics_in_a_request_each() {
        let h = harness()
            .setting("to", "#news, @d1 alerts @d2")
            .reply(pushed("p1"))
            .reply(Reply::json(500, json!({"code": "INTERNAL_SERVER_ERROR", "error": "An internal server error occurred."})))
            .reply(pushed("p2"));
        let msg = message("", "B");
        assert!(
            matches!(h.send(&msg), Err(SendError::Unavailable(m)) if m == "HTTP 500: An internal server error occurred.")
        );
        h.send(&msg).unwrap();
        let to: Vec<_> = h
            .requests()
            .iter()
            .map(|r| r.json()["to"].clone())
            .collect();
        assert_eq!(
            to,
            [
                json!(["d1", "d2"]),
                json!(["/topics/news", "/topics/alerts"]),
                json!(["/topics/news", "/topics/alerts"])
            ]
        );
        assert_eq!(h.requests()[0].json()["notification"], json!({"body": "B"}));
    }

    #[test]
    fn data_stays_within_4_kb() {
        let h = harness().reply(pushed("p"));
        h.send(&message("T", &"\"é\n".repeat(3000))).unwrap();
        let data = &h.requests()[0].json()["data"];
        assert!(data.to_string().len() <= 4096, "{}", data.to_string().len());
        assert!(data.to_string().len() > 4000);
        assert!(data["message"].as_str().unwrap().ends_with(CUT_MARKER));
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn refusals_map_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::json(
                401,
                json!({"code": "INVALID_API_KEY", "error": "The API key you provided is invalid."})
            )),
            SendError::Rejected("HTTP 401: The API key you provided is invalid.".into())
        );
        assert_eq!(
            outcome(Reply::json(
                400,
                json!({"code": "INVALID_PARAM", "error": "Please provide the 'to' parameter."})
            )),
            SendError::Rejected("HTTP 400: Please provide the 'to' parameter.".into())
        );
        assert_eq!(
            outcome(Reply::json(
                429,
                json!({"code": "RATE_LIMIT_EXCEEDED", "error": "Rate limit exceeded."})
            )),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(Reply::json(200, json!({"success": false}))),
            SendError::Rejected(_)
        ));
        let bad = harness().setting("to", "@");
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
        assert!(bad.requests().is_empty());
    }
}
