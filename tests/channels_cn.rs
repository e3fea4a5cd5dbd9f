//! The channels of the classic notify.py set end to end: one smoke test per
//! channel, the real binary configured with the environment names users
//! already have, sending real HTTP to a mock of the service's API on
//! 127.0.0.1 that checks what its docs say (paths, signatures, tokens).
//!
//! What a channel puts in a request and how it reads each documented reply
//! is tested beside the channel, with the SDK's harness
//! (`plugins/<name>/src/lib.rs`); here stays what only the binary shows:
//! environment names, config files and one-line URLs, secrets kept out of
//! the output, splitting and retries across a run.
//!
//! Sends use `--wait 0` where a failure is expected: one attempt each.

mod support;

/// The service APIs these tests run against, each built from its docs.
mod mocks {
    pub mod bark;
    pub mod feishu;
    pub mod pushplus;
    pub mod serverchan;
}

use mocks::feishu::{FS_KEY, FS_SECRET};
use mocks::serverchan::{SC_KEY, SC3_KEY};
use support::services::{self, DD_SECRET, DD_TOKEN, QYWX_KEY, WX_CORP_SECRET};
use support::{Mock, Sandbox, failure_of, send_ok};

// --- DingTalk -------------------------------------------------------------

/// The robot API: `/robot/send?access_token&timestamp&sign`, verifying the
/// signature as DingTalk does (and refusing a timestamp over an hour off).
fn dingtalk() -> Mock {
    Mock::service(services::dingtalk())
}

fn dingtalk_home(mock: &Mock, secret: &str) -> Sandbox {
    Sandbox::new()
        .env("DD_BOT_TOKEN", DD_TOKEN)
        .env("DD_BOT_SECRET", secret)
        .env("DD_BOT_API_URL", mock.url(""))
}

/// Delivered means the mock accepted the signature and the clock; a refused
/// one fails the run without the secret in its output.
#[test]
fn dingtalk_delivers_signed() {
    let mock = dingtalk();
    send_ok(
        &dingtalk_home(&mock, DD_SECRET),
        &["send", "-vv", "构建完成", "全部通过"],
        &[DD_TOKEN, DD_SECRET],
    );
    assert_eq!(mock.requests().len(), 1);
    let run = dingtalk_home(&mock, "SECwrong-secret-value").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1);
    assert!(failure_of(&run, "dingtalk").contains("rejected"), "{run:?}");
    assert!(!run.all_output().contains("SECwrong-secret-value"));
}

