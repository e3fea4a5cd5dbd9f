//! Microsoft Teams through a Workflows (Power Automate) webhook that posts an
//! Adaptive Card (`TEAMS_WEBHOOK_URL`).
//!
//! Sources: no Microsoft reference page was checked here. The workflow's
//! HTTP trigger takes a `message` whose `attachments` hold an Adaptive Card
//! (1.4), and answers 202 or 200; the ~28 KB message cap is this file's
//! assumption. Not in qinglong's notify.py: `TEAMS_WEBHOOK_URL` is mcp-push's
//! own name.

use mcp_push_sdk::prelude::*;

struct Teams;

/// A Teams message holds about 28 KB; leave room for the card around the text.
const LIMIT: Limit = Limit::Bytes(24000);

impl Channel for Teams {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "teams",
            "Microsoft Teams",
            env!("CARGO_PKG_VERSION"),
            "Posts an Adaptive Card to a Teams channel through a Workflows webhook",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("webhook_url", "The workflow's HTTP trigger URL")
                .env(&["TEAMS_WEBHOOK_URL"])
                .required()
                .secret(),
        )
        .allow_host("setting:webhook_url.origin")
    }

    /// The URL is a secret (its path holds the token); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("webhook_url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let mut body = Vec::new();
        if !msg.title.trim().is_empty() {
            body.push(json!({ "type": "TextBlock", "text": msg.title.trim(),
                "weight": "Bolder", "size": "Medium", "wrap": true }));
        }
        // TextBlocks render a subset of Markdown, which plain text survives.
        body.push(json!({ "type": "TextBlock",
            "text": truncate(&msg.body, LIMIT, CUT_MARKER), "wrap": true }));
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body,
        });
        if let Some(link) = &msg.link {
            card["actions"] = json!([{ "type": "Action.OpenUrl", "title": "Open", "url": link }]);
        }
        let payload = json!({ "type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }]});
        // The workflow answers 202 Accepted (or 200); errors come as JSON
        // `{"error": {"code", "message"}}` with a 4xx or 5xx status.
        Request::post(settings.require("webhook_url")?)
            .json(&payload)
            .send()?
            .error_for_status()?;
        Ok(Receipt::none())
    }
}

export_channel!(Teams);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Teams>();
    }

    const HOOK: &str = "https://prod-12.westus.logic.azure.com/workflows/wf1/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGsecret42";

    #[test]
    fn posts_an_adaptive_card_without_the_signature_in_clear() {
        let h = Harness::new::<Teams>()
            .setting("webhook_url", HOOK)
            .reply(Reply::text(202, ""));
        let mut msg = message("Deploy", "v2 is live");
        msg.link = Some("https://ci.example/run/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert!(!req.url.contains("SIGsecret42"), "{}", req.url);
        assert_eq!(h.on_the_wire()[0].url, HOOK);
        assert!(h.denied().is_empty(), "{:?}", h.denied());
        let body = req.json();
        assert_eq!(body["type"], "message");
        let card = &body["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"][0]["text"], "Deploy");
        assert_eq!(card["content"]["body"][1]["text"], "v2 is live");
        assert_eq!(
            card["content"]["actions"][0]["url"],
            "https://ci.example/run/7"
        );
    }

    #[test]
    fn errors_map_by_status() {
        let h = Harness::new::<Teams>()
            .setting("webhook_url", HOOK)
            .reply(Reply::json(
                400,
                json!({"error": {"code": "InvalidRequestContent", "message": "bad card"}}),
            ))
            .reply(Reply::text(503, "busy"));
        let msg = message("t", "b");
        assert!(matches!(h.send(&msg), Err(SendError::Rejected(_))));
        assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
    }

    /// A workflow that is gone: rejected, with the workflow's own reason
    /// (moved from tests/channels_intl.rs).
    #[test]
    fn a_missing_workflow_is_rejected_with_its_reason() {
        let h = Harness::new::<Teams>()
            .setting("webhook_url", HOOK)
            .reply(Reply::json(
                404,
                json!({"error": {"code": "WorkflowNotFound", "message": "The workflow 'abc' could not be found."}}),
            ));
        match h.send(&message("T", "B")) {
            Err(SendError::Rejected(why)) => {
                assert!(
                    why.starts_with("HTTP 404") && why.contains("WorkflowNotFound"),
                    "{why}"
                );
                assert!(!why.contains("SIGsecret42"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
