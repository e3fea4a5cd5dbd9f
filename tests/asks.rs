//! Asking the user, end to end: `serve` on 127.0.0.1, a webhook mock as the
//! user's channel, an MCP client (rmcp, the official Rust SDK, over
//! streamable HTTP) calling `ask_user`, and the person answering through
//! the reply link the channel received, as a browser would (GET the page,
//! POST its form). Strangers' links are refused, a second answer is late,
//! a question nobody answers times out to its default, and a shell script
//! gates a step on `mcp-push ask`. The reply token never reaches the log,
//! the event log, the stream or the API's answers.

mod support;

use rmcp::model::{CallToolRequestParams, ProgressNotificationParam, ProgressToken};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::mcp_client::{Server, start_server_with};
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

/// The reply link in what the webhook received.
fn reply_link(mock: &Mock) -> Option<String> {
    let re = regex::Regex::new(
        r"http://127\.0\.0\.1:\d+/v1/asks/\d+/answer\?channel=[a-z0-9_-]+&token=[A-Za-z0-9_-]+",
    )
    .unwrap();
    mock.requests_to("/hook").iter().find_map(|r| {
        re.find(r.json()["content"].as_str().unwrap_or_default())
            .map(|m| m.as_str().to_string())
    })
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

/// A client that counts the progress notifications it hears.
#[derive(Clone, Default)]
struct Listening {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Listening {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

/// A browser, more or less: plain HTTP requests, answered in full.
struct Web {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Web {
    fn new() -> Web {
        Web {
            rt: support::mcp_client::rt(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn send(&self, req: reqwest::RequestBuilder) -> Got {
        self.rt.block_on(async {
            let r = req.send().await.unwrap();
            let (status, headers) = (r.status().as_u16(), r.headers().clone());
            Got {
                status,
                headers,
                text: r.text().await.unwrap(),
            }
        })
    }

    fn get(&self, url: &str) -> Got {
        self.send(self.http.get(url))
    }

    fn post_json(&self, url: &str, body: &Value) -> Got {
        self.send(
            self.http
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
    }

    fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Got {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            self.http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
    }
}

#[test]
fn an_agent_asks_and_the_person_answers_through_the_link() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let server = serve(&home);
    let base = format!("http://{}", server.addr);
    let rt = support::mcp_client::rt();
    let listening = Listening::default();
    let heard = listening.progress.clone();
    let addr = server.addr;
    // The agent's call, running while the person answers.
    let call = std::thread::spawn(move || {
        rt.block_on(async move {
            let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(format!(
                "http://{addr}/mcp"
            ));
            let client = listening.serve(transport).await.expect("MCP handshake");
            let mut params = CallToolRequestParams::new("ask_user").with_arguments(
                json!({"question": "Deploy v2 to production?", "choices": ["yes", "no"],
                       "timeout_secs": 120})
                .as_object()
                .cloned()
                .unwrap(),
            );
            params.meta = Some(rmcp::model::RequestMetaObject::with_progress_token(
                ProgressToken(rmcp::model::NumberOrString::Number(7)),
            ));
            let r = client.call_tool(params).await.expect("ask_user");
            let _ = client.cancel().await;
            r
        })
    });
    let link = eventually("the question at the webhook", || reply_link(&mock));
    let question = &mock.requests_to("/hook")[0].json();
    assert_eq!(question["title"], "Question");
    assert!(
        question["content"]
            .as_str()
            .unwrap()
            .starts_with("Deploy v2 to production?\n\nAnswer yes / no: http://"),
        "{question}"
    );
    let token = token_of(&link);
    let web = Web::new();

    // Opening the page (as a chat app's link preview does) answers nothing.
    let page = web.get(&link);
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    let html = page.text;
    assert!(html.contains("Deploy v2 to production?"), "{html}");
    assert!(html.contains(r#"<button type="submit" name="answer" value="yes">yes</button>"#));

    // A stranger: a made-up token, another question's, another channel's.
    let forged = link.replace(&token, &"A".repeat(43));
    assert_eq!(web.get(&forged).status, 403);
    let other_channel = link.replace("channel=webhook", "channel=ops");
    assert_eq!(web.get(&other_channel).status, 403);
    let answer_url = format!("{base}/v1/asks/1/answer");
    let post = |answer: &str, channel: &str, token: &str| {
        web.post_form(
            &answer_url,
            &[("answer", answer), ("channel", channel), ("token", token)],
        )
    };
    assert_eq!(post("no", "webhook", &"B".repeat(43)).status, 403);
    let still = web.get(&format!("{base}/v1/asks/1")).json();
    assert_eq!(still["status"], "open", "{still}");

    // Not one of the choices: said, and nothing decided.
    assert_eq!(post("maybe", "webhook", &token).status, 400);
    // The person taps "yes".
    let done = post("yes", "webhook", &token);
    assert_eq!(done.status, 200);
    assert!(done.text.contains("Thank you"));

    let result = call.join().unwrap();
    let s = result.structured_content.clone().unwrap();
    assert_eq!(s["status"], "answered", "{s}");
    assert_eq!(s["answer"], "yes");
    assert_eq!(s["answered_by"], "reply link");
    assert_eq!(s["channel"], "webhook");
    assert!(
        !heard.lock().unwrap().is_empty(),
        "no progress notification while waiting"
    );

    // A second tap is late: recorded, and the answer stays.
    let late = post("no", "webhook", &token);
    assert_eq!(late.status, 409);
    let now = web.get(&format!("{base}/v1/asks/1")).json();
    assert_eq!(now["answer"], "yes", "{now}");

    // The channel hears it was decided; the late answer is not sent.
    let decided = eventually("the decision at the webhook", || {
        mock.requests_to("/hook").into_iter().find(|r| {
            r.json()["title"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Answered")
        })
    });
    assert!(
        decided.json()["content"]
            .as_str()
            .unwrap()
            .contains("\"yes\" — by reply link on webhook")
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        mock.requests_to("/hook").len(),
        2,
        "the late answer was sent"
    );

    // Both answers are events with source `reply`; the token is nowhere.
    let events = web.get(&format!("{base}/v1/events?limit=10")).json();
    let shown = events.to_string();
    let replies = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "reply")
        .count();
    assert_eq!(replies, 2, "{events}");
    assert!(!shown.contains(&token), "the token in the event log");
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("was refused"),
        "the stranger was not logged: {log}"
    );
    assert!(!log.contains(&token), "the token in serve's log");
}

#[test]
fn a_question_nobody_answers_times_out_to_its_default() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let server = serve(&home);
    let base = format!("http://{}", server.addr);
    let web = Web::new();
    let r = web.post_json(
        &format!("{base}/v1/asks?wait=10"),
        &json!({"question": "Retry the flaky step?", "choices": ["yes", "no"],
                "default": "NO", "timeout_secs": 1}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["status"], "timed_out", "{v}");
    assert_eq!(v["answer"], "no");
    assert_eq!(v["defaulted"], true);
    // An answer after the deadline changes nothing.
    let late = web.post_json(
        &format!("{base}/v1/asks/1/answer"),
        &json!({"answer": "yes", "by": "ops"}),
    );
    assert_eq!(late.status, 409, "{}", late.text);
    // Bad questions are refused with what to fix.
    for (body, field) in [
        (json!({"question": " "}), "question"),
        (
            json!({"question": "q", "choices": ["a", "a"]}),
            "choices[1]",
        ),
        (
            json!({"question": "q", "choices": ["a"], "default": "b"}),
            "default",
        ),
        (json!({"question": "q", "timeout_secs": 0}), "timeout_secs"),
        (json!({"question": "q", "channels": ["nope"]}), "channels"),
    ] {
        let r = web.post_json(&format!("{base}/v1/asks"), &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.json()["error"]["field"], field, "{body}: {}", r.text);
    }
    // Cancelled: closed, and a missing one is 404.
    let open = web.post_json(
        &format!("{base}/v1/asks"),
        &json!({"question": "Wait for me?"}),
    );
    assert_eq!(open.status, 201, "{}", open.text);
    let id = open.json()["ask_id"].as_i64().unwrap();
    let c = web.post_json(&format!("{base}/v1/asks/{id}/cancel"), &json!({}));
    assert_eq!(c.json()["status"], "cancelled", "{}", c.text);
    assert_eq!(web.get(&format!("{base}/v1/asks/999")).status, 404);
}

#[test]
fn a_shell_script_gates_a_step_on_the_answer() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let exe = env!("CARGO_BIN_EXE_mcp-push");
    let script = format!(
        r#"if answer=$("{exe}" ask "Deploy v2 to prod?" --choice yes --choice no --timeout 1m); then
  echo "deploying: $answer"
else
  echo "not deploying (exit $?)"
fi"#
    );
    let cmd = home.command(&[]);
    let env: Vec<(String, String)> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.into(), v?.to_str()?.into())))
        .collect();
    let mut bash = std::process::Command::new("bash");
    bash.env_clear().envs(env).arg("-c").arg(&script);
    bash.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = bash.spawn().unwrap();
    eventually("the question at the webhook", || {
        (!mock.requests_to("/hook").is_empty()).then_some(())
    });
    let q = mock.requests_to("/hook")[0].json();
    // No serve on this store: no link, and the message says how to answer.
    assert_eq!(q["content"], "Deploy v2 to prod?\n\nAnswer yes / no", "{q}");
    let answered = home.run(&["answer", "1", "YES", "--by", "alice"]);
    assert_eq!(answered.code, 0, "{answered:?}");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), "deploying: yes", "{out:?}");
    // A second answer is too late.
    let again = home.run(&["answer", "1", "no"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("too late"), "{again:?}");
    // Nobody answers: exit 4, and the default is printed.
    let t = home.run(&[
        "ask",
        "Roll back?",
        "--choice",
        "yes",
        "--choice",
        "no",
        "--default",
        "no",
        "--timeout",
        "1s",
    ]);
    assert_eq!(t.code, 4, "{t:?}");
    assert_eq!(t.stdout.trim(), "no", "{t:?}");
    let bad = home.run(&["ask", "x", "--timeout", "0"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn two_channels_asked_at_once_the_first_answer_wins_and_both_hear_it() {
    let (ops, phone) = (Mock::start(), Mock::start());
    let home = Sandbox::new().config(&format!(
        "[channels.ops]\nplugin = \"webhook\"\nurl = \"{}\"\n\n[channels.phone]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        ops.url("/hook"),
        phone.url("/hook")
    ));
    let server = serve(&home);
    let base = format!("http://{}", server.addr);
    let web = Web::new();
    let asked = web.post_json(
        &format!("{base}/v1/asks"),
        &json!({"question": "Which region?", "choices": ["eu", "us", "ap"]}),
    );
    assert_eq!(asked.status, 201, "{}", asked.text);
    let ops_link = eventually("the question on ops", || reply_link(&ops));
    let phone_link = eventually("the question on phone", || reply_link(&phone));
    assert!(ops_link.contains("channel=ops") && phone_link.contains("channel=phone"));
    assert_ne!(
        token_of(&ops_link),
        token_of(&phone_link),
        "one token per channel"
    );
    // One channel's token does not answer as the other.
    let url = format!("{base}/v1/asks/1/answer");
    let swapped = web.post_form(
        &url,
        &[
            ("answer", "us"),
            ("channel", "ops"),
            ("token", &token_of(&phone_link)),
        ],
    );
    assert_eq!(swapped.status, 403);
    // The phone answers first (by number), ops a moment later.
    let first = web.post_form(
        &url,
        &[
            ("answer", "3"),
            ("channel", "phone"),
            ("token", &token_of(&phone_link)),
        ],
    );
    assert_eq!(first.status, 200, "{}", first.text);
    let second = web.post_form(
        &url,
        &[
            ("answer", "eu"),
            ("channel", "ops"),
            ("token", &token_of(&ops_link)),
        ],
    );
    assert_eq!(second.status, 409);
    assert!(second.text.contains("too late"), "{}", second.text);
    let now = web.get(&format!("{base}/v1/asks/1")).json();
    assert_eq!(
        (now["answer"].as_str(), now["channel"].as_str()),
        (Some("ap"), Some("phone")),
        "{now}"
    );
    for mock in [&ops, &phone] {
        let decided = eventually("the decision on each channel", || {
            mock.requests_to("/hook").into_iter().find(|r| {
                r.json()["title"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Answered")
            })
        });
        assert!(
            decided.json()["content"]
                .as_str()
                .unwrap()
                .contains("\"ap\" — by reply link on phone"),
            "{}",
            decided.text()
        );
    }
}

#[test]
fn a_question_held_by_quiet_hours_past_its_end_is_not_sent() {
    // A quiet window around now (UTC), whatever the time of the run.
    let now = chrono::Utc::now();
    let hhmm = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M").to_string();
    let window = format!(
        "{}-{}",
        hhmm(now - chrono::Duration::hours(1)),
        hhmm(now + chrono::Duration::hours(1))
    );
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.phone]\nplugin = \"webhook\"\nurl = \"{}\"\nquiet_hours = \"{window}\"\n\
         timezone = \"UTC\"\n",
        mock.url("/hook")
    ));
    let server = serve(&home);
    let base = format!("http://{}", server.addr);
    let web = Web::new();
    let r = web.post_json(
        &format!("{base}/v1/asks?wait=10"),
        &json!({"question": "Deploy tonight?", "choices": ["yes", "no"],
                "default": "no", "timeout_secs": 1}),
    );
    assert_eq!(r.json()["status"], "timed_out", "{}", r.text);
    let pending = web.get(&format!("{base}/v1/deliveries?state=pending"));
    let held = &pending.json()["deliveries"][0];
    assert_eq!(held["channel"], "phone", "{}", pending.text);
    let id = held["id"].as_i64().unwrap();
    // Its turn comes (the window ends; here a retry makes it due now): the
    // question is over, so the person is not asked it.
    let retried = web.post_json(&format!("{base}/v1/deliveries/{id}/retry"), &json!({}));
    assert_eq!(retried.status, 200, "{}", retried.text);
    let row = eventually("the held question to be closed", || {
        let list = web.get(&format!("{base}/v1/deliveries"));
        list.json()["deliveries"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["id"] == id).cloned())
            .filter(|d| d["state"] == "skipped")
    });
    let why = row["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("question 1 was already timed out"), "{row}");
    assert!(
        mock.requests_to("/hook").is_empty(),
        "the question went out"
    );
}
