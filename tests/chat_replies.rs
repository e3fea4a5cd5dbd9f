//! Questions answered in the chat app itself, end to end: `serve` on
//! 127.0.0.1 with a Telegram channel pointed at a mock of the Bot API
//! (`tests/mocks/telegram_bot.rs`, built from the Bot API's documentation),
//! an MCP client (rmcp over streamable HTTP) calling `ask_user`, and the
//! person pressing a button under the question. The question goes with one
//! button per choice (and its reply link in the text), the poller reads the
//! press through `getUpdates` and confirms it, and the tool returns that
//! choice, answered on the Telegram channel by the user who pressed it. A
//! button pressed in a chat that is not the channel's is no answer, and is
//! logged. A shell script's `mcp-push ask` polls too: a free-text answer
//! typed in reply to the question decides it.
//!
//! ntfy (`tests/mocks/ntfy.rs`, which parses the `Actions` header as ntfy's
//! docs define it): the question goes with an `http` action per choice, and
//! the test taps one as the ntfy app would, posting the choice to the reply
//! link; a forged one is refused. Matrix (`tests/mocks/matrix_homeserver.rs`,
//! from the client-server spec): a reply to the question in the room is the
//! answer, as its sender; the bot's own reply, a message that replies to
//! nothing and a reply in the room's history to an earlier run's question
//! of the same id are not.
//!
//! Slack with a bot token (`tests/mocks/slack_web_api.rs`, from the Web
//! API's method pages): the question goes by `chat.postMessage` with a link
//! button, and a reply in its thread (`conversations.replies`) is the
//! answer; the bot's own reply, a message outside the thread and an earlier
//! run's answer in another thread are not. Slack with a webhook reads
//! nothing: its question is answered through the reply link, and nothing
//! is polled. Discord's bot (`tests/mocks/discord_bot.rs`, from Discord's
//! developer docs): the question waits out a 429, goes with a link button,
//! and a reply to it is the answer; a reply whose text the bot may not read
//! (the Message Content intent) is logged with why.

mod support;

mod mocks {
    pub mod discord_bot;
    pub mod matrix_homeserver;
    pub mod ntfy;
    pub mod slack;
    pub mod slack_web_api;
    pub mod telegram_bot;
}

use mocks::telegram_bot::Bot;
use serde_json::{Value, json};
use std::process::Stdio;

use std::time::{Duration, Instant};
use support::mcp_client::{Server, start_server_with};
use support::services::{MATRIX_TOKEN, TG_TOKEN};
use support::{Mock, Sandbox};

/// `serve` on a free loopback port, logging at info, its log kept.
fn serve(home: &Sandbox) -> Server {
    start_server_with(home, &["--listen", "127.0.0.1:0", "-v"])
}

/// Wait (up to 30 s) until `f` gives something.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A home whose one channel is a Telegram bot writing to chat 42, at `mock`.
fn telegram_home(mock: &Mock) -> Sandbox {
    Sandbox::new()
        .env("TG_BOT_TOKEN", TG_TOKEN)
        .env("TG_USER_ID", "42")
        .env("TG_API_HOST", mock.url(""))
}

