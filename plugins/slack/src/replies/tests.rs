use super::*;
use mcp_push_sdk::testing::{Harness, Reply as Answer};

const TOKEN: &str = "xoxb-1234-5678-abcdef";
const ME: &str = "U0BOT";

fn bot() -> Harness {
    Harness::replying::<Slack>()
        .setting("bot_token", TOKEN)
        .setting("channel", "#ops")
}

fn question(choices: &[&str]) -> Question {
    Question {
        ask_id: "12".into(),
        title: "Question".into(),
        text: "Deploy <prod>?\n\nAnswer yes / no: http://127.0.0.1:8080/v1/asks/12/answer?channel=slack&token=t".into(),
        choices: choices.iter().map(|c| c.to_string()).collect(),
        link: Some("http://127.0.0.1:8080/v1/asks/12/answer?channel=slack&token=t".into()),
    }
}

fn posted(ts: &str) -> Answer {
    Answer::json(
        200,
        json!({"ok": true, "channel": "C0OPS", "ts": ts, "message": {"text": "…"}}),
    )
}

fn auth_test() -> Answer {
    Answer::json(
        200,
        json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "mcp-push",
               "team_id": "T1", "user_id": ME, "bot_id": "B0BOT"}),
    )
}

/// `conversations.replies`: the parent first, then the replies given.
fn thread(parent: &str, replies: &[Value]) -> Answer {
    let mut messages = vec![json!({"type": "message", "user": ME, "bot_id": "B0BOT",
                                    "text": "Question", "ts": parent, "thread_ts": parent})];
    messages.extend(replies.iter().cloned());
    Answer::json(
        200,
        json!({"ok": true, "messages": messages, "has_more": false}),
    )
}

fn said(user: &str, text: &str, ts: &str) -> Value {
    json!({"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": "1700000000.000100"})
}

/// The question goes by `chat.postMessage` with the bot token, its text
/// escaped, the choices numbered, and a link button to the reply page; its
/// `ts` and the channel's id are kept with the question's id.
#[test]
fn a_question_lists_its_choices_with_a_link_button() {
    let h = bot().reply(posted("1700000000.000100"));
    let asked = h.ask(&question(&["yes", "no"])).unwrap();
    assert_eq!(asked.remote_id.as_deref(), Some("1700000000.000100"));
    let wire = &h.on_the_wire()[0];
    assert_eq!(wire.url, "https://slack.com/api/chat.postMessage");
    assert_eq!(
        wire.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        !h.requests()[0]
            .header("authorization")
            .unwrap()
            .contains(TOKEN)
    );
    let body = h.requests()[0].json();
    assert_eq!(body["channel"], "#ops");
    let text = "*Question*\nDeploy &lt;prod&gt;?\n\nAnswer yes / no: \
                http://127.0.0.1:8080/v1/asks/12/answer?channel=slack&amp;token=t\n\n\
                Or reply in this message's thread with a choice or its number:\n1. yes\n2. no";
    assert_eq!(body["text"], text);
    assert_eq!(
        body["blocks"][0]["text"],
        json!({"type": "mrkdwn", "text": text})
    );
    assert_eq!(
        body["blocks"][1]["elements"][0],
        json!({"type": "button", "action_id": "mcp-push-answer",
               "text": {"type": "plain_text", "text": "Answer"},
               "url": "http://127.0.0.1:8080/v1/asks/12/answer?channel=slack&token=t"})
    );
    assert_eq!(
        h.kept("asked").map(|k| k.0).as_deref(),
        Some("0\n1700000000.000100 C0OPS 12 -")
    );
}

/// A reply in the question's thread is the answer, as its sender; the
/// bot's own message, another app's, and a channel event are not. The
/// thread is read from the question on, then from the newest reply read.
#[test]
fn a_thread_reply_answers_and_the_bots_own_do_not() {
    let h = bot()
        .reply(posted("1700000000.000100"))
        .reply(auth_test())
        .reply(thread(
            "1700000000.000100",
            &[
                said(ME, "yes", "1700000001.000100"),
                json!({"type": "message", "subtype": "bot_message", "bot_id": "B9", "text": "no", "ts": "1700000002.000100"}),
                json!({"type": "message", "subtype": "channel_join", "user": "U0EVE", "text": "joined", "ts": "1700000003.000100"}),
                {
                    let mut m = said("U0ADA", " 2 ", "1700000004.000100");
                    m["user_profile"] = json!({"display_name": "ada", "real_name": "Ada L"});
                    m
                },
            ],
        ))
        .reply(thread("1700000000.000100", &[]));
    h.ask(&question(&["yes", "no"])).unwrap();
    let polled = h.poll_replies(None).unwrap();
    assert_eq!(
        polled.replies,
        vec![Reply {
            ask_id: "12".into(),
            answer: "2".into(),
            choice: None,
            from: "ada (U0ADA)".into()
        }]
    );
    assert_eq!(polled.cursor.as_deref(), Some("1700000004.000100"));
    let reqs = h.requests();
    assert_eq!(reqs[1].url, "https://slack.com/api/auth.test");
    let read = &reqs[2];
    assert!(
        read.url
            .starts_with("https://slack.com/api/conversations.replies?"),
        "{}",
        read.url
    );
    assert_eq!(read.query("channel").as_deref(), Some("C0OPS"));
    assert_eq!(read.query("ts").as_deref(), Some("1700000000.000100"));
    assert_eq!(read.query("oldest").as_deref(), Some("1700000000.000100"));
    assert_eq!(read.query("limit").as_deref(), Some("15"));
    // The next poll starts past what was read; auth.test is kept.
    let again = h.poll_replies(polled.cursor.as_deref()).unwrap();
    assert!(again.replies.is_empty());
    assert_eq!(
        h.requests()[3].query("oldest").as_deref(),
        Some("1700000004.000100")
    );
    assert_eq!(h.requests().len(), 4);
}

