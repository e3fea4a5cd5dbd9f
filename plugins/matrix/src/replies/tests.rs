use super::*;
use mcp_push_sdk::testing::{Harness, Reply as Answer};

const ROOM: &str = "!room:example.org";
const BOT: &str = "@bot:example.org";

fn replying() -> Harness {
    Harness::replying::<Matrix>()
        .setting("homeserver", "https://matrix.example.org")
        .setting("access_token", "syt_tok")
        .setting("room_id", ROOM)
}

fn question(choices: &[&str]) -> Question {
    Question {
        ask_id: "12".into(),
        title: "Question".into(),
        text: "Deploy?\n\nAnswer yes / no: http://127.0.0.1:8080/v1/asks/12/answer".into(),
        choices: choices.iter().map(|c| c.to_string()).collect(),
        link: Some("http://127.0.0.1:8080/v1/asks/12/answer".into()),
    }
}

fn whoami() -> Answer {
    Answer::json(200, json!({"user_id": BOT, "device_id": "ABC"}))
}

/// A sync answer (spec: `next_batch`, `rooms.join.{roomId}.timeline`).
fn sync(next: &str, rooms: &[(&str, Vec<Value>)]) -> Answer {
    let mut join = json!({});
    for (room, events) in rooms {
        join[*room] = json!({"timeline": {"events": events, "limited": false, "prev_batch": "p1"}});
    }
    Answer::json(200, json!({"next_batch": next, "rooms": {"join": join}}))
}

/// `m.room.message` from `sender`, replying to `to` when given, with the
/// reply fallback as clients write it.
fn message(id: &str, sender: &str, body: &str, to: Option<&str>) -> Value {
    let mut content = json!({"msgtype": "m.text", "body": body});
    if let Some(to) = to {
        content["body"] = json!(format!("> <{BOT}> Question\n> Deploy?\n\n{body}"));
        content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": to}});
    }
    json!({"type": "m.room.message", "event_id": id, "sender": sender,
           "origin_server_ts": 1_700_000_000_000u64, "content": content})
}

/// The question goes as `m.text` naming the question in its content, the
/// choices numbered in its text; which question the event asks is kept.
#[test]
fn a_question_names_itself_and_lists_its_choices() {
    let h = replying().reply(Answer::json(200, json!({"event_id": "$q1"})));
    let asked = h.ask(&question(&["yes", "no"])).unwrap();
    assert_eq!(asked.remote_id.as_deref(), Some("$q1"));
    let req = &h.requests()[0];
    assert_eq!(req.method, "PUT");
    assert!(
        req.url.starts_with(
            "https://matrix.example.org/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/mcp-push-"
        ),
        "{}",
        req.url
    );
    let body = req.json();
    assert_eq!(body["msgtype"], "m.text");
    assert_eq!(body["org.mcp-push.ask"], "12");
    assert_eq!(
        body["body"],
        "Question\n\nDeploy?\n\nAnswer yes / no: http://127.0.0.1:8080/v1/asks/12/answer\n\n\
         Or reply to this message with a choice or its number:\n1. yes\n2. no"
    );
    assert_eq!(h.kept("asked:$q1").map(|k| k.0).as_deref(), Some("12"));
    let free = h.reply(Answer::json(200, json!({"event_id": "$q2"})));
    free.ask(&question(&[])).unwrap();
    assert!(
        free.requests()[1].json()["body"]
            .as_str()
            .unwrap()
            .ends_with("\n\nOr reply to this message with your answer."),
    );
}