/// An HTTP request as a phone makes it: `(status, body)`.
fn request(method: &str, url: &str, headers: &[(String, String)], body: &str) -> (u16, String) {
    let rt = support::mcp_client::rt();
    rt.block_on(async {
        let mut req = reqwest::Client::new().request(method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let r = req.body(body.to_string()).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn get(addr: std::net::SocketAddr, path: &str) -> Value {
    let rt = support::mcp_client::rt();
    rt.block_on(async {
        reqwest::get(format!("http://{addr}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

#[test]
fn a_person_answers_with_a_telegram_button_and_a_stranger_cannot() {
    let bot = Bot::default();
    let mock = bot.mock();
    let home = telegram_home(&mock);
    let server = serve(&home);
    let addr = server.addr;
    // The agent's call, running while the person answers.
    let call = std::thread::spawn(move || {
        let rt = support::mcp_client::rt();
        rt.block_on(async move {
            let client = support::mcp_client::http_client(addr, None).await;
            let r = support::mcp_client::call(
                &client,
                "ask_user",
                json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
                       "timeout_secs": 120}),
            )
            .await;
            let _ = client.cancel().await;
            r
        })
    });

    // The question, with a button per choice and the reply link in its text.
    let question = eventually("the question at the Bot API", || {
        bot.sent()
            .into_iter()
            .find(|m| m.get("reply_markup").is_some())
    });
    assert_eq!(
        question["reply_markup"]["inline_keyboard"],
        json!([
            [{"text": "yes", "callback_data": "mcp-push:1:0"}],
            [{"text": "no", "callback_data": "mcp-push:1:1"}],
        ]),
        "{question}"
    );
    let text = question["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Question\n\nDeploy v2 to production?\n\nAnswer yes / no: http://127.0.0.1:"
        ),
        "{text}"
    );
    let message_id = question["message_id"].as_i64().unwrap();

    // The poller reads updates as the Bot API documents it.
    let first = eventually("a getUpdates call", || {
        mock.requests_to(&format!("/bot{TG_TOKEN}/getUpdates"))
            .into_iter()
            .next()
    });
    let asked = first.json();
    assert_eq!(asked["timeout"], 0);
    assert_eq!(
        asked["allowed_updates"],
        json!(["callback_query", "message"])
    );

    // A stranger presses "yes" under the question in another chat: no answer.
    let mallory = json!({"id": 999, "is_bot": false, "first_name": "Mallory"});
    let stranger = bot.press(message_id, 999, mallory, "mcp-push:1:0");
    // Read and confirmed by the next poll's offset, or (were it taken) the
    // question decided and the polls over.
    let status = eventually("the stranger's press read", || {
        let status = get(addr, "/v1/asks/1");
        (bot.pending() == 0 || status["status"] != "open").then_some(status)
    });
    assert_eq!(status["status"], "open", "a stranger decided: {status}");
    let confirmed = |id: &str| {
        mock.requests_to(&format!("/bot{TG_TOKEN}/answerCallbackQuery"))
            .iter()
            .any(|r| r.json()["callback_query_id"] == id)
    };
    assert!(!confirmed(&stranger), "the stranger's press was taken");

    // Ada presses "no" in the channel's chat: that is the answer.
    let ada = json!({"id": 42, "is_bot": false, "first_name": "Ada", "username": "ada"});
    let pressed = bot.press(message_id, 42, ada, "mcp-push:1:1");
    let result = call.join().unwrap();
    let s = result.structured_content.clone().unwrap();
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "no");
    assert_eq!(s["answered_by"], "Ada (@ada)");
    assert_eq!(s["channel"], "telegram");
    assert!(confirmed(&pressed), "the press was not confirmed");

    // The chat hears it was decided.
    let decided = eventually("the decision in the chat", || {
        bot.sent().into_iter().find(|m| {
            m["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Answered")
        })
    });
    assert!(
        decided["text"]
            .as_str()
            .unwrap()
            .contains("\"no\" — by Ada (@ada) on telegram"),
        "{decided}"
    );
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("not an answer") && log.contains("chat 999"),
        "the stranger was not logged: {log}"
    );
    assert!(!log.contains(TG_TOKEN), "the bot token in serve's log");
}

#[test]
fn a_script_asks_and_a_reply_typed_in_the_chat_answers() {
    let bot = Bot::default();
    let mock = bot.mock();
    let home = telegram_home(&mock);
    let mut child = home
        .command(&["ask", "When can we deploy?", "--timeout", "60s", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let question = eventually("the question at the Bot API", || {
        bot.sent().into_iter().next()
    });
    assert_eq!(
        bot.markups()[0],
        json!({"force_reply": true, "input_field_placeholder": "Your answer"})
    );
    let message_id = question["message_id"].as_i64().unwrap();
    // Someone else's reply, in another chat, is no answer.
    let mallory = json!({"id": 999, "is_bot": false, "first_name": "Mallory"});
    bot.reply_to(message_id, 999, mallory, "right now");
    eventually("the stranger's reply read", || {
        (bot.pending() == 0 || child.try_wait().unwrap().is_some()).then_some(())
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "a stranger's reply decided the question"
    );
    let ada = json!({"id": 42, "is_bot": false, "first_name": "Ada", "username": "ada"});
    bot.reply_to(message_id, 42, ada, "after lunch");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answer"], "after lunch", "{v}");
    assert_eq!(v["answered_by"], "Ada (@ada)");
    assert_eq!(v["channel"], "telegram");
    // This process told the chat it was decided before it ended.
    assert!(
        bot.sent().iter().any(|m| m["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Answered")),
        "{:?}",
        bot.sent()
    );
    assert!(
        stderr.contains("chat 999"),
        "the stranger was not logged: {stderr}"
    );
}

/// The host finds the optional export itself: of the bundled plugins, the
/// ones that export `replies` (Discord's bot, Matrix, ntfy, Slack, Telegram) can be answered in
/// the chat, and every other (built without it) cannot, and still loads.
#[test]
fn only_a_plugin_that_exports_replies_can_be_answered_in_the_chat() {
    let mock = Mock::start();
    let home = telegram_home(&mock);
    let run = home.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let catalog: Value = serde_json::from_str(&run.stdout).unwrap();
    let plugins = catalog["plugins"].as_array().unwrap();
    assert!(plugins.len() > 20, "{}", plugins.len());
    let mut replying: Vec<&str> = plugins
        .iter()
        .filter(|p| p["can_reply"] == true)
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    replying.sort_unstable();
    assert_eq!(
        replying,
        ["discord-bot", "matrix", "ntfy", "slack", "telegram"]
    );
    assert!(plugins.iter().all(|p| p["can_reply"].is_boolean()));
    assert_eq!(catalog["channels"][0]["can_reply"], true, "{catalog}");
}

/// The ntfy app taps an `http` action: the request the action describes
/// (docs.ntfy.sh/publish, "Send HTTP request": `method`, `url`, `headers`,
/// `body`), nothing more.
fn tap(action: &Value) -> (u16, String) {
    let headers: Vec<(String, String)> = action["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    request(
        action["method"].as_str().unwrap_or("POST"),
        action["url"].as_str().unwrap(),
        &headers,
        action["body"].as_str().unwrap_or_default(),
    )
}

/// A question asked over REST goes to ntfy with an `http` action per
/// choice that posts the answer to the reply link; tapping one (as the app
/// does) answers the question on the ntfy channel, and the same action
/// with a forged token is refused and decides nothing.
#[test]
fn a_person_answers_with_an_ntfy_action_button_and_a_forged_one_fails() {
    let mock = Mock::service(mocks::ntfy::api());
    let home = Sandbox::new()
        .env("NTFY_TOPIC", "ops")
        .env("NTFY_URL", mock.url(""))
        .env("NTFY_TOKEN", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2");
    let server = serve(&home);
    let base = format!("http://{}", server.addr);
    let asked = request(
        "POST",
        &format!("{base}/v1/asks"),
        &[("content-type".into(), "application/json".into())],
        &json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
                "timeout_secs": 120})
        .to_string(),
    );
    assert_eq!(asked.0, 201, "{asked:?}");
    let id = serde_json::from_str::<Value>(&asked.1).unwrap()["ask_id"].clone();

    // The question at ntfy, its actions as the server parsed them.
    let published = eventually("the question at ntfy", || {
        mock.requests_to("/ops")
            .into_iter()
            .find(|r| r.header("actions").is_some())
    });
    assert_eq!(published.header("title"), Some("Question"));
    assert!(
        published
            .text()
            .starts_with("Deploy v2 to production?\n\nAnswer yes / no: http://127.0.0.1:"),
        "{}",
        published.text()
    );
    let actions = mocks::ntfy::actions(published.header("actions").unwrap()).unwrap();
    assert_eq!(actions.len(), 2, "{actions:?}");
    let link = actions[0]["url"].as_str().unwrap().to_string();
    let shape = regex::Regex::new(&format!(
        r"^{base}/v1/asks/{id}/answer\?channel=ntfy&token=[A-Za-z0-9_-]+$"
    ))
    .unwrap();
    assert!(shape.is_match(&link), "{link}");
    for (action, choice) in actions.iter().zip(["yes", "no"]) {
        assert_eq!(action["action"], "http");
        assert_eq!(action["label"], choice);
        assert_eq!(action["url"], link.as_str());
        assert_eq!(action["method"], "POST");
        assert_eq!(
            action["headers"],
            json!({"Content-Type": "application/x-www-form-urlencoded"})
        );
        assert_eq!(action["body"], format!("answer={choice}"));
        assert_eq!(action["clear"], true);
    }
    assert_eq!(published.header("click"), Some(link.as_str()));

    // A forged button: the same action, another token. Refused; still open.
    let token = link.split("token=").nth(1).unwrap();
    let mut forged = actions[1].clone();
    forged["url"] = json!(link.replace(token, &"A".repeat(43)));
    assert_eq!(tap(&forged).0, 403);
    let status = get(server.addr, &format!("/v1/asks/{id}"));
    assert_eq!(
        status["status"], "open",
        "a forged action decided: {status}"
    );

    // The person taps "no" on the phone.
    let (code, page) = tap(&actions[1]);
    assert_eq!(code, 200, "{page}");
    let s = get(server.addr, &format!("/v1/asks/{id}"));
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "no");
    assert_eq!(s["channel"], "ntfy");
    assert_eq!(s["answered_by"], "reply link");

    // The topic hears it was decided; the token never reaches the log.
    let decided = eventually("the decision at ntfy", || {
        mock.requests_to("/ops")
            .into_iter()
            .find(|r| r.header("title").is_some_and(|t| t.starts_with("Answered")))
    });
    assert!(
        decided.text().contains("\"no\" — by reply link on ntfy"),
        "{}",
        decided.text()
    );
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("was refused"),
        "the forgery was not logged: {log}"
    );
    assert!(!log.contains(token), "the reply token in serve's log");
}

/// The agent's `ask_user` call over MCP, on a thread of its own.
fn ask_over_mcp(
    addr: std::net::SocketAddr,
    args: Value,
) -> std::thread::JoinHandle<rmcp::model::CallToolResult> {
    std::thread::spawn(move || {
        let rt = support::mcp_client::rt();
        rt.block_on(async move {
            let client = support::mcp_client::http_client(addr, None).await;
            let r = support::mcp_client::call(&client, "ask_user", args).await;
            let _ = client.cancel().await;
            r
        })
    })
}

/// A question in a Matrix room is answered by a reply to it: the bot's own
/// reply and a message that replies to nothing are not answers, nor is a
/// reply in the room's history to an earlier run's question of the same
/// id; a reply from Ada with a choice's number is, as Ada.
#[test]
fn a_person_answers_with_a_matrix_reply_and_nothing_else_does() {
    use mocks::matrix_homeserver::{BOT, Homeserver};
    const ROOM: &str = "!room:example.org";
    let hs = Homeserver::default();
    let mock = hs.mock();
    // History: an earlier run's question 1, answered "yes" by Ada.
    let old = hs.post(
        ROOM,
        BOT,
        json!({"msgtype": "m.text", "body": "Question\n\nRestart?", "org.mcp-push.ask": "1"}),
    );
    hs.reply_to(ROOM, &old, "@ada:example.org", "yes");
    let home = Sandbox::new()
        .env("MATRIX_HOMESERVER", mock.url(""))
        .env("MATRIX_ACCESS_TOKEN", MATRIX_TOKEN)
        .env("MATRIX_ROOM_ID", ROOM);
    let server = serve(&home);
    let call = ask_over_mcp(
        server.addr,
        json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
               "timeout_secs": 120}),
    );

    // The question names itself and lists the choices by number.
    let question = eventually("the question in the room", || {
        hs.sent()
            .into_iter()
            .find(|e| e["content"]["org.mcp-push.ask"] == "1" && e["event_id"] != old.as_str())
    });
    let body = question["content"]["body"].as_str().unwrap();
    assert!(
        body.starts_with(
            "Question\n\nDeploy v2 to production?\n\nAnswer yes / no: http://127.0.0.1:"
        ),
        "{body}"
    );
    assert!(
        body.ends_with("Or reply to this message with a choice or its number:\n1. yes\n2. no"),
        "{body}"
    );
    let asked = question["event_id"].as_str().unwrap().to_string();

    // The bot itself replies, and Ada writes without replying: no answer.
    hs.reply_to(ROOM, &asked, BOT, "yes");
    hs.post(
        ROOM,
        "@ada:example.org",
        json!({"msgtype": "m.text", "body": "no"}),
    );
    let played = hs.len();
    // A sync from past them means the one that returned them was handled
    // (or, were one taken, the question decided and the polls over).
    let status = eventually("the room read past them", || {
        let read = hs.syncs().iter().any(|since| {
            since
                .as_deref()
                .and_then(|s| s.strip_prefix('s')?.parse::<usize>().ok())
                .is_some_and(|n| n >= played)
        });
        let status = get(server.addr, "/v1/asks/1");
        (read || status["status"] != "open").then_some(status)
    });
    assert_eq!(status["status"], "open", "decided by no answer: {status}");
    let first = hs.syncs()[0].clone();
    assert_eq!(first, None, "the first sync starts from the room's latest");

    // Ada replies with the second choice's number.
    hs.reply_to(ROOM, &asked, "@ada:example.org", "2");
    let result = call.join().unwrap();
    let s = result.structured_content.clone().unwrap();
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "no");
    assert_eq!(s["answered_by"], "@ada:example.org");
    assert_eq!(s["channel"], "matrix");

    // The room hears it was decided.
    eventually("the decision in the room", || {
        hs.sent().into_iter().find(|e| {
            e["content"]["body"]
                .as_str()
                .unwrap_or_default()
                .contains("\"no\" — by @ada:example.org on matrix")
        })
    });
    let log = server.log.lock().unwrap().clone();
    assert!(
        !log.contains(MATRIX_TOKEN),
        "the access token in serve's log"
    );
}

/// `POST /v1/asks` as a script on the same machine calls it: the ask id.
fn ask_over_rest(addr: std::net::SocketAddr, args: Value) -> Value {
    let asked = request(
        "POST",
        &format!("http://{addr}/v1/asks"),
        &[("content-type".into(), "application/json".into())],
        &args.to_string(),
    );
    assert_eq!(asked.0, 201, "{asked:?}");
    serde_json::from_str::<Value>(&asked.1).unwrap()["ask_id"].clone()
}

/// A question in a Slack channel with a bot token is answered by a reply
/// in its thread, as its sender; the bot's own reply, a message outside
/// the thread and replies in an earlier run's question's thread (history,
/// and one written now) are not answers, and that thread is never read.
#[test]
fn a_person_answers_in_a_slack_thread_and_nothing_else_does() {
    use mocks::slack_web_api::{BOT_USER, OPS, SLACK_BOT_TOKEN, Workspace};
    let ws = Workspace::default();
    let mock = ws.mock();
    // History: an earlier run's question 1, answered "yes" in its thread.
    let old = ws.say(OPS.0, BOT_USER, "*Question*\nRestart?", None);
    ws.say(OPS.0, "U0ADA", "yes", Some(&old));
    let home = Sandbox::new()
        .env("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
        .env("SLACK_CHANNEL", "#ops")
        .env("SLACK_API_URL", mock.url("/api"));
    let server = serve(&home);
    let call = ask_over_mcp(
        server.addr,
        json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
               "timeout_secs": 120}),
    );

    // chat.postMessage with the bot token, the choices numbered, a link button.
    let question = eventually("the question in the channel", || {
        ws.posted().into_iter().find(|m| m["ts"] != old.as_str())
    });
    let posted = mock.requests_to("/api/chat.postMessage");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].method, "POST");
    assert_eq!(
        posted[0].header("authorization"),
        Some(format!("Bearer {SLACK_BOT_TOKEN}").as_str())
    );
    let body = posted[0].json();
    assert_eq!(body["channel"], "#ops");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "*Question*\nDeploy v2 to production?\n\nAnswer yes / no: http://127.0.0.1:"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "\n\nOr reply in this message's thread with a choice or its number:\n1. yes\n2. no"
        ),
        "{text}"
    );
    assert_eq!(body["blocks"][0]["text"]["text"], text);
    let button = &body["blocks"][1]["elements"][0];
    assert_eq!(button["type"], "button");
    assert_eq!(
        button["text"],
        json!({"type": "plain_text", "text": "Answer"})
    );
    let link = regex::Regex::new(&format!(
        r"^http://{}/v1/asks/1/answer\?channel=slack&token=[A-Za-z0-9_-]+$",
        server.addr
    ))
    .unwrap();
    assert!(link.is_match(button["url"].as_str().unwrap()), "{button}");
    let ts = question["ts"].as_str().unwrap().to_string();

    // The bot replies in the thread, Ada writes outside it and in the old
    // question's thread: no answer.
    ws.say(OPS.0, "U0ADA", "no", None);
    ws.say(OPS.0, "U0ADA", "no", Some(&old));
    let own = ws.say(OPS.0, BOT_USER, "yes", Some(&ts));
    let status = eventually("the thread read past them", || {
        let read = ws
            .reads()
            .iter()
            .any(|(t, oldest)| *t == ts && *oldest >= own);
        let status = get(server.addr, "/v1/asks/1");
        (read || status["status"] != "open").then_some(status)
    });
    assert_eq!(status["status"], "open", "decided by no answer: {status}");
    let reads = ws.reads();
    assert!(reads.iter().all(|(t, _)| *t == ts), "{reads:?}");
    assert_eq!(
        reads[0],
        (ts.clone(), ts.clone()),
        "the first read starts at the question"
    );

    // Ada replies in the thread with the second choice's number.
    ws.say(OPS.0, "U0ADA", "2", Some(&ts));
    let result = call.join().unwrap();
    let s = result.structured_content.clone().unwrap();
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "no");
    assert_eq!(s["answered_by"], "U0ADA");
    assert_eq!(s["channel"], "slack");

    // The channel hears it was decided.
    eventually("the decision in the channel", || {
        ws.posted().into_iter().find(|m| {
            m["text"]
                .as_str()
                .unwrap_or_default()
                .contains("\"no\" — by U0ADA on slack")
        })
    });
    let log = server.log.lock().unwrap().clone();
    assert!(
        !log.contains(SLACK_BOT_TOKEN),
        "the bot token in serve's log"
    );
}

