//! A full notify.py-style environment with many channels set delivers to all
//! of them in one `mcp-push send`, concurrently.

mod support;

use std::time::{Duration, Instant};
use support::services::{
    self, DD_SECRET, DD_TOKEN, FS_KEY, FS_SECRET, MATRIX_TOKEN, QYWX_KEY, TG_TOKEN,
};
use support::{Behaviour, Gate, Mock, Sandbox};

/// Every channel's env, each pointing at its own mock; the mocks share
/// `behaviour`.
fn notify_py_environment(behaviour: &Behaviour) -> (Sandbox, Vec<Mock>, Vec<&'static str>) {
    let m = |h| Mock::service_with(behaviour.clone(), h);
    let tg = m(Box::new(services::telegram())
        as Box<dyn Fn(&support::Recorded) -> support::Reply + Send + Sync>);
    let dd = m(Box::new(services::dingtalk()));
    let fs = m(Box::new(services::feishu()));
    let lark = m(Box::new(services::feishu()));
    let wx = m(Box::new(services::wecom_bot()));
    let bark = m(Box::new(services::bark()));
    let ntfy = m(Box::new(services::ntfy()));
    let gotify = m(Box::new(services::gotify()));
    let pp = m(Box::new(services::pushplus()));
    let pushover = m(Box::new(services::pushover()));
    let slack = m(Box::new(services::slack()));
    let discord = m(Box::new(services::discord()));
    let matrix = m(Box::new(services::matrix()));
    let teams = m(Box::new(services::teams()));
    let hook = Mock::service_with(behaviour.clone(), |_: &support::Recorded| {
        support::Reply::text(200, "ok")
    });
    let home = Sandbox::new()
        .env("TG_BOT_TOKEN", TG_TOKEN)
        .env("TG_USER_ID", "42")
        .env("TG_API_HOST", tg.url(""))
        .env("DD_BOT_TOKEN", DD_TOKEN)
        .env("DD_BOT_SECRET", DD_SECRET)
        .env("DD_BOT_API_URL", dd.url(""))
        .env("FSKEY", FS_KEY)
        .env("FSSECRET", FS_SECRET)
        .env("FS_API_URL", fs.url(""))
        .env("LARK_KEY", FS_KEY)
        .env("LARK_SECRET", FS_SECRET)
        .env("LARK_API_URL", lark.url(""))
        .env("QYWX_KEY", QYWX_KEY)
        .env("QYWX_ORIGIN", wx.url(""))
        .env("BARK_PUSH", bark.url("/DeviceKey123"))
        .env("NTFY_TOPIC", "ops")
        .env("NTFY_URL", ntfy.url(""))
        .env("NTFY_TOKEN", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
        .env("GOTIFY_URL", gotify.url("/gotify"))
        .env("GOTIFY_TOKEN", "AzX1.token_value")
        .env("PUSH_PLUS_TOKEN", "pp-token-0123456789")
        .env("PUSH_PLUS_API_URL", pp.url(""))
        .env("PUSHOVER_TOKEN", "azGDORePK8gMaC0QOYAMyEEuzJnyUi")
        .env("PUSHOVER_USER", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG")
        .env("PUSHOVER_API_URL", pushover.url(""))
        .env("SLACK_WEBHOOK_URL", slack.url("/services/T000/B000/XXXX"))
        .env(
            "DISCORD_WEBHOOK_URL",
            discord.url("/api/webhooks/111/tok-en"),
        )
        .env("MATRIX_HOMESERVER", matrix.url(""))
        .env("MATRIX_ACCESS_TOKEN", MATRIX_TOKEN)
        .env("MATRIX_ROOM_ID", "!room:example.org")
        .env(
            "TEAMS_WEBHOOK_URL",
            teams.url("/workflows/abc/triggers/manual/paths/invoke"),
        )
        .env("WEBHOOK_URL", hook.url("/hook"));
    let names = vec![
        "telegram",
        "dingtalk",
        "feishu",
        "lark",
        "wecom-bot",
        "bark",
        "ntfy",
        "gotify",
        "pushplus",
        "pushover",
        "slack",
        "discord",
        "matrix",
        "teams",
        "webhook",
    ];
    let mocks = vec![
        tg, dd, fs, lark, wx, bark, ntfy, gotify, pp, pushover, slack, discord, matrix, teams, hook,
    ];
    (home, mocks, names)
}

#[test]
fn one_send_reaches_every_channel_at_once() {
    // Each mock holds its request until every channel's request has arrived:
    // a sender that went one channel at a time would never get past the
    // first, and would fail after the gate's 10 s.
    let gate = Gate::new(15);
    let behaviour = Behaviour {
        gate: Some(gate.clone()),
        delay: None,
    };
    let (home, mocks, names) = notify_py_environment(&behaviour);
    let run = home.run(&["send", "Nightly build", "all green"]);
    assert_eq!(run.code, 0, "{run:?}");
    for name in &names {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name} ")) && l.contains(" ok ")),
            "{name} did not deliver: {run:?}"
        );
    }
    assert_eq!(gate.arrived(), names.len());
    assert!(mocks.iter().all(|m| m.requests().len() == 1));
    for secret in [TG_TOKEN, DD_SECRET, FS_SECRET, QYWX_KEY, MATRIX_TOKEN] {
        assert!(!run.all_output().contains(secret), "{secret} leaked");
    }
}

#[test]
fn wall_time_is_close_to_the_slowest_channel() {
    // Measured and printed, not asserted: every mock answers after 300 ms, so
    // one at a time would take 15 x 300 ms.
    let behaviour = Behaviour {
        gate: None,
        delay: Some(Duration::from_millis(300)),
    };
    let (home, _mocks, names) = notify_py_environment(&behaviour);
    let started = Instant::now();
    let run = home.run(&["send", "Timed", "body"]);
    let wall = started.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    println!(
        "{} channels, each answering after 300 ms: one send took {} ms (sequential would be {} ms)",
        names.len(),
        wall.as_millis(),
        names.len() * 300
    );
}
