use super::*;
use mcp_push_sdk::testing::{Harness, Reply as Answer};

const CHANNEL: &str = "1100000000000000009";
const ME: &str = "1100000000000000001";
const LINK: &str = "http://127.0.0.1:8080/v1/asks/12/answer?channel=discord-bot&token=t";

fn bot() -> Harness {
    Harness::replying::<DiscordBot>()
        .setting("bot_token", "tok.en.value")
        .setting("channel_id", CHANNEL)
}

fn question(choices: &[&str]) -> Question {
    Question {
        ask_id: "12".into(),
        title: "Question".into(),
        text: format!("Deploy?\n\nAnswer yes / no: {LINK}"),
        choices: choices.iter().map(|c| c.to_string()).collect(),
        link: Some(LINK.into()),
    }
}

fn me() -> Answer {
    Answer::json(200, json!({"id": ME, "username": "mcp-push", "bot": true}))
}

fn user(id: &str, name: &str) -> Value {
    json!({"id": id, "username": name, "global_name": null})
}

/// A message in the channel; replying to `to` when given.
fn msg(id: &str, author: Value, content: &str, to: Option<&str>) -> Value {
    let mut m = json!({"id": id, "channel_id": CHANNEL, "type": 0, "author": author,
                       "content": content});
    if let Some(to) = to {
        m["type"] = json!(19);
        m["message_reference"] =
            json!({"type": 0, "message_id": to, "channel_id": CHANNEL, "guild_id": "7"});
    }
    m
}

/// The question lists its choices, with a link button to the reply page;
/// which question the message asks is kept.
#[test]
fn a_question_goes_with_a_link_button() {
    let h = bot().reply(Answer::json(200, json!({"id": "1100000000000000100"})));
    let asked = h.ask(&question(&["yes", "no"])).unwrap();
    assert_eq!(asked.remote_id.as_deref(), Some("1100000000000000100"));
    let body = h.requests()[0].json();
    assert_eq!(
        body["content"],
        format!(
            "**Question**\nDeploy?\n\nAnswer yes / no: {LINK}\n\n\
             Or reply to this message with a choice or its number:\n1. yes\n2. no"
        )
    );
    assert_eq!(
        body["components"],
        json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Answer", "url": LINK}]}])
    );
    assert_eq!(
        h.kept("asked").map(|k| k.0).as_deref(),
        Some("1100000000000000100 12")
    );
}

/// A reply to the question answers, as its author; the bot's own reply,
/// another bot's, a message that replies to nothing and a reply to another
/// message do not; an empty one (no Message Content intent) is said why.
#[test]
fn a_reply_answers_and_nothing_else_does() {
    let q = "1100000000000000100";
    let mut ada = user("501", "ada");
    ada["global_name"] = json!("Ada");
    let mut other_bot = user("502", "ci");
    other_bot["bot"] = json!(true);
    let page = json!([
        msg("1100000000000000107", ada.clone(), " 2 ", Some(q)),
        msg("1100000000000000106", user("503", "eve"), "", Some(q)),
        msg(
            "1100000000000000105",
            user("503", "eve"),
            "yes",
            Some("1100000000000000050")
        ),
        msg("1100000000000000104", user("503", "eve"), "yes", None),
        msg("1100000000000000103", other_bot, "yes", Some(q)),
        msg("1100000000000000102", user(ME, "mcp-push"), "yes", Some(q)),
    ]);
    let h = bot()
        .reply(Answer::json(200, json!({"id": q})))
        .reply(me())
        .reply(Answer::json(200, page))
        .reply(Answer::json(200, json!([])));
    h.ask(&question(&["yes", "no"])).unwrap();
    let polled = h.poll_replies(Some("1100000000000000100")).unwrap();
    assert_eq!(
        polled.replies,
        vec![Reply {
            ask_id: "12".into(),
            answer: "2".into(),
            choice: None,
            from: "Ada (@ada)".into()
        }]
    );
    assert_eq!(polled.ignored.len(), 1, "{:?}", polled.ignored);
    assert!(
        polled.ignored[0].contains("Message Content intent"),
        "{:?}",
        polled.ignored
    );
    assert_eq!(polled.cursor.as_deref(), Some("1100000000000000107"));
    let wire = h.on_the_wire();
    assert_eq!(wire[1].url, "https://discord.com/api/v10/users/@me");
    assert_eq!(wire[1].header("authorization"), Some("Bot tok.en.value"));
    assert_eq!(
        wire[2].url,
        format!(
            "https://discord.com/api/v10/channels/{CHANNEL}/messages?limit=100&after=1100000000000000100"
        )
    );
    // Nothing new: the host keeps its cursor; /users/@me is kept.
    let again = h.poll_replies(Some("1100000000000000107")).unwrap();
    assert_eq!(again, Polled::nothing());
    assert_eq!(h.requests().len(), 4);
}

/// A first poll reads the channel's latest messages: history. It takes a
/// reply to a question this process asked, and not one to an older
/// question of the bot's, even one naming question 12; a later poll does
/// take a reply to a question of the bot's it did not ask itself.
#[test]
fn a_first_poll_takes_only_replies_to_its_own_questions() {
    let mut old = msg(
        "1100000000000000010",
        user(ME, "mcp-push"),
        "Question 12",
        None,
    );
    old["components"] = json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Answer", "url": LINK}]}]);
    let mut old_answer = msg(
        "1100000000000000011",
        user("501", "ada"),
        "yes",
        Some("1100000000000000010"),
    );
    old_answer["referenced_message"] = old.clone();
    let h = bot()
        .reply(me())
        .reply(Answer::json(200, json!([old_answer.clone(), old.clone()])))
        .reply(Answer::json(200, json!([old_answer])));
    let first = h.poll_replies(None).unwrap();
    assert!(first.replies.is_empty(), "{:?}", first.replies);
    assert_eq!(first.cursor.as_deref(), Some("1100000000000000011"));
    assert_eq!(h.requests()[1].query("after"), None);
    let later = h.poll_replies(Some("1100000000000000009")).unwrap();
    assert_eq!(later.replies.len(), 1);
    assert_eq!(later.replies[0].ask_id, "12");
    assert_eq!(later.replies[0].from, "@ada");
}

#[test]
fn the_reply_link_names_the_question() {
    assert_eq!(ask_id_in(LINK).as_deref(), Some("12"));
    assert_eq!(ask_id_in("see /v1/asks/7/answer").as_deref(), Some("7"));
    assert_eq!(
        ask_id_in("/v1/asks/x/answer /v1/asks/3/answer").as_deref(),
        Some("3")
    );
    assert_eq!(ask_id_in("/v1/asks/3"), None);
}