/// A first poll: whoami, then `/sync` at once with the room's messages only
/// and no `since`. A reply (its quote stripped) to the question this
/// channel asked answers it as its sender; the bot's own reply, a message
/// that replies to nothing, and a reply to an unknown event (history: not
/// looked up) do not; a reply in another room is passed over and said so.
#[test]
fn a_first_poll_takes_replies_to_its_own_questions_in_the_room_only() {
    let h = replying()
        .reply(Answer::json(200, json!({"event_id": "$q1"})))
        .reply(whoami())
        .reply(sync(
            "s72",
            &[
                (
                    ROOM,
                    vec![
                        message("$old", "@ada:example.org", "1", Some("$ancient")),
                        message("$e1", BOT, "yes", Some("$q1")),
                        message("$e2", "@ada:example.org", "hello", None),
                        message("$e3", "@ada:example.org", " 2 ", Some("$q1")),
                    ],
                ),
                (
                    "!other:example.org",
                    vec![message("$e4", "@mallory:example.org", "1", Some("$q1"))],
                ),
            ],
        ));
    h.ask(&question(&["yes", "no"])).unwrap();
    let polled = h.poll_replies(None).unwrap();
    assert_eq!(
        polled.replies,
        vec![Reply {
            ask_id: "12".into(),
            answer: "2".into(),
            choice: None,
            from: "@ada:example.org".into(),
        }]
    );
    assert_eq!(polled.cursor.as_deref(), Some("s72"));
    assert_eq!(polled.ignored.len(), 1, "{:?}", polled.ignored);
    assert!(
        polled.ignored[0].contains("@mallory:example.org in room !other:example.org"),
        "{:?}",
        polled.ignored
    );

    let reqs = h.requests();
    assert_eq!(reqs.len(), 3, "ask, whoami, sync and no lookup: {reqs:?}");
    assert_eq!(
        reqs[1].url,
        "https://matrix.example.org/_matrix/client/v3/account/whoami"
    );
    let get = &reqs[2];
    assert_eq!(get.method, "GET");
    assert!(
        get.url
            .starts_with("https://matrix.example.org/_matrix/client/v3/sync?")
    );
    assert_eq!(get.query("timeout").as_deref(), Some("0"));
    assert_eq!(get.query("since"), None);
    let filter: Value = mcp_push_sdk::serde_json::from_str(&get.query("filter").unwrap()).unwrap();
    assert_eq!(filter["room"]["rooms"], json!([ROOM]));
    assert_eq!(
        filter["room"]["timeline"]["types"],
        json!(["m.room.message"])
    );
    assert_eq!(filter["room"]["state"]["types"], json!([]));
    assert_eq!(
        h.on_the_wire()[2].header("authorization"),
        Some("Bearer syt_tok")
    );
}

/// With a cursor, a reply to an event this process did not send is looked
/// up: the bot's question event names its question; anyone else's message
/// is no question. whoami is asked once.
#[test]
fn a_later_poll_looks_up_the_question_a_reply_answers() {
    let h = replying()
        .reply(whoami())
        .reply(sync(
            "s80",
            &[(
                ROOM,
                vec![
                    message("$e5", "@ada:example.org", "after lunch", Some("$q7")),
                    message("$e6", "@ada:example.org", "sure", Some("$chat")),
                ],
            )],
        ))
        .reply(Answer::json(
            200,
            json!({"type": "m.room.message", "event_id": "$q7", "room_id": ROOM, "sender": BOT,
                   "content": {"msgtype": "m.text", "body": "Question", "org.mcp-push.ask": "7"}}),
        ))
        .reply(Answer::json(
            200,
            json!({"type": "m.room.message", "event_id": "$chat", "room_id": ROOM,
                   "sender": "@ada:example.org", "content": {"msgtype": "m.text", "body": "hi"}}),
        ))
        .reply(sync("s81", &[]));
    let polled = h.poll_replies(Some("s72")).unwrap();
    assert_eq!(
        polled.replies,
        vec![Reply {
            ask_id: "7".into(),
            answer: "after lunch".into(),
            choice: None,
            from: "@ada:example.org".into(),
        }]
    );
    assert_eq!(polled.cursor.as_deref(), Some("s80"));
    let reqs = h.requests();
    assert_eq!(reqs[1].query("since").as_deref(), Some("s72"));
    assert_eq!(
        reqs[2].url,
        "https://matrix.example.org/_matrix/client/v3/rooms/%21room%3Aexample.org/event/%24q7"
    );
    assert_eq!(h.kept("asked:$q7").map(|k| k.0).as_deref(), Some("7"));
    // The next poll asks whoami no more.
    h.poll_replies(Some("s80")).unwrap();
    let reqs = h.requests();
    assert_eq!(reqs.len(), 5, "{reqs:?}");
    assert!(reqs[4].url.contains("/sync?"), "{}", reqs[4].url);
}
