//! A channel built against `mcp-push:channel@0.1.1` (`wit/` here is the
//! workspace's contract with the version bumped, and nothing else changed),
//! without the SDK: the host must load it as a 0.1.x component. Test-only.

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "plugin" });

    use exports::mcp_push::channel::channel::Guest;
    use mcp_push::channel::http;
    use mcp_push::channel::types::{ChannelInfo, Message, Receipt, SendError, Setting};

    struct Minor;

    impl Guest for Minor {
        fn info() -> ChannelInfo {
            ChannelInfo {
                id: "minor".into(),
                name: "Built for 0.1.1 (tests only)".into(),
                version: "0.0.1".into(),
                description: "Posts JSON to `url`".into(),
                settings: vec![Setting {
                    key: "url".into(),
                    env: vec!["MINOR_URL".into()],
                    help: "Where to post".into(),
                    required: true,
                    secret: false,
                    default: None,
                }],
                allowed_hosts: vec!["setting:url".into()],
                schemes: Vec::new(),
                can_edit: false,
            }
        }

        fn parse_url(url: String) -> Result<Vec<(String, String)>, String> {
            Err(format!("no one-line URL form ({url})"))
        }

        fn send(settings: Vec<(String, String)>, msg: Message) -> Result<Receipt, SendError> {
            let url = settings
                .into_iter()
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v)
                .ok_or_else(|| SendError::Config("url is missing".into()))?;
            let body = serde_json::json!({ "title": msg.title, "body": msg.body, "wit": "0.1.1" });
            let reply = http::fetch(&http::Request {
                method: "POST".into(),
                url,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string().into_bytes(),
                basic_auth: None,
                header_lines: None,
            })
            .map_err(|e| SendError::Unavailable(format!("{e:?}")))?;
            if !(200..300).contains(&reply.status) {
                return Err(SendError::Rejected(format!("HTTP {}", reply.status)));
            }
            Ok(Receipt {
                remote_id: Some("minor-ok".into()),
            })
        }
    }

    export!(Minor);
}
