//! The smaller services of the classic notify.py set, each against a mock of
//! its API on 127.0.0.1, configured with notify.py's environment names.
//!
//! Sends use `--wait 0`: one attempt each, so a rate limit or an outage shows
//! as `retrying` at once instead of being waited out.

mod support;

/// The service APIs these tests run against, each built from its docs.
mod mocks {
    pub mod aibotk;
    pub mod chronocat;
    pub mod gocqhttp;
    pub mod igot;
    pub mod openilink;
    pub mod pushdeer;
    pub mod pushme;
    pub mod qmsg;
    pub mod synology_chat;
    pub mod weplus;
    pub mod wxpusher;
}

use support::{Mock, Sandbox, failure_of, send_ok};

/// Send with `env` (a channel's variables) and return the one request made.
fn deliver(mock: &Mock, env: &[(&str, String)], secrets: &[&str]) -> support::Recorded {
    let mut home = Sandbox::new();
    for (k, v) in env {
        home = home.env(k, v.clone());
    }
    send_ok(&home, &["send", "标题 Title", "正文 body"], secrets);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    reqs.into_iter().next().unwrap()
}

/// Send with `env` and return the failure line of channel `name`.
fn refuse(env: &[(&str, String)], name: &str) -> String {
    let mut home = Sandbox::new();
    for (k, v) in env {
        home = home.env(k, v.clone());
    }
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    failure_of(&run, name)
}

#[test]
fn pushdeer() {
    let mock = Mock::service(mocks::pushdeer::api());
    let url = mock.url("/message/push");
    let req = deliver(
        &mock,
        &[
            ("DEER_KEY", "PDU1TdeerKey".into()),
            ("DEER_URL", url.clone()),
        ],
        &["PDU1TdeerKey"],
    );
    assert_eq!(req.form("text").as_deref(), Some("标题 Title"));
    assert_eq!(req.form("desp").as_deref(), Some("正文 body"));
    assert_eq!(req.form("type").as_deref(), Some("markdown"));
    let why = refuse(
        &[("DEER_KEY", "wrong".into()), ("DEER_URL", url)],
        "pushdeer",
    );
    assert!(
        why.contains("rejected: HTTP 200: key不存在或没有权限"),
        "{why}"
    );
}

#[test]
fn qmsg() {
    let mock = Mock::service(mocks::qmsg::api());
    let req = deliver(
        &mock,
        &[
            ("QMSG_KEY", "qmsgKey123".into()),
            ("QMSG_TYPE", "group".into()),
            ("QMSG_API_URL", mock.url("")),
        ],
        &["qmsgKey123"],
    );
    assert_eq!(req.path(), "/group/qmsgKey123");
    assert_eq!(req.query("msg").as_deref(), Some("标题 Title\n\n正文 body"));
    let why = refuse(
        &[
            ("QMSG_KEY", "nope".into()),
            ("QMSG_TYPE", "send".into()),
            ("QMSG_API_URL", mock.url("")),
        ],
        "qmsg",
    );
    assert!(why.contains("rejected: code 500: 无效的KEY"), "{why}");
    let why = refuse(
        &[("QMSG_KEY", "k".into()), ("QMSG_TYPE", "channel".into())],
        "qmsg",
    );
    assert!(
        why.contains("setting `type` must be one of send, group"),
        "{why}"
    );
}

#[test]
fn gocqhttp() {
    let mock = Mock::service(mocks::gocqhttp::api());
    let url = mock.url("/send_private_msg");
    let req = deliver(
        &mock,
        &[
            ("GOBOT_URL", url.clone()),
            ("GOBOT_QQ", "user_id=10001".into()),
            ("GOBOT_TOKEN", "cq-token-123".into()),
        ],
        &["cq-token-123"],
    );
    assert_eq!(req.method, "GET");
    assert_eq!(req.query("user_id").as_deref(), Some("10001"));
    assert_eq!(
        req.query("message").as_deref(),
        Some("标题 Title\n\n正文 body")
    );
    let why = refuse(
        &[
            ("GOBOT_URL", url.clone()),
            ("GOBOT_QQ", "user_id=1".into()),
            ("GOBOT_TOKEN", "bad".into()),
        ],
        "gocqhttp",
    );
    assert!(
        why.contains("rejected: status failed: token验证失败"),
        "{why}"
    );
    let why = refuse(
        &[("GOBOT_URL", url), ("GOBOT_QQ", "10001".into())],
        "gocqhttp",
    );
    assert!(why.contains("GOBOT_QQ"), "{why}");
}