/// A Slack channel with a webhook reads nothing: its question goes as a
/// send would send it, with the reply link in the text, the link answers
/// it, and no poll ever makes a request.
#[test]
fn a_slack_webhook_question_is_answered_by_its_link_and_nothing_is_polled() {
    let mock = Mock::service(mocks::slack::api());
    let home = Sandbox::new().env("SLACK_WEBHOOK_URL", mock.url("/services/T000/B000/XXXX"));
    let server = serve(&home);
    let id = ask_over_rest(
        server.addr,
        json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
               "timeout_secs": 120}),
    );
    let posted = eventually("the question at the webhook", || {
        mock.requests().into_iter().next()
    });
    let text = posted.json()["text"].as_str().unwrap().to_string();
    let link = text
        .strip_prefix("*Question*\nDeploy v2 to production?\n\nAnswer yes / no: ")
        .unwrap_or_else(|| panic!("{text}"))
        .replace("&amp;", "&");
    assert!(
        link.starts_with(&format!(
            "http://{}/v1/asks/{id}/answer?channel=slack&token=",
            server.addr
        )),
        "{link}"
    );
    // Two poll rounds and more: not one request.
    std::thread::sleep(super_poll_wait());
    assert_eq!(mock.requests().len(), 1, "{:?}", mock.paths());

    let (code, page) = request(
        "POST",
        &link,
        &[(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        "answer=no",
    );
    assert_eq!(code, 200, "{page}");
    let s = get(server.addr, &format!("/v1/asks/{id}"));
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "no");
    assert_eq!(s["answered_by"], "reply link");
    assert_eq!(s["channel"], "slack");
    eventually("the decision at the webhook", || {
        mock.requests().into_iter().find(|r| {
            r.json()["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("*Answered")
        })
    });
    assert!(
        mock.paths().iter().all(|p| p == "/services/T000/B000/XXXX"),
        "{:?}",
        mock.paths()
    );
}

/// Longer than two of the poller's rounds (every 2 seconds).
fn super_poll_wait() -> Duration {
    Duration::from_millis(4500)
}

/// A question to a Discord bot waits out a 429 as Discord says, goes with
/// a link button, and a reply to it is the answer, as its author. The
/// bot's own reply, a message that replies to nothing, a reply to another
/// message and an earlier run's answer in the history are not; a reply the
/// bot may not read (no Message Content intent, no mention) is logged with
/// why.
#[test]
fn a_person_answers_a_discord_bot_by_replying_and_nothing_else_does() {
    use mocks::discord_bot::{CHANNEL, DISCORD_BOT_TOKEN, Guild, bot_user, user};
    let g = Guild::default();
    let mock = g.mock();
    // History: an earlier run's question 1, answered "yes" by Ada.
    let old = g.say(
        CHANNEL,
        bot_user(),
        "**Question**\nRestart?\n\nAnswer yes / no: http://127.0.0.1:9/v1/asks/1/answer?channel=discord-bot&token=x",
        None,
        false,
    );
    let ada = user("501", "ada", Some("Ada"));
    let eve = user("503", "eve", None);
    g.say(CHANNEL, ada.clone(), "yes", Some(&old), true);
    let chatter = g.say(CHANNEL, eve.clone(), "lunch?", None, false);
    g.limit_next(1.5);
    let home = Sandbox::new()
        .env("DISCORD_BOT_TOKEN", DISCORD_BOT_TOKEN)
        .env("DISCORD_CHANNEL_ID", CHANNEL)
        .env("DISCORD_API_URL", mock.url("/api/v10"));
    let server = serve(&home);
    let call = ask_over_mcp(
        server.addr,
        json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
               "timeout_secs": 120}),
    );

    // Refused once (429, retry_after 1.5 s), sent when Discord said.
    let question = eventually("the question in the channel", || {
        g.posted().into_iter().find(|m| m["id"] != old.as_str())
    });
    let creates = g.creates();
    assert_eq!(creates.len(), 2, "{creates:?}");
    assert_eq!((creates[0].0, creates[1].0), (429, 200));
    assert!(
        creates[1].1 - creates[0].1 >= Duration::from_millis(1500),
        "sent again after {:?}",
        creates[1].1 - creates[0].1
    );
    let sent = mock
        .requests_to(&format!("/api/v10/channels/{CHANNEL}/messages"))
        .into_iter()
        .rfind(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bot {DISCORD_BOT_TOKEN}").as_str())
    );
    let body = sent.json();
    let content = body["content"].as_str().unwrap();
    assert!(
        content.starts_with(
            "**Question**\nDeploy v2 to production?\n\nAnswer yes / no: http://127.0.0.1:"
        ),
        "{content}"
    );
    assert!(
        content.ends_with("Or reply to this message with a choice or its number:\n1. yes\n2. no"),
        "{content}"
    );
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let button = &body["components"][0]["components"][0];
    assert_eq!(
        (button["type"].clone(), button["style"].clone()),
        (json!(2), json!(5))
    );
    assert_eq!(button["label"], "Answer");
    let link = regex::Regex::new(&format!(
        r"^http://{}/v1/asks/1/answer\?channel=discord-bot&token=[A-Za-z0-9_-]+$",
        server.addr
    ))
    .unwrap();
    assert!(link.is_match(button["url"].as_str().unwrap()), "{button}");
    let q = question["id"].as_str().unwrap().to_string();

    // The bot replies to itself, Eve writes without replying and replies to
    // a message that asks nothing, Ada replies with the mention off: her
    // text is hidden from the bot.
    g.say(CHANNEL, bot_user(), "yes", Some(&q), false);
    g.say(CHANNEL, eve.clone(), "no", None, false);
    g.say(CHANNEL, eve, "no", Some(&chatter), true);
    let hidden = g.say(CHANNEL, ada.clone(), "yes", Some(&q), false);
    let status = eventually("the channel read past them", || {
        let read = g.reads().iter().any(|after| {
            after
                .as_deref()
                .is_some_and(|a| a.parse::<u64>().unwrap() >= hidden.parse::<u64>().unwrap())
        });
        let status = get(server.addr, "/v1/asks/1");
        (read || status["status"] != "open").then_some(status)
    });
    assert_eq!(status["status"], "open", "decided by no answer: {status}");
    assert_eq!(g.reads()[0], None, "the first read starts from the latest");

    // Ada replies again, the mention on: readable, the answer.
    g.say(CHANNEL, ada, "2", Some(&q), true);
    let result = call.join().unwrap();
    let s = result.structured_content.clone().unwrap();
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "no");
    assert_eq!(s["answered_by"], "Ada (@ada)");
    assert_eq!(s["channel"], "discord-bot");

    eventually("the decision in the channel", || {
        g.posted().into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or_default()
                .contains("\"no\" — by Ada (@ada) on discord-bot")
        })
    });
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("Message Content intent"),
        "the hidden reply was not logged: {log}"
    );
    assert!(
        !log.contains(DISCORD_BOT_TOKEN),
        "the bot token in serve's log"
    );
}