/// More questions than a poll reads: the newest every time, the others
/// take turns, none is starved.
#[test]
fn threads_take_turns_when_many_questions_are_kept() {
    let mut h = bot();
    for i in 0..7 {
        h = h.reply(posted(&format!("17000000{i:02}.000100")));
    }
    h = h.reply(auth_test());
    for _ in 0..10 {
        h = h.reply(thread("x", &[]));
    }
    for _ in 0..7 {
        h.ask(&question(&[])).unwrap();
    }
    h.poll_replies(None).unwrap();
    h.poll_replies(None).unwrap();
    let read: Vec<String> = h
        .requests()
        .iter()
        .filter(|r| r.url.contains("conversations.replies"))
        .map(|r| r.query("ts").unwrap())
        .collect();
    assert_eq!(read.len(), 2 * THREADS_PER_POLL);
    // The newest question is read in every poll, first.
    assert_eq!(read[0], "1700000006.000100");
    assert_eq!(read[THREADS_PER_POLL], "1700000006.000100");
    for i in 0..7 {
        let ts = format!("17000000{i:02}.000100");
        assert!(read.contains(&ts), "{ts} never read: {read:?}");
    }
}

/// With a webhook, the question is posted as a send would post it, and a
/// poll asks nothing of anyone.
#[test]
fn a_webhook_asks_plainly_and_polls_nothing() {
    let h = Harness::replying::<Slack>()
        .setting(
            "webhook_url",
            "https://hooks.slack.com/services/T000/B000/XXXX",
        )
        .reply(Answer::text(200, "ok"));
    assert_eq!(h.ask(&question(&["yes", "no"])).unwrap().remote_id, None);
    assert_eq!(
        h.requests()[0].json(),
        json!({"text": "*Question*\nDeploy &lt;prod&gt;?\n\nAnswer yes / no: \
                        http://127.0.0.1:8080/v1/asks/12/answer?channel=slack&amp;token=t"})
    );
    let polled = h.poll_replies(None).unwrap();
    assert_eq!(polled, Polled::nothing());
    assert_eq!(h.requests().len(), 1, "a webhook's poll made a request");
}

/// `ok: false` is no success, even with HTTP 200; the error says what to
/// do next. A 429 waits for `Retry-After`.
#[test]
fn web_api_errors_map_to_kinds() {
    let no = |error: &str| Answer::json(200, json!({"ok": false, "error": error}));
    let h = bot()
        .reply(no("channel_not_found"))
        .reply(no("invalid_auth"))
        .reply(no("internal_error"))
        .reply(
            Answer::json(429, json!({"ok": false, "error": "ratelimited"}))
                .header("retry-after", "30"),
        )
        .reply(Answer::json(200, json!({"ok": true})));
    let q = question(&[]);
    assert_eq!(
        h.ask(&q).unwrap_err(),
        SendError::Rejected("Slack: channel_not_found".into())
    );
    assert_eq!(
        h.ask(&q).unwrap_err(),
        SendError::Config("Slack refused the bot token: invalid_auth".into())
    );
    assert!(matches!(h.ask(&q).unwrap_err(), SendError::Unavailable(_)));
    assert_eq!(h.ask(&q).unwrap_err(), SendError::RateLimited(Some(30)));
    // Without a ts there is nothing to remember, but it was sent.
    assert_eq!(h.ask(&q).unwrap().remote_id, None);
    assert_eq!(h.kept("asked"), None);
}

#[test]
fn the_kept_questions_read_back() {
    let kept = Kept {
        turn: 3,
        asked: vec![
            Thread {
                ts: "1.2".into(),
                channel: "C1".into(),
                ask_id: "7".into(),
                seen: None,
            },
            Thread {
                ts: "1.1".into(),
                channel: "C1".into(),
                ask_id: "6".into(),
                seen: Some("1.5".into()),
            },
        ],
    };
    assert_eq!(Kept::parse(&kept.render()), kept);
    assert_eq!(Kept::parse(""), Kept::default());
    assert!(ts_order("1700000000.000200") > ts_order("1700000000.000100"));
    assert!(ts_order("1700000001.000001") > ts_order("1700000000.999999"));
    assert_eq!(unescape("a &lt;b&gt; &amp;lt;"), "a <b> &lt;");
}
