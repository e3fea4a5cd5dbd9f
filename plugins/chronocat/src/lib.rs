//! Chronocat (notify.py's `CHRONOCAT_URL`, `CHRONOCAT_QQ`, `CHRONOCAT_TOKEN`):
//! one message per QQ user or group listed.
//!
//! Sources: qinglong's sample/notify.py `chronocat` (no API reference was
//! checked): POST `{CHRONOCAT_URL}/api/message/send` with a Bearer token,
//! one request per `user_id=`/`group_id=` target in `CHRONOCAT_QQ` (chatType
//! 1 or 2), one text element; success is the HTTP status alone, as in
//! notify.py.

use mcp_push_sdk::prelude::*;

struct Chronocat;

impl Channel for Chronocat {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "chronocat",
            "Chronocat",
            env!("CARGO_PKG_VERSION"),
            "Sends QQ messages through a Chronocat (Red protocol) server",
        )
        .setting(
            Setting::new("url", "Server URL")
                .env(&["CHRONOCAT_URL"])
                .required(),
        )
        .setting(
            Setting::new("qq", "Targets: user_id=QQ;group_id=GROUP;...")
                .env(&["CHRONOCAT_QQ"])
                .required(),
        )
        .setting(
            Setting::new("token", "Bearer token")
                .env(&["CHRONOCAT_TOKEN"])
                .required()
                .secret(),
        )
        .allow_host("setting:url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = format!("{}/api/message/send", settings.base_url("url", "")?);
        let token = settings.require("token")?;
        let mut peers = Vec::new();
        for target in settings.list("qq", &[';']) {
            let (chat_type, id) = match target.split_once('=') {
                Some(("user_id", id)) => (1, id.trim()),
                Some(("group_id", id)) => (2, id.trim()),
                _ => {
                    return Err(SendError::Config(format!(
                        "setting `qq` (CHRONOCAT_QQ): {target:?} is not user_id=QQ or group_id=GROUP"
                    )));
                }
            };
            peers.push((chat_type, id.to_string()));
        }
        if peers.is_empty() {
            return Err(SendError::Config(
                "setting `qq` (CHRONOCAT_QQ) names no target".into(),
            ));
        }
        let text = msg.text_with_link();
        // One request per target; a retry skips the targets already reached.
        delivery::send_parts(&peers, 0, |(chat_type, id)| {
            Request::post(&url)
                .bearer(token)
                .json(&json!({
                    "peer": { "chatType": chat_type, "peerUin": id },
                    "elements": [{ "elementType": 1, "textElement": { "content": text } }],
                }))
                .send()?
                .error_for_status()
                .map(drop)
        })?;
        Ok(Receipt::none())
    }
}

export_channel!(Chronocat);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Chronocat>();
    }

    /// Twelve targets are twelve requests (the default budget is 8); a
    /// retry after the 10th failed does not message the first nine again.
    #[test]
    fn every_target_gets_the_message_once() {
        let targets: Vec<String> = (1..=12).map(|i| format!("group_id={i}")).collect();
        let mut h = Harness::new::<Chronocat>()
            .setting("url", "http://127.0.0.1:16530")
            .setting("qq", &targets.join(";"))
            .setting("token", "tok-1");
        for _ in 0..9 {
            h = h.reply(Reply::json(200, json!({})));
        }
        h = h.reply(Reply::text(503, "busy"));
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Unavailable(_))
        ));
        for _ in 9..12 {
            h = h.reply(Reply::json(200, json!({})));
        }
        h.send(&message("t", "b")).unwrap();
        let peers: Vec<String> = h
            .requests()
            .iter()
            .map(|r| mcp_push_sdk::reply::text_of(&r.json()["peer"]["peerUin"]))
            .collect();
        let expected: Vec<String> = (1..=10).chain(10..=12).map(|i| i.to_string()).collect();
        assert_eq!(peers, expected);
        assert!(h.denied().is_empty(), "{:?}", h.denied());
    }

    /// The request as the service's docs describe it, and its documented
    /// refusal (moved from tests/channels_more.rs).
    #[test]
    fn request_and_refusal_as_documented() {
        let h = Harness::new::<Chronocat>()
            .setting("url", "http://127.0.0.1:16530")
            .setting("qq", "user_id=10001;group_id=20002")
            .setting("token", "chronoToken")
            .reply(Reply::json(200, json!({"msgId": "1"})))
            .reply(Reply::json(200, json!({"msgId": "2"})))
            .reply(Reply::text(401, "Unauthorized"));
        h.send(&message("T", "B")).unwrap();
        let reqs = h.on_the_wire();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].url, "http://127.0.0.1:16530/api/message/send");
        assert_eq!(reqs[0].header("authorization"), Some("Bearer chronoToken"));
        assert_eq!(
            reqs[0].json()["peer"],
            json!({"chatType": 1, "peerUin": "10001"})
        );
        assert_eq!(
            reqs[1].json()["peer"],
            json!({"chatType": 2, "peerUin": "20002"})
        );
        assert_eq!(
            reqs[0].json()["elements"][0]["textElement"]["content"],
            "T\n\nB"
        );
        let one = Harness::new::<Chronocat>()
            .setting("url", "http://127.0.0.1:16530")
            .setting("qq", "user_id=1")
            .setting("token", "wrong")
            .reply(Reply::text(401, "Unauthorized"));
        assert!(matches!(
            one.send(&message("T", "B")),
            Err(SendError::Rejected(m)) if m.starts_with("HTTP 401")
        ));
    }
}