#[test]
fn dingtalk_one_line_url() {
    let mock = dingtalk();
    let home = Sandbox::new().config(&format!(
        "[channels.dd]\nurl = \"dingtalk://{DD_SECRET}@{DD_TOKEN}\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[DD_SECRET]);
    assert_eq!(mock.requests().len(), 1);
}

// --- Feishu and Lark --------------------------------------------------------

/// The custom bot API: `/open-apis/bot/v2/hook/<key>`, signature in the body
/// (timestamp in seconds), `code` 0 on success.
fn feishu() -> Mock {
    Mock::service(mocks::feishu::api())
}

#[test]
fn feishu_delivers_signed() {
    let mock = feishu();
    let home = Sandbox::new()
        .env("FSKEY", FS_KEY)
        .env("FSSECRET", FS_SECRET)
        .env("FS_API_URL", mock.url(""));
    send_ok(&home, &["send", "任务", "完成"], &[FS_KEY, FS_SECRET]);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn lark_is_feishu_at_its_own_host_and_names() {
    let mock = feishu();
    let home = Sandbox::new()
        .env("LARK_KEY", FS_KEY)
        .env("LARK_SECRET", FS_SECRET)
        .env("LARK_API_URL", mock.url(""));
    send_ok(&home, &["send", "Hi", "there"], &[FS_SECRET]);
    assert_eq!(mock.requests()[0].json()["content"]["text"], "Hi\n\nthere");
    let listing = home.run(&["channels", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&listing.stdout).unwrap();
    let lark = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "lark")
        .unwrap();
    assert_eq!(lark["allowed_hosts"][0], "open.larksuite.com");
    assert_eq!(lark["schemes"][0], "lark");
}

// --- WeCom robot ------------------------------------------------------------

/// 3750 bytes arrive as two messages, each accepted by the mock (which
/// refuses text over 2048 bytes).
#[test]
fn wecom_bot_delivers_long_text_in_two_messages() {
    let mock = Mock::service(services::wecom_bot());
    let home = Sandbox::new()
        .env("QYWX_KEY", QYWX_KEY)
        .env("QYWX_ORIGIN", mock.url(""));
    let long = "企业微信消息内容\n".repeat(150); // 3750 bytes
    send_ok(&home, &["send", "长消息", &long], &[QYWX_KEY]);
    assert_eq!(mock.requests().len(), 2, "{:?}", mock.requests());
}

// --- Bark -------------------------------------------------------------------

/// A self-hosted server in `BARK_PUSH` (its key never in the output), and
/// notify.py's `BARK_GROUP`, `BARK_SOUND`, `BARK_ARCHIVE` in the body.
#[test]
fn bark_delivers_to_a_self_hosted_server_with_notify_py_names() {
    let mock = Mock::service(mocks::bark::api());
    let home = Sandbox::new()
        .env("BARK_PUSH", mock.url("/DeviceKey123"))
        .env("BARK_GROUP", "ci")
        .env("BARK_SOUND", "bell")
        .env("BARK_ARCHIVE", "1");
    send_ok(&home, &["send", "Done", "ok"], &["DeviceKey123"]);
    let b = mock.requests()[0].json();
    assert_eq!(
        (&b["group"], &b["sound"], &b["isArchive"]),
        (&"ci".into(), &"bell".into(), &"1".into()),
        "{b}"
    );
}

// --- PushPlus ---------------------------------------------------------------

/// `PUSH_PLUS_USER` is the group code; PushPlus' passing system error (500)
/// is retried by the hub, and the message then sent.
#[test]
fn pushplus_delivers_and_a_system_error_is_retried() {
    let mock = Mock::service(mocks::pushplus::api());
    let home = Sandbox::new()
        .env("PUSH_PLUS_TOKEN", "pp-token-0123456789")
        .env("PUSH_PLUS_USER", "team1")
        .env("PUSH_PLUS_API_URL", mock.url(""));
    send_ok(&home, &["send", "日报", "ok"], &["pp-token-0123456789"]);
    assert_eq!(mock.requests()[0].json()["topic"], "team1");
    let quick = Sandbox::new()
        .env("PUSH_PLUS_TOKEN", "pp-token-0123456789")
        .env("PUSH_PLUS_API_URL", mock.url(""))
        .config("[retry]\nbase_delay_secs = 0.2\n");
    let run = send_ok(&quick, &["send", "--wait", "20", "系统繁忙", "B"], &[]);
    assert!(run.stdout.contains("pushplus"), "{run:?}");
    let last = mock.requests().len();
    assert_eq!(mock.requests()[last - 2].json()["title"], "系统繁忙");
    assert_eq!(mock.requests()[last - 1].json()["title"], "系统繁忙");
}

// --- ServerChan -------------------------------------------------------------

/// `PUSH_KEY` as a Turbo key and as a ServerChan³ key (its uid read by the
/// host through the channel's declared shape, the key never seen).
#[test]
fn serverchan_delivers_with_turbo_and_sc3_keys() {
    let mock = Mock::service(mocks::serverchan::api());
    for (key, path) in [
        (SC_KEY, format!("/{SC_KEY}.send")),
        (SC3_KEY, format!("/send/{SC3_KEY}.send")),
    ] {
        let home = Sandbox::new()
            .env("PUSH_KEY", key)
            .env("SERVERCHAN_API_URL", mock.url(""));
        send_ok(&home, &["send", "T", "body"], &[key]);
        assert_eq!(mock.requests().last().unwrap().path(), path);
    }
}

// --- WeCom app --------------------------------------------------------------

/// `QYWX_AM` read through its shape: the token exchange, then 3900 bytes as
/// two messages, all accepted by the mock.
#[test]
fn wecom_app_delivers_after_a_token_exchange() {
    let mock = Mock::service(services::wecom_app());
    let home = Sandbox::new()
        .env("QYWX_AM", format!("ww0corp,{WX_CORP_SECRET},@all,1000002"))
        .env("QYWX_ORIGIN", mock.url(""));
    let long = "应用消息\n".repeat(300); // 3900 bytes: two messages
    send_ok(&home, &["send", "-vv", "通知", &long], &[WX_CORP_SECRET]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(reqs[0].path(), "/cgi-bin/gettoken");
}
