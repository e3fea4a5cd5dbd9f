//! A channel that can edit: a message with `previous` is a PUT to
//! `URL/messages/ID` (an edit), any other is a POST to `URL/messages` whose
//! reply names the new message's id. Test-only: never bundled.

use mcp_push_sdk::prelude::*;

struct Editor;

impl Channel for Editor {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "editor",
            "Editor (tests only)",
            "0.0.1",
            "Edits a run's message in place",
        )
        .setting(Setting::new("url", "The test's mock").required())
        .allow_host("setting:url")
        .can_edit()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = settings.require("url")?.trim_end_matches('/');
        let body = json!({ "title": msg.title, "body": msg.body });
        let reply = match &msg.previous {
            Some(id) => Request::put(format!("{url}/messages/{id}")).json(&body),
            None => Request::post(format!("{url}/messages")).json(&body),
        }
        .send()?
        .error_for_status()?;
        let id = match &msg.previous {
            Some(id) => id.clone(),
            None => reply.json()?["id"]
                .as_str()
                .ok_or_else(|| SendError::Rejected("the reply has no id".into()))?
                .to_string(),
        };
        Ok(Receipt::id(id))
    }
}

export_channel!(Editor);
