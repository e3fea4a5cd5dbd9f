//! The smaller services of the classic notify.py set end to end: one smoke
//! test per channel, the real binary configured with notify.py's environment
//! names, sending real HTTP to a mock of the service's API on 127.0.0.1 that
//! checks what its docs say.
//!
//! What each channel puts in its request and how it reads the documented
//! refusals is tested beside the channel, with the SDK's harness
//! (`plugins/<name>/src/lib.rs`, `request_and_refusal_as_documented`).

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

/// Send with `env` (a channel's variables, secrets among them) and return
/// the one request made, which the mock accepted.
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

#[test]
fn pushdeer() {
    let mock = Mock::service(mocks::pushdeer::api());
    let env = [
        ("DEER_KEY", "PDU1TdeerKey".into()),
        ("DEER_URL", mock.url("/message/push")),
    ];
    deliver(&mock, &env, &["PDU1TdeerKey"]);
}

#[test]
fn qmsg() {
    let mock = Mock::service(mocks::qmsg::api());
    let env = [
        ("QMSG_KEY", "qmsgKey123".into()),
        ("QMSG_TYPE", "group".into()),
        ("QMSG_API_URL", mock.url("")),
    ];
    let req = deliver(&mock, &env, &["qmsgKey123"]);
    assert_eq!(req.path(), "/group/qmsgKey123");
}

#[test]
fn gocqhttp() {
    let mock = Mock::service(mocks::gocqhttp::api());
    let env = [
        ("GOBOT_URL", mock.url("/send_private_msg")),
        ("GOBOT_QQ", "user_id=10001".into()),
        ("GOBOT_TOKEN", "cq-token-123".into()),
    ];
    let req = deliver(&mock, &env, &["cq-token-123"]);
    assert_eq!(req.query("user_id").as_deref(), Some("10001"));
}

#[test]
fn igot() {
    let mock = Mock::service(mocks::igot::api());
    let env = [
        ("IGOT_PUSH_KEY", "igotKey01".into()),
        ("IGOT_API_URL", mock.url("")),
    ];
    deliver(&mock, &env, &["igotKey01"]);
}

#[test]
fn pushme() {
    let mock = Mock::service(mocks::pushme::api());
    let env = [
        ("PUSHME_KEY", "pushmeKey01".into()),
        ("PUSHME_URL", mock.url("")),
    ];
    deliver(&mock, &env, &["pushmeKey01"]);
    // PushMe's refusal is its plain-text body, shown as it is.
    let run = Sandbox::new()
        .env("PUSHME_KEY", "nope")
        .env("PUSHME_URL", mock.url(""))
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "pushme").contains("rejected: push_key error"),
        "{run:?}"
    );
}

#[test]
fn synology_chat() {
    let mock = Mock::service(mocks::synology_chat::api());
    let url = mock.url("/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=");
    let env = [("CHAT_URL", url), ("CHAT_TOKEN", "synoToken99".into())];
    deliver(&mock, &env, &["synoToken99"]);
}

#[test]
fn wxpusher_and_spt() {
    let mock = Mock::service(mocks::wxpusher::api());
    let env = [
        ("WXPUSHER_APP_TOKEN", "AT_wxpusherToken".into()),
        ("WXPUSHER_UIDS", "UID_1;UID_2".into()),
        ("WXPUSHER_TOPIC_IDS", "123".into()),
        ("WXPUSHER_API_URL", mock.url("")),
    ];
    let b = deliver(&mock, &env, &["AT_wxpusherToken"]).json();
    assert_eq!(b["uids"], serde_json::json!(["UID_1", "UID_2"]));
    assert_eq!(b["topicIds"], serde_json::json!([123]));

    // Each SPT of the list a secret of its own (the channel's shape).
    let mock = Mock::service(mocks::wxpusher::api());
    let env = [
        ("WXPUSHER_SPT_LIST", "SPT_one,SPT_two".into()),
        ("WXPUSHER_API_URL", mock.url("")),
    ];
    let req = deliver(&mock, &env, &["SPT_one", "SPT_two"]);
    assert_eq!(
        req.json()["sptList"],
        serde_json::json!(["SPT_one", "SPT_two"])
    );
}

#[test]
fn weplus() {
    let mock = Mock::service(mocks::weplus::api());
    let env = [
        ("WE_PLUS_BOT_TOKEN", "weplusToken".into()),
        ("WE_PLUS_BOT_RECEIVER", "me".into()),
        ("WE_PLUS_BOT_API_URL", mock.url("")),
    ];
    assert_eq!(
        deliver(&mock, &env, &["weplusToken"]).json()["receiver"],
        "me"
    );
}

#[test]
fn aibotk() {
    let mock = Mock::service(mocks::aibotk::api());
    let env = [
        ("AIBOTK_KEY", "aibotkKey".into()),
        ("AIBOTK_TYPE", "room".into()),
        ("AIBOTK_NAME", "运维群".into()),
        ("AIBOTK_API_URL", mock.url("")),
    ];
    assert_eq!(
        deliver(&mock, &env, &["aibotkKey"]).json()["roomName"],
        "运维群"
    );
}

#[test]
fn chronocat_sends_once_per_target() {
    let mock = Mock::service(mocks::chronocat::api());
    let home = Sandbox::new()
        .env("CHRONOCAT_URL", mock.url(""))
        .env("CHRONOCAT_QQ", "user_id=10001;group_id=20002")
        .env("CHRONOCAT_TOKEN", "chronoToken");
    send_ok(&home, &["send", "T", "B"], &["chronoToken"]);
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn openilink() {
    let mock = Mock::service(mocks::openilink::api());
    let env = [
        ("OPENILINK_APP_TOKEN", "oiAppToken".into()),
        ("OPENILINK_HUB_URL", mock.url("")),
        ("OPENILINK_CONTEXT_TOKEN", "ctx-1".into()),
    ];
    let req = deliver(&mock, &env, &["oiAppToken"]);
    assert_eq!(req.json()["context_token"], "ctx-1");
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
