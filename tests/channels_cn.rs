//! The channels of the classic notify.py set end to end, each against a mock of
//! its API on 127.0.0.1 that speaks the real paths and replies, configured with
//! the environment names users already have.
//!
//! Sends use `--wait 0`: one attempt each, so a rate limit or an outage shows
//! as `retrying` at once instead of being waited out.

mod support;

use serde_json::json;
use support::services::{
    self, DD_SECRET, DD_TOKEN, FS_KEY, FS_SECRET, QYWX_KEY, SC_KEY, SC3_KEY, WX_CORP_SECRET,
    hmac_b64, now_ms,
};
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

#[test]
fn dingtalk_signs_with_the_secret_and_the_clock() {
    let mock = dingtalk();
    let home = dingtalk_home(&mock, DD_SECRET);
    let before = now_ms();
    send_ok(
        &home,
        &["send", "-vv", "构建完成", "全部通过"],
        &[DD_TOKEN, DD_SECRET],
    );
    let after = now_ms();
    let req = &mock.requests()[0];
    // Recompute the signature from our own secret and the timestamp sent,
    // which must be the sender's clock in milliseconds.
    let ts: u64 = req.query("timestamp").unwrap().parse().unwrap();
    assert!(
        (before - 1000..=after + 1000).contains(&ts),
        "{ts} not in {before}..{after}"
    );
    assert_eq!(
        req.query("sign").unwrap(),
        hmac_b64(
            DD_SECRET.as_bytes(),
            format!("{ts}\n{DD_SECRET}").as_bytes()
        )
    );
    let body = req.json();
    assert_eq!(
        body,
        json!({"msgtype": "text", "text": {"content": "构建完成\n\n全部通过"}})
    );

    send_ok(
        &home,
        &["send", "Report", "list:\n- a\n- b", "--format", "markdown"],
        &[],
    );
    let body = mock.requests()[1].json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["markdown"]["title"], "Report");
    assert_eq!(body["markdown"]["text"], "**Report**\n\nlist:\n- a\n- b");
}

#[test]
fn dingtalk_errors_map_to_kinds() {
    let mock = dingtalk();
    let run = dingtalk_home(&mock, "SECwrong-secret-value").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1);
    assert!(
        failure_of(&run, "dingtalk").contains("rejected: errcode 310000: sign not match"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("SECwrong-secret-value"));
    let run = dingtalk_home(&mock, DD_SECRET).run(&["send", "--wait", "0", "T", "too fast"]);
    assert!(
        failure_of(&run, "dingtalk").contains("rate limited"),
        "{run:?}"
    );
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
    Mock::service(services::feishu())
}

#[test]
fn feishu_signs_in_the_body_in_seconds() {
    let mock = feishu();
    let home = Sandbox::new()
        .env("FSKEY", FS_KEY)
        .env("FSSECRET", FS_SECRET)
        .env("FS_API_URL", mock.url(""));
    send_ok(&home, &["send", "任务", "完成"], &[FS_KEY, FS_SECRET]);
    let body = mock.requests()[0].json();
    assert_eq!(body["msg_type"], "text");
    assert_eq!(body["content"]["text"], "任务\n\n完成");
    let ts: u64 = body["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((now_ms() / 1000).abs_diff(ts) < 60);
    assert_eq!(
        body["sign"],
        hmac_b64(format!("{ts}\n{FS_SECRET}").as_bytes(), b"").as_str()
    );

    send_ok(
        &home,
        &["send", "Card", "**bold**", "--format", "markdown"],
        &[],
    );
    let body = mock.requests()[1].json();
    assert_eq!(body["msg_type"], "interactive");
    assert_eq!(body["card"]["header"]["title"]["content"], "Card");
    assert_eq!(body["card"]["elements"][0]["tag"], "markdown");
    assert_eq!(body["card"]["elements"][0]["content"], "**bold**");

    let run = home.run(&["send", "--wait", "0", "T", "busy"]);
    assert!(
        failure_of(&run, "feishu").contains("rate limited"),
        "{run:?}"
    );
    let wrong = Sandbox::new()
        .env("FSKEY", FS_KEY)
        .env("FSSECRET", "not-the-secret")
        .env("FS_API_URL", mock.url(""));
    let run = wrong.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "feishu").contains("rejected: code 19021: sign match fail"),
        "{run:?}"
    );
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

