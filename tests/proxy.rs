//! A channel behind an HTTP proxy: the host routes its requests (the sandbox
//! never opens a socket). Telegram with notify.py's TG_PROXY_* names, and any
//! channel with `proxy = "http://…"` in its table. The mock proxy receives
//! the requests in absolute form, for hosts that do not even resolve here.

mod support;

use serde_json::json;
use support::{Mock, Reply, Sandbox};

#[test]
fn telegram_goes_through_tg_proxy_host_and_port() {
    let proxy = Mock::service(|r| {
        if r.uri.starts_with("http://api.telegram.test/bot") {
            Reply::json(200, json!({"ok": true, "result": {"message_id": 7}}))
        } else {
            Reply::json(404, json!({"ok": false, "description": "Not Found"}))
        }
    });
    let port = proxy
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let home = Sandbox::new()
        .env("TG_BOT_TOKEN", "123:tok-proxy-test")
        .env("TG_USER_ID", "42")
        .env("TG_API_HOST", "http://api.telegram.test")
        .env("TG_PROXY_HOST", "127.0.0.1")
        .env("TG_PROXY_PORT", port)
        .env("TG_PROXY_AUTH", "alice:pr0xy-pass");
    let run = home.run(&["send", "--wait", "0", "Deploy", "done"]);
    assert_eq!(run.code, 0, "{run:?}");
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(
        reqs[0].uri,
        "http://api.telegram.test/bot123:tok-proxy-test/sendMessage"
    );
    // Basic auth for the proxy, as notify.py's `user:pass@host:port` does.
    assert_eq!(
        reqs[0].header("proxy-authorization"),
        Some("Basic YWxpY2U6cHIweHktcGFzcw==")
    );
    assert!(!run.all_output().contains("pr0xy-pass"), "{run:?}");
}

#[test]
fn any_channel_takes_a_proxy_in_its_table() {
    let proxy = Mock::service(|_| Reply::text(200, "ok"));
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.hook]\nplugin = \"webhook\"\nurl = \"http://hook.test/x\"\nproxy = \"{}\"\n",
        proxy.url("").trim_end_matches('/')
    ));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(proxy.requests()[0].uri, "http://hook.test/x");
    let channels = home.run(&["channels"]);
    assert!(
        !channels.stdout.contains(&proxy.url("")),
        "the proxy is shown masked: {channels:?}"
    );

    let home = Sandbox::new().config(
        "from_env = false\n[channels.hook]\nplugin = \"webhook\"\nurl = \"http://hook.test/x\"\nproxy = \"socks5://127.0.0.1:1\"\n",
    );
    let run = home.run(&["channels"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("http://[user:password@]host:port"),
        "{run:?}"
    );
}