#[test]
fn igot() {
    let mock = Mock::service(mocks::igot::api());
    let req = deliver(
        &mock,
        &[
            ("IGOT_PUSH_KEY", "igotKey01".into()),
            ("IGOT_API_URL", mock.url("")),
        ],
        &["igotKey01"],
    );
    assert_eq!(req.form("title").as_deref(), Some("标题 Title"));
    assert_eq!(req.form("content").as_deref(), Some("正文 body"));
    let why = refuse(
        &[
            ("IGOT_PUSH_KEY", "other".into()),
            ("IGOT_API_URL", mock.url("")),
        ],
        "igot",
    );
    assert!(why.contains("rejected: ret 201: key无效"), "{why}");
}

#[test]
fn pushme() {
    let mock = Mock::service(mocks::pushme::api());
    let req = deliver(
        &mock,
        &[
            ("PUSHME_KEY", "pushmeKey01".into()),
            ("PUSHME_URL", mock.url("")),
        ],
        &["pushmeKey01"],
    );
    assert_eq!(req.form("title").as_deref(), Some("标题 Title"));
    assert_eq!(req.form("type").as_deref(), Some("text"));
    let why = refuse(
        &[("PUSHME_KEY", "nope".into()), ("PUSHME_URL", mock.url(""))],
        "pushme",
    );
    assert!(why.contains("rejected: push_key error"), "{why}");
}

#[test]
fn synology_chat() {
    let mock = Mock::service(mocks::synology_chat::api());
    let url = mock.url("/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=");
    let req = deliver(
        &mock,
        &[
            ("CHAT_URL", url.clone()),
            ("CHAT_TOKEN", "synoToken99".into()),
        ],
        &["synoToken99"],
    );
    let payload: serde_json::Value = serde_json::from_str(&req.form("payload").unwrap()).unwrap();
    assert_eq!(payload["text"], "标题 Title\n\n正文 body");
    let why = refuse(
        &[("CHAT_URL", url), ("CHAT_TOKEN", "wrong".into())],
        "synology-chat",
    );
    assert!(
        why.contains("rejected: success false: invalid token"),
        "{why}"
    );
}

#[test]
fn wxpusher_and_spt() {
    let mock = Mock::service(mocks::wxpusher::api());
    let req = deliver(
        &mock,
        &[
            ("WXPUSHER_APP_TOKEN", "AT_wxpusherToken".into()),
            ("WXPUSHER_UIDS", "UID_1;UID_2".into()),
            ("WXPUSHER_TOPIC_IDS", "123".into()),
            ("WXPUSHER_API_URL", mock.url("")),
        ],
        &["AT_wxpusherToken"],
    );
    let b = req.json();
    assert_eq!(b["uids"], serde_json::json!(["UID_1", "UID_2"]));
    assert_eq!(b["topicIds"], serde_json::json!([123]));
    assert_eq!(b["contentType"], 2);
    assert_eq!(b["content"], "<h4>标题 Title</h4>正文 body");

    let mock = Mock::service(mocks::wxpusher::api());
    let req = deliver(
        &mock,
        &[
            ("WXPUSHER_SPT_LIST", "SPT_one,SPT_two".into()),
            ("WXPUSHER_API_URL", mock.url("")),
        ],
        &["SPT_one", "SPT_two"],
    );
    assert_eq!(req.path(), "/api/send/message/simple-push");
    assert_eq!(
        req.json()["sptList"],
        serde_json::json!(["SPT_one", "SPT_two"])
    );
    let why = refuse(
        &[
            ("WXPUSHER_SPT_LIST", "SPT_bad".into()),
            ("WXPUSHER_API_URL", mock.url("")),
        ],
        "wxpusher-spt",
    );
    assert!(why.contains("rejected: code 1001: spt不正确"), "{why}");
    let why = refuse(&[("WXPUSHER_APP_TOKEN", "AT_x".into())], "wxpusher");
    assert!(why.contains("WXPUSHER_TOPIC_IDS"), "{why}");
}