fn wecom_bot() -> Mock {
    Mock::service(services::wecom_bot())
}

#[test]
fn wecom_bot_splits_at_2048_bytes_and_maps_errors() {
    let mock = wecom_bot();
    let home = Sandbox::new()
        .env("QYWX_KEY", QYWX_KEY)
        .env("QYWX_ORIGIN", mock.url(""));
    let long = "企业微信消息内容\n".repeat(150); // 3750 bytes
    send_ok(&home, &["send", "长消息", &long], &[QYWX_KEY]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    let parts: Vec<String> = reqs
        .iter()
        .map(|r| r.json()["text"]["content"].as_str().unwrap().to_string())
        .collect();
    assert!(parts.iter().all(|p| p.len() <= 2048));
    assert!(parts[0].starts_with("(1/2) 长消息"));
    let joined: String = parts
        .iter()
        .map(|p| p.split_once(") ").unwrap().1)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(joined.matches("企业微信消息内容").count(), 150);

    let run = home.run(&["send", "--wait", "0", "T", "freq"]);
    assert!(
        failure_of(&run, "wecom-bot").contains("rate limited"),
        "{run:?}"
    );
    let wrong = Sandbox::new()
        .env("QYWX_KEY", "wrong-key")
        .env("QYWX_ORIGIN", mock.url(""));
    let run = wrong.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "wecom-bot").contains("rejected: errcode 93000: invalid webhook url"),
        "{run:?}"
    );
}

// --- Bark -------------------------------------------------------------------

fn bark() -> Mock {
    Mock::service(services::bark())
}

#[test]
fn bark_self_hosted_url_and_settings() {
    let mock = bark();
    let home = Sandbox::new()
        .env("BARK_PUSH", mock.url("/DeviceKey123"))
        .env("BARK_GROUP", "ci")
        .env("BARK_SOUND", "bell")
        .env("BARK_ARCHIVE", "1");
    send_ok(
        &home,
        &[
            "send",
            "Done",
            "ok",
            "--priority",
            "urgent",
            "--link",
            "https://ci.example/1",
        ],
        &["DeviceKey123"],
    );
    let b = mock.requests()[0].json();
    assert_eq!(
        b,
        json!({"title": "Done", "body": "ok", "level": "critical", "group": "ci",
               "sound": "bell", "isArchive": "1", "url": "https://ci.example/1"})
    );
    // APNs takes 4 KB: a long body is cut so that bark-server does not
    // answer 500 (retried until the delivery dies).
    let long = "日志行 log line\n".repeat(800);
    send_ok(
        &home,
        &["send", "--wait", "0", "Long", &long],
        &["DeviceKey123"],
    );
    let b = mock.requests().last().unwrap().json();
    assert!(b["body"].as_str().unwrap().ends_with('…'), "{b}");

    let wrong = Sandbox::new().env("BARK_PUSH", mock.url("/Nope"));
    let run = wrong.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "bark").contains("rejected: code 400: failed to get device token"),
        "{run:?}"
    );
}

// --- PushPlus ---------------------------------------------------------------

fn pushplus() -> Mock {
    Mock::service(services::pushplus())
}

