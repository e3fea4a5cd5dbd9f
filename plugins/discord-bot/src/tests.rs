use super::*;
use mcp_push_sdk::testing::{Harness, Reply, message};

const TOKEN: &str = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";

fn harness() -> Harness {
    Harness::new::<DiscordBot>()
        .setting("bot_token", TOKEN)
        .setting("channel_id", "1100000000000000009")
}

#[test]
fn info_holds_its_invariants() {
    mcp_push_sdk::testing::assert_info::<DiscordBot>();
}

#[test]
fn parses_discordbot_urls() {
    let s = DiscordBot::parse_url(&format!("discordbot://{TOKEN}/1100000000000000009")).unwrap();
    assert_eq!(s[0], ("bot_token".to_string(), TOKEN.to_string()));
    assert_eq!(
        s[1],
        ("channel_id".to_string(), "1100000000000000009".to_string())
    );
    assert!(DiscordBot::parse_url(&format!("discordbot://{TOKEN}")).is_err());
    let problems = mcp_push_sdk::testing::check_url::<DiscordBot>("discordbot://T.O.K/1");
    assert!(problems.is_empty(), "{problems:?}");
}

/// Create Message as the docs have it: `Authorization: Bot TOKEN` on the
/// wire only, the title in bold and the content cut at 2000 characters,
/// no mention pinging anyone; the message's id is the receipt.
#[test]
fn a_post_goes_to_the_channels_messages_with_the_bot_token() {
    let h = harness().reply(Reply::json(
        200,
        json!({"id": "1100000000000000100", "channel_id": "1100000000000000009", "content": "…"}),
    ));
    let receipt = h.send(&message("Build", &"x".repeat(2500))).unwrap();
    assert_eq!(receipt.remote_id.as_deref(), Some("1100000000000000100"));
    let wire = &h.on_the_wire()[0];
    assert_eq!(wire.method, "POST");
    assert_eq!(
        wire.url,
        "https://discord.com/api/v10/channels/1100000000000000009/messages"
    );
    assert_eq!(
        wire.header("authorization"),
        Some(format!("Bot {TOKEN}").as_str())
    );
    assert!(
        !h.requests()[0]
            .header("authorization")
            .unwrap()
            .contains(TOKEN)
    );
    let body = h.requests()[0].json();
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let content = body["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 2000);
    assert!(content.starts_with("**Build**\nxxx") && content.ends_with('…'));
}

/// An edit is a PATCH of the run's message; one deleted since is posted anew.
#[test]
fn an_edit_patches_the_message_or_posts_anew() {
    let h = harness()
        .reply(Reply::json(
            200,
            json!({"id": "m1", "content": "**Run**\nend"}),
        ))
        .reply(Reply::json(
            404,
            json!({"message": "Unknown Message", "code": 10008}),
        ))
        .reply(Reply::json(200, json!({"id": "m2"})));
    let mut update = message("Run", "end");
    update.previous = Some("m1".into());
    assert_eq!(h.send(&update).unwrap().remote_id.as_deref(), Some("m1"));
    let wire = h.on_the_wire();
    assert_eq!(wire[0].method, "PATCH");
    assert_eq!(
        wire[0].url,
        "https://discord.com/api/v10/channels/1100000000000000009/messages/m1"
    );
    assert_eq!(h.send(&update).unwrap().remote_id.as_deref(), Some("m2"));
    assert_eq!(h.on_the_wire()[2].method, "POST");
}

/// Discord's error JSON and its rate limit, mapped to what to do next.
#[test]
fn refusals_and_rate_limits_map_to_kinds() {
    let h = harness()
        .reply(Reply::json(401, json!({"message": "401: Unauthorized", "code": 0})))
        .reply(Reply::json(403, json!({"message": "Missing Access", "code": 50001})))
        .reply(Reply::json(403, json!({"message": "Missing Permissions", "code": 50013})))
        .reply(Reply::json(404, json!({"message": "Unknown Channel", "code": 10003})))
        .reply(
            Reply::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
            )
            .header("retry-after", "2")
            .header("x-ratelimit-remaining", "0"),
        )
        .reply(Reply::json(502, json!({"message": "Bad Gateway", "code": 0})));
    let msg = message("T", "B");
    assert_eq!(
        h.send(&msg).unwrap_err(),
        SendError::Config("Discord refused the bot token (HTTP 401: 401: Unauthorized)".into())
    );
    assert_eq!(
        h.send(&msg).unwrap_err(),
        SendError::Rejected("HTTP 403: Missing Access".into())
    );
    assert_eq!(
        h.send(&msg).unwrap_err(),
        SendError::Rejected("HTTP 403: Missing Permissions".into())
    );
    assert_eq!(
        h.send(&msg).unwrap_err(),
        SendError::Rejected("HTTP 404: Unknown Channel".into())
    );
    assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(Some(2)));
    assert!(matches!(h.send(&msg), Err(SendError::Unavailable(_))));
}

#[test]
fn a_channel_id_is_a_number() {
    let h = Harness::new::<DiscordBot>()
        .setting("bot_token", TOKEN)
        .setting("channel_id", "#general");
    assert!(matches!(
        h.send(&message("t", "b")),
        Err(SendError::Config(_))
    ));
    assert!(h.requests().is_empty());
}