#[test]
fn weplus() {
    let mock = Mock::service(mocks::weplus::api());
    let req = deliver(
        &mock,
        &[
            ("WE_PLUS_BOT_TOKEN", "weplusToken".into()),
            ("WE_PLUS_BOT_RECEIVER", "me".into()),
            ("WE_PLUS_BOT_API_URL", mock.url("")),
        ],
        &["weplusToken"],
    );
    let b = req.json();
    assert_eq!(b["template"], "txt");
    assert_eq!(b["receiver"], "me");
    assert_eq!(b["version"], "pro");
    let why = refuse(
        &[
            ("WE_PLUS_BOT_TOKEN", "x".into()),
            ("WE_PLUS_BOT_API_URL", mock.url("")),
        ],
        "weplus",
    );
    assert!(why.contains("rejected: code 500: token错误"), "{why}");
}

#[test]
fn aibotk() {
    let mock = Mock::service(mocks::aibotk::api());
    let req = deliver(
        &mock,
        &[
            ("AIBOTK_KEY", "aibotkKey".into()),
            ("AIBOTK_TYPE", "room".into()),
            ("AIBOTK_NAME", "运维群".into()),
            ("AIBOTK_API_URL", mock.url("")),
        ],
        &["aibotkKey"],
    );
    let b = req.json();
    assert_eq!(b["roomName"], "运维群");
    assert_eq!(b["message"]["type"], 1);
    let why = refuse(
        &[
            ("AIBOTK_KEY", "bad".into()),
            ("AIBOTK_TYPE", "contact".into()),
            ("AIBOTK_NAME", "x".into()),
            ("AIBOTK_API_URL", mock.url("")),
        ],
        "aibotk",
    );
    assert!(why.contains("rejected: code 500: apiKey无效"), "{why}");
}

#[test]
fn chronocat_sends_once_per_target() {
    let mock = Mock::service(mocks::chronocat::api());
    let home = Sandbox::new()
        .env("CHRONOCAT_URL", mock.url(""))
        .env("CHRONOCAT_QQ", "user_id=10001;group_id=20002")
        .env("CHRONOCAT_TOKEN", "chronoToken");
    send_ok(&home, &["send", "T", "B"], &["chronoToken"]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].json()["peer"],
        serde_json::json!({"chatType": 1, "peerUin": "10001"})
    );
    assert_eq!(
        reqs[1].json()["peer"],
        serde_json::json!({"chatType": 2, "peerUin": "20002"})
    );
    assert_eq!(
        reqs[0].json()["elements"][0]["textElement"]["content"],
        "T\n\nB"
    );
    let why = refuse(
        &[
            ("CHRONOCAT_URL", mock.url("")),
            ("CHRONOCAT_QQ", "user_id=1".into()),
            ("CHRONOCAT_TOKEN", "wrong".into()),
        ],
        "chronocat",
    );
    assert!(why.contains("rejected: HTTP 401"), "{why}");
}

#[test]
fn openilink() {
    let mock = Mock::service(mocks::openilink::api());
    let req = deliver(
        &mock,
        &[
            ("OPENILINK_APP_TOKEN", "oiAppToken".into()),
            ("OPENILINK_HUB_URL", mock.url("")),
            ("OPENILINK_CONTEXT_TOKEN", "ctx-1".into()),
        ],
        &["oiAppToken"],
    );
    assert_eq!(
        req.json(),
        serde_json::json!({"type": "text", "content": "标题 Title\n\n正文 body", "context_token": "ctx-1"})
    );
    let why = refuse(
        &[
            ("OPENILINK_APP_TOKEN", "x".into()),
            ("OPENILINK_HUB_URL", mock.url("")),
        ],
        "openilink",
    );
    assert!(
        why.contains("rejected: ok false: invalid app token"),
        "{why}"
    );
}

#[test]
fn console_prints_the_message() {
    let home = Sandbox::new().env("CONSOLE", "true");
    let run = send_ok(&home, &["send", "Job done", "all 12 steps passed"], &[]);
    assert!(
        run.stderr.contains("Job done\n\nall 12 steps passed\n"),
        "{run:?}"
    );
    assert!(run.stdout.starts_with("console  ok"), "{run:?}");
    // As in notify.py, `false` is off: no console channel at all.
    let off = Sandbox::new().env("CONSOLE", "false");
    let run = off.run(&["send", "Job done", "quiet"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no channel is configured"), "{run:?}");
    assert!(!run.stderr.contains("quiet"), "{run:?}");
    let bad = Sandbox::new().env("CONSOLE", "maybe");
    let run = bad.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "console").contains("setting `enabled` must be true or false"),
        "{run:?}"
    );
}