#[test]
fn pushplus_json_and_errors() {
    let mock = pushplus();
    let home = Sandbox::new()
        .env("PUSH_PLUS_TOKEN", "pp-token-0123456789")
        .env("PUSH_PLUS_USER", "team1")
        .env("PUSH_PLUS_API_URL", mock.url(""));
    send_ok(
        &home,
        &["send", "日报", "<b>ok</b>", "--format", "html"],
        &["pp-token-0123456789"],
    );
    let b = mock.requests()[0].json();
    assert_eq!(b["title"], "日报");
    assert_eq!(b["content"], "<b>ok</b>");
    assert_eq!(b["template"], "html");
    assert_eq!(b["topic"], "team1");
    assert_eq!(b["channel"], "wechat");
    // 500 is PushPlus' passing system error: retried, and sent.
    let quick = Sandbox::new()
        .env("PUSH_PLUS_TOKEN", "pp-token-0123456789")
        .env("PUSH_PLUS_API_URL", mock.url(""))
        .config("[retry]\nbase_delay_secs = 0.2\n");
    let run = send_ok(&quick, &["send", "--wait", "20", "系统繁忙", "B"], &[]);
    assert!(run.stdout.contains("pushplus"), "{run:?}");
    let last = mock.requests().len();
    assert_eq!(mock.requests()[last - 2].json()["title"], "系统繁忙");
    assert_eq!(mock.requests()[last - 1].json()["title"], "系统繁忙");

    let wrong = Sandbox::new()
        .env("PUSH_PLUS_TOKEN", "bad")
        .env("PUSH_PLUS_API_URL", mock.url(""));
    let run = wrong.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "pushplus").contains("rejected: code 903: 无效的用户token"),
        "{run:?}"
    );
}

// --- ServerChan -------------------------------------------------------------

#[test]
fn serverchan_turbo_and_sc3_keys() {
    let mock = Mock::service(services::serverchan());
    let home = Sandbox::new()
        .env("PUSH_KEY", SC_KEY)
        .env("SERVERCHAN_API_URL", mock.url(""));
    send_ok(
        &home,
        &[
            "send",
            "A rather long title that goes past 32 characters",
            "body",
        ],
        &[SC_KEY],
    );
    let req = &mock.requests()[0];
    assert_eq!(req.path(), format!("/{SC_KEY}.send"));
    assert_eq!(req.form("title").unwrap().chars().count(), 32);
    assert_eq!(req.form("desp").as_deref(), Some("body"));
    // Plain text in the Markdown `desp`: its lines doubled as notify.py
    // does, its Markdown syntax escaped so it shows as written.
    send_ok(&home, &["send", "T", "step_1 ok\n*.log kept"], &[SC_KEY]);
    assert_eq!(
        mock.requests()[1].form("desp").as_deref(),
        Some("step\\_1 ok\n\n\\*.log kept")
    );
    // A ServerChan³ key (its uid read through the host, the key never seen).
    let home = Sandbox::new()
        .env("PUSH_KEY", SC3_KEY)
        .env("SERVERCHAN_API_URL", mock.url(""));
    send_ok(&home, &["send", "T", "B"], &[SC3_KEY]);
    assert_eq!(mock.requests()[2].path(), format!("/send/{SC3_KEY}.send"));
    let bad = Sandbox::new()
        .env("PUSH_KEY", "SCTwrong")
        .env("SERVERCHAN_API_URL", mock.url(""));
    let run = bad.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "serverchan").contains("rejected: code 40001: bad pushkey"),
        "{run:?}"
    );
}

// --- WeCom app --------------------------------------------------------------

#[test]
fn wecom_app_exchanges_a_token_then_sends() {
    let mock = Mock::service(services::wecom_app());
    let home = Sandbox::new()
        .env("QYWX_AM", format!("ww0corp,{WX_CORP_SECRET},@all,1000002"))
        .env("QYWX_ORIGIN", mock.url(""));
    let long = "应用消息\n".repeat(300); // 3900 bytes: two messages
    send_ok(&home, &["send", "-vv", "通知", &long], &[WX_CORP_SECRET]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].query("corpsecret").as_deref(), Some(WX_CORP_SECRET));
    let b = reqs[1].json();
    assert_eq!(b["msgtype"], "text");
    assert_eq!(b["agentid"], 1000002);
    assert!(
        b["text"]["content"]
            .as_str()
            .unwrap()
            .starts_with("(1/2) 通知")
    );

    let bad = Sandbox::new()
        .env("QYWX_AM", "ww0corp,wrong-secret,@all,1000002")
        .env("QYWX_ORIGIN", mock.url(""));
    let run = bad.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "wecom-app").contains("rejected: errcode 40001: invalid credential"),
        "{run:?}"
    );
    let malformed = Sandbox::new()
        .env("QYWX_AM", "ww0corp,secret,@all,notanumber")
        .env("QYWX_ORIGIN", mock.url(""));
    let run = malformed.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "wecom-app").contains("agentid must be a number"),
        "{run:?}"
    );
}
