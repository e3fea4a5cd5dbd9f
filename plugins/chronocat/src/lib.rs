//! Chronocat (notify.py's `CHRONOCAT_URL`, `CHRONOCAT_QQ`, `CHRONOCAT_TOKEN`):
//! one message per QQ user or group listed.

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
        let text = msg.with_link(msg.text());
        for (chat_type, id) in peers {
            Request::post(&url)
                .bearer(token)
                .json(&json!({
                    "peer": { "chatType": chat_type, "peerUin": id },
                    "elements": [{ "elementType": 1, "textElement": { "content": text } }],
                }))
                .send()?
                .error_for_status()?;
        }
        Ok(Receipt::none())
    }
}

export_channel!(Chronocat);
