//! The international channels end to end: one smoke test per channel, the
//! real binary configured with the environment names users set, sending real
//! HTTP to a mock of the service's API on 127.0.0.1 that speaks the real
//! paths and replies: Telegram, Slack, Discord, Matrix, Pushover, Microsoft
//! Teams, ntfy, Gotify, Mattermost, Google Chat, Rocket.Chat, Pushbullet;
//! Zulip, PagerDuty, Opsgenie, Home Assistant, Webex, Apprise API; Prowl,
//! Pushsafer, SIGNL4, Splunk On-Call, Resend, Postmark; Mastodon, Misskey,
//! SendGrid, Mailgun, LaMetric and Notica.
//! Nextcloud Talk, Revolt, Guilded, Flock, Ryver, SimplePush, Join, Pushy
//! and OneSignal; KOOK and Pushjet; the apps of DingTalk (work notices),
//! Feishu/Lark and WeChat Official Accounts (their access tokens kept).
//! Amazon SES and SNS (their mocks check the SigV4 signatures they receive);
//! Grafana OnCall (a run's end resolves its alert group).
//! SMS: Twilio, Vonage, Plivo, Sinch, ClickSend, BulkSMS, MessageBird,
//! Tencent Cloud SMS and Aliyun SMS (their mocks check the TC3 and RPC
//! signatures they receive).
//!
//! What a channel puts in a request (formats, splitting, cuts) and how it
//! reads each documented reply is tested beside the channel, with the SDK's
//! harness (`plugins/<name>/src/lib.rs`); here stays what only the host
//! shows: environment names and one-line URLs, secrets kept out of the
//! output, and the edits of a run's earlier message through the host's
//! plugin runtime and the remote ids it keeps.
//!
//! Sends use `--wait 0` where a failure is expected: one attempt each.

mod support;

/// The service APIs these tests run against, each built from its docs.
mod mocks {
    pub mod apprise_api;
    pub mod bluesky;
    pub mod dingtalk_notice;
    pub mod discord;
    pub mod discord_bot;
    pub mod feishu_app;
    pub mod flock;
    pub mod google_chat;
    pub mod gotify;
    pub mod grafana_oncall;
    pub mod guilded;
    pub mod home_assistant;
    pub mod join;
    pub mod kook;
    pub mod lametric;
    pub mod mailgun;
    pub mod mastodon;
    pub mod mattermost;
    pub mod misskey;
    pub mod nextcloud_talk;
    pub mod notica;
    pub mod ntfy;
    pub mod office365;
    pub mod onesignal;
    pub mod opsgenie;
    pub mod pagerduty;
    pub mod postmark;
    pub mod prowl;
    pub mod pushbullet;
    pub mod pushjet;
    pub mod pushover;
    pub mod pushsafer;
    pub mod pushy;
    pub mod resend;
    pub mod revolt;
    pub mod rocketchat;
    pub mod ryver;
    pub mod sendgrid;
    pub mod signl4;
    pub mod simplepush;
    pub mod slack;
    pub mod slack_web_api;
    pub mod splunk_oncall;
    pub mod teams;
    pub mod webex;
    pub mod wechat_oa;
    pub mod zulip;
    // SMS and voice
    pub mod aliyun_sms;
    pub mod aws_sigv4;
    pub mod bulksms;
    pub mod clicksend;
    pub mod messagebird;
    pub mod plivo;
    pub mod ses;
    pub mod sinch;
    pub mod sns;
    pub mod tencent_sms;
    pub mod twilio;
    pub mod vonage;
}

use mcp_push::notification::Notification;
use support::services::{self, MATRIX_TOKEN, TG_TOKEN};
use support::{Mock, Plugins, Sandbox, failure_of, send_ok};

// --- Telegram -------------------------------------------------------------

/// The Bot API: `/bot<token>/<method>`, JSON in, `{"ok": ...}` out.
fn telegram() -> Mock {
    Mock::service(services::telegram())
}

fn telegram_home(mock: &Mock, chat: &str) -> Sandbox {
    Sandbox::new()
        .env("TG_BOT_TOKEN", TG_TOKEN)
        .env("TG_USER_ID", chat)
        .env("TG_API_HOST", mock.url(""))
}

/// Delivered with notify.py's names; a wrong token is the service's 401,
/// which fails the run without the token in its output.
#[test]
fn telegram_delivers_with_notify_py_names() {
    let mock = telegram();
    send_ok(
        &telegram_home(&mock, "42"),
        &["send", "-vv", "Build 7", "passed"],
        &[TG_TOKEN],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path(), format!("/bot{TG_TOKEN}/sendMessage"));
    assert_eq!(reqs[0].json()["chat_id"], "42");
    assert_eq!(reqs[0].json()["text"], "Build 7\n\npassed");
    let home = Sandbox::new()
        .env("TG_BOT_TOKEN", "999:wrong-token-value")
        .env("TG_USER_ID", "42")
        .env("TG_API_HOST", mock.url(""));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "telegram").contains("rejected: ok false: Unauthorized"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-token-value"));
}

#[test]
fn telegram_edits_a_runs_earlier_message() {
    let mock = telegram();
    let plugins = Plugins::load();
    let settings = [
        ("token", TG_TOKEN),
        ("chat_id", "42"),
        ("api_host", &mock.url("")),
    ];
    let first = plugins
        .send(
            "telegram",
            &settings,
            &Notification::new("Run 1", "started"),
            None,
        )
        .unwrap();
    assert_eq!(first.remote_id.as_deref(), Some("100"));
    let edited = plugins
        .send(
            "telegram",
            &settings,
            &Notification::new("Run 1", "50% done"),
            Some("100"),
        )
        .unwrap();
    assert_eq!(edited.remote_id.as_deref(), Some("100"));
    let reqs = mock.requests();
    assert_eq!(reqs[1].path(), format!("/bot{TG_TOKEN}/editMessageText"));
    let body = reqs[1].json();
    assert_eq!(body["message_id"], 100);
    assert_eq!(body["chat_id"], "42");
    assert_eq!(body["text"], "Run 1\n\n50% done");
    // A message that is gone is sent anew.
    let again = plugins
        .send(
            "telegram",
            &settings,
            &Notification::new("Run 1", "done"),
            Some("404"),
        )
        .unwrap();
    assert_eq!(again.remote_id.as_deref(), Some("101"));
    assert_eq!(
        mock.requests()[3].path(),
        format!("/bot{TG_TOKEN}/sendMessage")
    );
}

#[test]
fn telegram_one_line_url() {
    let mock = telegram();
    let home = Sandbox::new().config(&format!(
        "[channels.tg]\nurl = \"tgram://{TG_TOKEN}/42\"\napi_host = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[TG_TOKEN]);
    assert_eq!(mock.requests()[0].json()["chat_id"], "42");
}

// --- Slack ----------------------------------------------------------------

/// An incoming webhook: `ok` or a short error code.
#[test]
fn slack_delivers_to_its_webhook() {
    let mock = Mock::service(mocks::slack::api());
    let home = Sandbox::new().env("SLACK_WEBHOOK_URL", mock.url("/services/T000/B000/XXXX"));
    send_ok(&home, &["send", "Deploy", "done"], &["XXXX"]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].json()["text"], "*Deploy*\ndone");
}

/// A bot token: `chat.postMessage` to the configured channel, the Web API's
/// `ok: false` errors as the method pages name them (HTTP 200 all), its
/// 429 with `Retry-After`; Apprise's bot URL works as it is.
#[test]
fn slack_bot_delivers_with_chat_post_message() {
    use mocks::slack_web_api::{SLACK_BOT_TOKEN, Workspace};
    let ws = Workspace::default();
    let mock = ws.mock();
    let home = |token: &str, channel: &str| {
        Sandbox::new()
            .env("SLACK_BOT_TOKEN", token)
            .env("SLACK_CHANNEL", channel)
            .env("SLACK_API_URL", mock.url("/api"))
    };
    send_ok(
        &home(SLACK_BOT_TOKEN, "#ops"),
        &["send", "Deploy", "done"],
        &[SLACK_BOT_TOKEN],
    );
    assert_eq!(ws.posted()[0]["text"], "*Deploy*\ndone");
    let req = &mock.requests()[0];
    assert_eq!(req.path(), "/api/chat.postMessage");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {SLACK_BOT_TOKEN}").as_str())
    );
    assert_eq!(req.json()["channel"], "#ops");
    for (token, channel, why) in [
        (
            SLACK_BOT_TOKEN,
            "#elsewhere",
            "rejected: Slack: not_in_channel",
        ),
        (
            SLACK_BOT_TOKEN,
            "#nowhere",
            "rejected: Slack: channel_not_found",
        ),
        (
            "xoxb-0-0-wrong",
            "#ops",
            "Slack refused the bot token: invalid_auth",
        ),
    ] {
        let run = home(token, channel).run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(failure_of(&run, "slack").contains(why), "{why}: {run:?}");
        assert!(!run.all_output().contains(token));
    }
    ws.limit_next(30);
    let run = home(SLACK_BOT_TOKEN, "#ops").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "slack").contains("retrying  rate limited"),
        "{run:?}"
    );
    // `slack://[BOTNAME@]xoxb-…/#CHANNEL`, as Apprise writes it.
    let home = Sandbox::new().config(&format!(
        "[channels.sl]\nurl = \"slack://{SLACK_BOT_TOKEN}/#ops\"\napi_url = \"{}\"\n",
        mock.url("/api")
    ));
    send_ok(&home, &["send", "From", "the URL"], &[SLACK_BOT_TOKEN]);
    assert_eq!(ws.posted().last().unwrap()["text"], "*From*\nthe URL");
}

// --- Discord --------------------------------------------------------------

/// A bot: Create Message with `Authorization: Bot TOKEN`, the message's id
/// kept, an edit a PATCH of it; Discord's error JSON mapped.
#[test]
fn discord_bot_delivers_and_edits_a_runs_message() {
    use mocks::discord_bot::{CHANNEL, DISCORD_BOT_TOKEN, Guild};
    let g = Guild::default();
    let mock = g.mock();
    let home = |token: &str, channel: &str| {
        Sandbox::new()
            .env("DISCORD_BOT_TOKEN", token)
            .env("DISCORD_CHANNEL_ID", channel)
            .env("DISCORD_API_URL", mock.url("/api/v10"))
    };
    send_ok(
        &home(DISCORD_BOT_TOKEN, CHANNEL),
        &["send", "Build", "passed"],
        &[DISCORD_BOT_TOKEN],
    );
    let req = &mock.requests()[0];
    assert_eq!(req.path(), format!("/api/v10/channels/{CHANNEL}/messages"));
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bot {DISCORD_BOT_TOKEN}").as_str())
    );
    assert_eq!(g.posted()[0]["content"], "**Build**\npassed");
    for (token, channel, why) in [
        (
            DISCORD_BOT_TOKEN,
            "1100000000000000007",
            "rejected: HTTP 404: Unknown Channel",
        ),
        ("wrong.bot.token", CHANNEL, "Discord refused the bot token"),
    ] {
        let run = home(token, channel).run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            failure_of(&run, "discord-bot").contains(why),
            "{why}: {run:?}"
        );
        assert!(!run.all_output().contains(token));
    }

    let plugins = Plugins::load();
    let api = mock.url("/api/v10");
    let settings = [
        ("bot_token", DISCORD_BOT_TOKEN),
        ("channel_id", CHANNEL),
        ("api_url", api.as_str()),
    ];
    let first = plugins
        .send(
            "discord-bot",
            &settings,
            &Notification::new("Run", "start"),
            None,
        )
        .unwrap();
    let id = first.remote_id.unwrap();
    let edit = plugins
        .send(
            "discord-bot",
            &settings,
            &Notification::new("Run", "end"),
            Some(&id),
        )
        .unwrap();
    assert_eq!(edit.remote_id.as_deref(), Some(id.as_str()));
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.method, "PATCH");
    assert_eq!(
        last.path(),
        format!("/api/v10/channels/{CHANNEL}/messages/{id}")
    );
    assert_eq!(g.posted().last().unwrap()["content"], "**Run**\nend");
}

/// Webhooks: POST `/api/webhooks/ID/TOKEN?wait=true` answers the message,
/// whose id the host keeps; PATCH `.../messages/ID` edits it.
#[test]
fn discord_delivers_and_edits_a_runs_message() {
    let mock = Mock::service(mocks::discord::api());
    let hook = mock.url("/api/webhooks/111/tok-en");
    let home = Sandbox::new()
        .env("DISCORD_WEBHOOK_URL", &hook)
        .env("DISCORD_USERNAME", "ci");
    send_ok(&home, &["send", "Build", "passed"], &["tok-en"]);
    let req = &mock.requests()[0];
    assert_eq!(req.query("wait").as_deref(), Some("true"));
    assert_eq!(req.json()["username"], "ci");

    let plugins = Plugins::load();
    let settings = [("webhook_url", hook.as_str())];
    let first = plugins
        .send(
            "discord",
            &settings,
            &Notification::new("Run", "start"),
            None,
        )
        .unwrap();
    let id = first.remote_id.unwrap();
    assert_eq!(id, "1100000000000000001");
    let edit = plugins
        .send(
            "discord",
            &settings,
            &Notification::new("Run", "end"),
            Some(&id),
        )
        .unwrap();
    assert_eq!(edit.remote_id.as_deref(), Some(id.as_str()));
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.method, "PATCH");
    assert_eq!(
        last.path(),
        format!("/api/webhooks/111/tok-en/messages/{id}")
    );
}

// --- Matrix ---------------------------------------------------------------

/// The client-server API's send endpoint; an edit relates to the run's first
/// event, each event with its own transaction id (the host's delivery key).
#[test]
fn matrix_delivers_and_edits_a_runs_message() {
    let mock = Mock::service(services::matrix());
    let home = Sandbox::new()
        .env("MATRIX_HOMESERVER", mock.url(""))
        .env("MATRIX_ACCESS_TOKEN", MATRIX_TOKEN)
        .env("MATRIX_ROOM_ID", "!room:example.org");
    send_ok(&home, &["send", "Done", "all green"], &[MATRIX_TOKEN]);
    assert_eq!(mock.requests()[0].json()["msgtype"], "m.text");

    let plugins = Plugins::load();
    let hs = mock.url("");
    let settings = [
        ("homeserver", hs.as_str()),
        ("access_token", MATRIX_TOKEN),
        ("room_id", "!room:example.org"),
    ];
    let first = plugins
        .send("matrix", &settings, &Notification::new("Run", "1/2"), None)
        .unwrap();
    let original = first.remote_id.unwrap();
    let edit = plugins
        .send(
            "matrix",
            &settings,
            &Notification::new("Run", "2/2"),
            Some(&original),
        )
        .unwrap();
    assert_eq!(edit.remote_id.as_deref(), Some(original.as_str()));
    let reqs = mock.requests();
    let edit_req = reqs.last().unwrap();
    // Each event has its own transaction id.
    assert_ne!(reqs[reqs.len() - 2].path(), edit_req.path());
    let body = edit_req.json();
    assert_eq!(body["m.relates_to"]["rel_type"], "m.replace");
    assert_eq!(body["m.relates_to"]["event_id"], original.as_str());
}

// --- Pushover -------------------------------------------------------------

/// A form with the application token and the user key, both kept out of the
/// output (the mock refuses any other token).
#[test]
fn pushover_delivers_a_form() {
    let mock = Mock::service(mocks::pushover::api());
    let token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
    let user = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
    let home = Sandbox::new()
        .env("PUSHOVER_TOKEN", token)
        .env("PUSHOVER_USER", user)
        .env("PUSHOVER_API_URL", mock.url(""));
    send_ok(&home, &["send", "Alert", "disk full"], &[token, user]);
    let req = &mock.requests()[0];
    assert_eq!(req.form("user").as_deref(), Some(user));
    assert_eq!(req.form("title").as_deref(), Some("Alert"));
}

// --- Microsoft Teams ------------------------------------------------------

/// A Workflows webhook, its signature kept out of the output; the mock
/// refuses a body that is not an Adaptive Card message.
#[test]
fn teams_delivers_an_adaptive_card() {
    let mock = Mock::service(mocks::teams::api());
    let url =
        mock.url("/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SIGsecretvalue");
    let home = Sandbox::new().env("TEAMS_WEBHOOK_URL", &url);
    send_ok(
        &home,
        &["send", "Nightly", "3 failures"],
        &["SIGsecretvalue"],
    );
    let card = &mock.requests()[0].json()["attachments"][0]["content"];
    assert_eq!(card["body"][1]["text"], "3 failures");
}

// --- ntfy -----------------------------------------------------------------

/// Publishing: POST `/<topic>` with the token; a run's later message updates
/// the first through `X-Sequence-ID` on the topic itself (`/<topic>/<id>` is
/// a 404 on servers before ntfy 2.16: the mock's router).
#[test]
fn ntfy_delivers_and_updates_a_runs_message() {
    let mock = Mock::service(mocks::ntfy::api());
    let token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";
    let home = Sandbox::new()
        .env("NTFY_TOPIC", "ops")
        .env("NTFY_URL", mock.url(""))
        .env("NTFY_TOKEN", token);
    send_ok(&home, &["send", "Deploy", "done"], &[token]);
    let req = &mock.requests()[0];
    assert_eq!(req.path(), "/ops");
    assert_eq!(req.text(), "done");

    let plugins = Plugins::load();
    let url = mock.url("");
    let settings = [("topic", "ops"), ("url", url.as_str()), ("token", token)];
    let first = plugins
        .send("ntfy", &settings, &Notification::new("Run", "10%"), None)
        .unwrap();
    let id = first.remote_id.unwrap();
    let update = plugins
        .send(
            "ntfy",
            &settings,
            &Notification::new("Run", "90%"),
            Some(&id),
        )
        .unwrap();
    assert_eq!(update.remote_id.as_deref(), Some(id.as_str()));
    let last = mock.requests().last().unwrap().clone();
    assert_eq!(last.path(), "/ops");
    assert_eq!(last.header("x-sequence-id"), Some(id.as_str()));
}

// --- Gotify ---------------------------------------------------------------

/// notify.py's `GOTIFY_*`: a server under a path (with its trailing slash),
/// the app token in `X-Gotify-Key`, `GOTIFY_PRIORITY` in the body.
#[test]
fn gotify_delivers_with_notify_py_names() {
    let mock = Mock::service(mocks::gotify::api());
    let home = Sandbox::new()
        .env("GOTIFY_URL", mock.url("/gotify/"))
        .env("GOTIFY_TOKEN", "AzX1.token_value")
        .env("GOTIFY_PRIORITY", "7");
    send_ok(&home, &["send", "Backup", "ok"], &["AzX1.token_value"]);
    let b = mock.requests()[0].json();
    assert_eq!(b["title"], "Backup");
    assert_eq!(b["priority"], 7);
}

// --- Mattermost -----------------------------------------------------------

/// mcp-push's own `MATTERMOST_*` names: the hook URL (a server under a path)
/// with its key kept out of the output, the overrides in the JSON body.
#[test]
fn mattermost_delivers_with_its_environment_names() {
    let mock = Mock::service(mocks::mattermost::api());
    let hook = mock.url(&format!("/chat/hooks/{}", mocks::mattermost::KEY));
    let home = Sandbox::new()
        .env("MATTERMOST_WEBHOOK_URL", &hook)
        .env("MATTERMOST_CHANNEL", "town-square")
        .env("MATTERMOST_USERNAME", "ci")
        .env("MATTERMOST_ICON_URL", "https://example.com/ci.png");
    send_ok(
        &home,
        &["send", "Deploy", "done"],
        &[mocks::mattermost::KEY],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({
            "text": "**Deploy**\ndone", "channel": "town-square", "username": "ci",
            "icon_url": "https://example.com/ci.png",
        })
    );
    // A channel the server cannot find is its 404, refused, key unseen.
    let home = Sandbox::new()
        .env("MATTERMOST_WEBHOOK_URL", &hook)
        .env("MATTERMOST_CHANNEL", "nowhere");
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "mattermost")
            .contains("rejected: status_code 404: Couldn't find the channel."),
        "{run:?}"
    );
    assert!(!run.all_output().contains(mocks::mattermost::KEY));
}

/// Apprise's `mmost://[BOTNAME@]HOST:PORT/PATH/TOKEN?channel=NAME`.
#[test]
fn mattermost_one_line_url() {
    let mock = Mock::service(mocks::mattermost::api());
    let url = format!(
        "mmost://ci-bot@{}/chat/{}?channel=%23ops",
        mock.addr,
        mocks::mattermost::KEY
    );
    let home = Sandbox::new().config(&format!("[channels.mm]\nurl = \"{url}\"\n"));
    send_ok(&home, &["send", "T", "B"], &[mocks::mattermost::KEY]);
    let b = mock.requests()[0].json();
    assert_eq!(b["username"], "ci-bot");
    assert_eq!(b["channel"], "ops");
    assert_eq!(b["text"], "**T**\nB");
}

// --- Google Chat ----------------------------------------------------------

/// The space's webhook URL as Google gives it (the token's `=` encoded),
/// key and token kept out of the output; the created message's `name` is
/// the remote id.
#[test]
fn google_chat_delivers_with_its_environment_names() {
    use mocks::google_chat::{KEY, SPACE, TOKEN};
    let mock = Mock::service(mocks::google_chat::api());
    let hook = mock.url(&format!(
        "/v1/spaces/{SPACE}/messages?key={KEY}&token={}",
        TOKEN.replace('=', "%3D")
    ));
    let home = Sandbox::new()
        .env("GOOGLE_CHAT_WEBHOOK_URL", &hook)
        .env("GOOGLE_CHAT_THREAD", "nightly");
    send_ok(&home, &["send", "Nightly", "all green"], &[KEY, "O7b1nyri"]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({"text": "*Nightly*\nall green", "thread": {"threadKey": "nightly"}})
    );
    // Google's 429 is a rate limit: not delivered now, kept for later.
    let home = Sandbox::new().env("GOOGLE_CHAT_WEBHOOK_URL", &hook);
    let run = home.run(&["send", "--wait", "0", "T", "over quota"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "google-chat").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
}

/// Apprise's `gchat://SPACE/KEY/TOKEN/THREAD`: a Google Chat channel aimed
/// at Google's host only, its webhook URL a secret, the thread key kept.
#[test]
fn google_chat_one_line_url() {
    use mocks::google_chat::{KEY, SPACE, TOKEN};
    let home = Sandbox::new().config(&format!(
        "[channels.gc]\nurl = \"gchat://{SPACE}/{KEY}/{}/build-7\"\n",
        TOKEN.replace('=', "%3D")
    ));
    let run = home.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all_output().contains(KEY), "{run:?}");
    let listing: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let gc = listing["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gc")
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(gc["plugin"], "google-chat");
    assert_eq!(
        gc["settings"],
        serde_json::json!({"webhook_url": "***", "thread": "build-7"})
    );
    assert_eq!(gc["allowed_hosts"][0], "chat.googleapis.com");
}

// --- Rocket.Chat ----------------------------------------------------------

/// mcp-push's own `ROCKETCHAT_*` names: the hook URL, its token kept out of
/// the output, the overrides in the JSON body; a channel the integration may
/// not override is refused in the server's words.
#[test]
fn rocketchat_delivers_with_its_environment_names() {
    use mocks::rocketchat::{ID, TOKEN};
    let mock = Mock::service(mocks::rocketchat::api());
    let hook = mock.url(&format!("/hooks/{ID}/{TOKEN}"));
    let home = Sandbox::new()
        .env("ROCKETCHAT_WEBHOOK_URL", &hook)
        .env("ROCKETCHAT_CHANNEL", "@alice")
        .env("ROCKETCHAT_ALIAS", "CI")
        .env("ROCKETCHAT_AVATAR", "https://example.com/ci.png");
    send_ok(&home, &["send", "Deploy", "done"], &[TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({
            "text": "*Deploy*\ndone", "channel": "@alice", "alias": "CI",
            "avatar": "https://example.com/ci.png",
        })
    );
    let home = Sandbox::new()
        .env("ROCKETCHAT_WEBHOOK_URL", &hook)
        .env("ROCKETCHAT_CHANNEL", "#locked");
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "rocketchat").contains(
            "rejected: success false: overriding destination channel is disabled for this integration"
        ),
        "{run:?}"
    );
    assert!(!run.all_output().contains(TOKEN));
}

/// Apprise's webhook mode, `rocket://ID/TOKEN@HOST:PORT/TARGET`; a message
/// over the server's 5,000 characters arrives cut to fit.
#[test]
fn rocketchat_one_line_url_and_its_length_limit() {
    use mocks::rocketchat::{ID, TOKEN};
    let mock = Mock::service(mocks::rocketchat::api());
    let home = Sandbox::new().config(&format!(
        "[channels.rc]\nurl = \"rocket://{ID}/{TOKEN}@{}/%23ops\"\n",
        mock.addr
    ));
    let long = "x".repeat(6000);
    send_ok(&home, &["send", "T", &long], &[TOKEN]);
    let b = mock.requests()[0].json();
    assert_eq!(b["channel"], "#ops");
    assert_eq!(b["text"].as_str().unwrap().chars().count(), 5000);
}

// --- Pushbullet -----------------------------------------------------------

/// mcp-push's own `PUSHBULLET_*` names: the token in `Access-Token`, kept out
/// of the output; a link makes a link push; a wrong token is Pushbullet's 401.
#[test]
fn pushbullet_delivers_with_its_environment_names() {
    use mocks::pushbullet::TOKEN;
    let mock = Mock::service(mocks::pushbullet::api());
    let home = Sandbox::new()
        .env("PUSHBULLET_ACCESS_TOKEN", TOKEN)
        .env("PUSHBULLET_TARGET", "#ops")
        .env("PUSHBULLET_API_URL", mock.url(""));
    send_ok(&home, &["send", "Backup", "ok"], &[TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"type": "note", "title": "Backup", "body": "ok", "channel_tag": "ops"})
    );
    let home = Sandbox::new()
        .env("PUSHBULLET_ACCESS_TOKEN", "o.wrongTokenValue")
        .env("PUSHBULLET_API_URL", mock.url(""));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "pushbullet")
            .contains("rejected: HTTP 401: Access token is missing or invalid."),
        "{run:?}"
    );
    assert!(!run.all_output().contains("o.wrongTokenValue"));
}

/// Apprise's `pbul://ACCESS_TOKEN/TARGET`, an e-mail address as the target.
#[test]
fn pushbullet_one_line_url() {
    use mocks::pushbullet::TOKEN;
    let mock = Mock::service(mocks::pushbullet::api());
    let home = Sandbox::new().config(&format!(
        "[channels.pb]\nurl = \"pbul://{TOKEN}/me@example.com\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[TOKEN]);
    assert_eq!(mock.requests()[0].json()["email"], "me@example.com");
}

// --- Zulip ---------------------------------------------------------------

/// The names Zulip's own bindings read (`ZULIP_SITE`, `ZULIP_EMAIL`,
/// `ZULIP_API_KEY`) and mcp-push's `ZULIP_TO`: a channel message and a
/// direct one, the title as the topic, the key kept out of the output; an
/// unknown channel is Zulip's refusal, a rate limit is retried later.
#[test]
fn zulip_delivers_with_its_environment_names() {
    use mocks::zulip::{EMAIL, KEY};
    let mock = Mock::service(mocks::zulip::api());
    let home = |to: &str| {
        Sandbox::new()
            .env("ZULIP_SITE", mock.url(""))
            .env("ZULIP_EMAIL", EMAIL)
            .env("ZULIP_API_KEY", KEY)
            .env("ZULIP_TO", to)
    };
    send_ok(
        &home("#ops, me@example.com"),
        &["send", "Deploy", "done"],
        &[KEY],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].form("type").as_deref(), Some("stream"));
    assert_eq!(reqs[0].form("to").as_deref(), Some("ops"));
    assert_eq!(reqs[0].form("topic").as_deref(), Some("Deploy"));
    assert_eq!(reqs[0].form("content").as_deref(), Some("done"));
    assert_eq!(reqs[1].form("type").as_deref(), Some("direct"));
    assert_eq!(reqs[1].form("to").as_deref(), Some(r#"["me@example.com"]"#));
    let run = home("nowhere").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "zulip")
            .contains("rejected: result error: Channel 'nowhere' does not exist"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
    let run = home("general").run(&["send", "--wait", "0", "T", "a flood of news"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "zulip").contains("retrying  rate limited"),
        "{run:?}"
    );
    let home = Sandbox::new()
        .env("ZULIP_SITE", mock.url(""))
        .env("ZULIP_EMAIL", EMAIL)
        .env("ZULIP_API_KEY", "wrongKeyValue0123456789");
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "zulip").contains("rejected: result error: Invalid API key"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKeyValue0123456789"));
}

/// Apprise's `zulip://BOTNAME@ORGANIZATION/TOKEN/TARGET` (the bot's address
/// `ci-bot@apprise.zulipchat.com` derived from it; the site pointed at the
/// mock); a text over Zulip's 10,000 characters arrives cut to fit.
#[test]
fn zulip_one_line_url_and_its_length_limit() {
    use mocks::zulip::KEY;
    let mock = Mock::service(mocks::zulip::api());
    let home = Sandbox::new().config(&format!(
        "[channels.z]\nurl = \"zulip://ci@apprise/{KEY}/%23ops\"\nsite = \"{}\"\n",
        mock.url("")
    ));
    let long = "x".repeat(12000);
    send_ok(&home, &["send", "T", &long], &[KEY]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].form("to").as_deref(), Some("ops"));
    assert_eq!(reqs[0].form("content").unwrap().chars().count(), 10000);
}

// --- PagerDuty -----------------------------------------------------------

fn pagerduty_home(mock: &Mock, key: &str) -> Sandbox {
    Sandbox::new()
        .env("PAGERDUTY_ROUTING_KEY", key)
        .env("PAGERDUTY_SOURCE", "db01")
        .env("PAGERDUTY_API_URL", mock.url(""))
}

/// mcp-push's own `PAGERDUTY_*` names: a trigger with the routing key kept
/// out of the output; a bad key is PagerDuty's 400 (refused), a 429 is kept
/// for later.
#[test]
fn pagerduty_delivers_with_its_environment_names() {
    use mocks::pagerduty::KEY;
    let mock = Mock::service(mocks::pagerduty::api());
    send_ok(
        &pagerduty_home(&mock, KEY),
        &["send", "--priority", "urgent", "Backup", "disk full"],
        &[KEY],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let b = reqs[0].json();
    assert_eq!(b["event_action"], "trigger");
    assert_eq!(
        b["payload"],
        serde_json::json!({"summary": "Backup: disk full", "source": "db01", "severity": "critical"})
    );
    assert!(b.get("dedup_key").is_none());
    let run = pagerduty_home(&mock, "0123456789abcdef").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "pagerduty").contains(
            "rejected: status invalid event: Length of 'routing_key' is incorrect (should be 32 characters)"
        ),
        "{run:?}"
    );
    assert!(!run.all_output().contains("0123456789abcdef"));
    let run = pagerduty_home(&mock, KEY).run(&["send", "--wait", "0", "T", "a storm of alerts"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "pagerduty").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// A run is one alert: its start triggers it under the run id as the dedup
/// key, its end resolves that alert.
#[test]
fn pagerduty_resolves_the_alert_when_the_run_ends() {
    use mocks::pagerduty::KEY;
    let mock = Mock::service(mocks::pagerduty::api());
    let home = pagerduty_home(&mock, KEY);
    for kind in ["start", "end"] {
        let run = home.run(&["event", "nightly-7", kind]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!run.all_output().contains(KEY));
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    let (trigger, resolve) = (reqs[0].json(), reqs[1].json());
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], "nightly-7");
    assert_eq!(
        resolve,
        serde_json::json!({"routing_key": KEY, "event_action": "resolve", "dedup_key": "nightly-7"})
    );
}

/// Apprise's `pagerduty://INTEGRATION_KEY@API_KEY/SOURCE/COMPONENT?group=`;
/// a message over the summary's 1,024 characters is cut there and sent
/// whole in the details.
#[test]
fn pagerduty_one_line_url_and_its_length_limit() {
    use mocks::pagerduty::KEY;
    let mock = Mock::service(mocks::pagerduty::api());
    let home = Sandbox::new().config(&format!(
        "[channels.pd]\nurl = \"pagerduty://{KEY}@apikey/web01/nginx?group=edge\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    let long = "x".repeat(2000);
    send_ok(&home, &["send", "T", &long], &[KEY]);
    let p = &mock.requests()[0].json()["payload"];
    assert_eq!(p["source"], "web01");
    assert_eq!(p["component"], "nginx");
    assert_eq!(p["group"], "edge");
    assert_eq!(p["summary"].as_str().unwrap().chars().count(), 1024);
    assert_eq!(p["custom_details"]["message"], format!("T\n\n{long}"));
}

// --- Opsgenie ------------------------------------------------------------

fn opsgenie_home(mock: &Mock, key: &str) -> Sandbox {
    Sandbox::new()
        .env("OPSGENIE_API_KEY", key)
        .env("OPSGENIE_TARGETS", "#ops,@alice")
        .env("OPSGENIE_API_URL", mock.url(""))
}

/// mcp-push's own `OPSGENIE_*` names: an alert with its responders, the key
/// (in `GenieKey`) kept out of the output; a key Opsgenie does not know is
/// its 401 (refused); throttling is retried after the period it names.
#[test]
fn opsgenie_delivers_with_its_environment_names() {
    use mocks::opsgenie::KEY;
    let mock = Mock::service(mocks::opsgenie::api());
    send_ok(
        &opsgenie_home(&mock, KEY),
        &["send", "--priority", "high", "Backup failed", "disk full"],
        &[KEY],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path(), "/v2/alerts");
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({
            "message": "Backup failed", "description": "disk full", "source": "mcp-push",
            "priority": "P2",
            "responders": [{"type": "team", "name": "ops"}, {"type": "user", "username": "alice"}],
        })
    );
    let wrong = "00000000-1111-2222-3333-444444444444";
    let run = opsgenie_home(&mock, wrong).run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "opsgenie").contains("rejected: HTTP 401: Could not authenticate"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(wrong));
    let run = opsgenie_home(&mock, KEY).run(&["send", "--wait", "0", "a flood", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "opsgenie").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// A run is one alert under the run id as its alias; the run's end closes
/// it by that alias.
#[test]
fn opsgenie_closes_the_alert_when_the_run_ends() {
    use mocks::opsgenie::KEY;
    let mock = Mock::service(mocks::opsgenie::api());
    let home = opsgenie_home(&mock, KEY);
    for kind in ["start", "end"] {
        let run = home.run(&["event", "nightly-7", kind]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!run.all_output().contains(KEY));
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].json()["alias"], "nightly-7");
    assert_eq!(reqs[1].path(), "/v2/alerts/nightly-7/close");
    assert_eq!(reqs[1].query("identifierType").as_deref(), Some("alias"));
}

/// Apprise's `opsgenie://API_KEY/TARGETS?priority=`; a title over the
/// message's 130 characters arrives cut to fit.
#[test]
fn opsgenie_one_line_url_and_its_length_limit() {
    use mocks::opsgenie::KEY;
    let mock = Mock::service(mocks::opsgenie::api());
    let home = Sandbox::new().config(&format!(
        "[channels.og]\nurl = \"opsgenie://{KEY}/*oncall?priority=p4\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    let title = "t".repeat(200);
    send_ok(&home, &["send", &title, "B"], &[KEY]);
    let b = mock.requests()[0].json();
    assert_eq!(b["priority"], "P4");
    assert_eq!(
        b["responders"],
        serde_json::json!([{"type": "schedule", "name": "oncall"}])
    );
    assert_eq!(b["message"].as_str().unwrap().chars().count(), 130);
}

// --- Home Assistant ------------------------------------------------------

/// Home Assistant's command-line names (`HASS_SERVER`, `HASS_TOKEN`): a
/// persistent notification with a title, the token kept out of the output;
/// a token Home Assistant refuses is its 401.
#[test]
fn home_assistant_delivers_with_its_environment_names() {
    use mocks::home_assistant::TOKEN;
    let mock = Mock::service(mocks::home_assistant::api());
    let home = Sandbox::new()
        .env("HASS_SERVER", mock.url(""))
        .env("HASS_TOKEN", TOKEN);
    send_ok(&home, &["send", "Backup", "done"], &[TOKEN]);
    let b = mock.requests()[0].json();
    assert_eq!(b["title"], "Backup");
    assert_eq!(b["message"], "done");
    assert!(
        b["notification_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let home = Sandbox::new()
        .env("HASS_SERVER", mock.url(""))
        .env("HASS_TOKEN", "wrong.token.value");
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "home-assistant").contains("rejected: HTTP 401: 401: Unauthorized"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong.token.value"));
}

/// A run's messages share one notification: each replaces the last.
#[test]
fn home_assistant_a_run_is_one_notification() {
    use mocks::home_assistant::TOKEN;
    let mock = Mock::service(mocks::home_assistant::api());
    let home = Sandbox::new()
        .env("HASS_SERVER", mock.url(""))
        .env("HASS_TOKEN", TOKEN);
    for kind in ["start", "end"] {
        let run = home.run(&["event", "nightly-7", kind]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for r in reqs {
        assert_eq!(r.json()["notification_id"], "nightly-7");
    }
}

/// Apprise's `hassio://HOST:PORT/PATH/TOKEN?nid=` (a server behind a
/// prefix); a long message is sent whole.
#[test]
fn home_assistant_one_line_url() {
    use mocks::home_assistant::TOKEN;
    let mock = Mock::service(mocks::home_assistant::api());
    let home = Sandbox::new().config(&format!(
        "[channels.ha]\nurl = \"hassio://{}/ha/{TOKEN}?nid=ci\"\n",
        mock.addr
    ));
    let long = "x".repeat(20000);
    send_ok(&home, &["send", "T", &long], &[TOKEN]);
    let r = &mock.requests()[0];
    assert_eq!(r.path(), "/ha/api/services/persistent_notification/create");
    assert_eq!(r.json()["notification_id"], "ci");
    assert_eq!(r.json()["message"], long.as_str());
}

// --- Webex ---------------------------------------------------------------

/// mcp-push's own `WEBEX_WEBHOOK_URL`: Markdown with the title bold, the
/// token in the URL kept out of the output; a token Webex does not know is
/// its 404, a 429 is kept for later.
#[test]
fn webex_delivers_with_its_environment_name() {
    use mocks::webex::TOKEN;
    let mock = Mock::service(mocks::webex::api());
    let home = |token: &str| {
        Sandbox::new().env(
            "WEBEX_WEBHOOK_URL",
            mock.url(&format!("/v1/webhooks/incoming/{token}")),
        )
    };
    send_ok(&home(TOKEN), &["send", "Deploy", "done"], &[TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"markdown": "**Deploy**\ndone"})
    );
    let run = home("Y2lzY29zcGFyazovL3dyb25n").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "webex")
            .contains("rejected: HTTP 404: The requested resource could not be found."),
        "{run:?}"
    );
    assert!(!run.all_output().contains("Y2lzY29zcGFyazovL3dyb25n"));
    let run = home(TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "webex").contains("retrying  rate limited"),
        "{run:?}"
    );
    // Over Webex's 7,439 bytes a message arrives cut to fit.
    send_ok(&home(TOKEN), &["send", "T", &"é".repeat(5000)], &[TOKEN]);
    let last = mock.requests().pop().unwrap().json();
    assert!(last["markdown"].as_str().unwrap().len() <= 7439);
}

/// Apprise's `webex://TOKEN` (and `wxteams://`): a channel aimed at Webex's
/// host, its webhook URL a secret.
#[test]
fn webex_one_line_url() {
    use mocks::webex::TOKEN;
    let home = Sandbox::new().config(&format!(
        "[channels.wx]\nurl = \"webex://{TOKEN}\"\n[channels.wt]\nurl = \"wxteams://{TOKEN}\"\n"
    ));
    let run = home.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all_output().contains(TOKEN), "{run:?}");
    let listing: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for name in ["wx", "wt"] {
        let c = listing["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{run:?}"));
        assert_eq!(c["plugin"], "webex");
        assert_eq!(c["settings"], serde_json::json!({"webhook_url": "***"}));
        assert_eq!(c["allowed_hosts"][0], "webexapis.com");
    }
}

// --- Apprise API ---------------------------------------------------------

/// mcp-push's own `APPRISE_API_*` names: JSON to `/notify/{KEY}` with the
/// tags, the key kept out of the output; an unknown key (204: nothing sent)
/// is refused; a 424 (a service behind the server failed) is retried.
#[test]
fn apprise_api_delivers_with_its_environment_names() {
    use mocks::apprise_api::KEY;
    let mock = Mock::service(mocks::apprise_api::api());
    let home = |key: &str| {
        Sandbox::new()
            .env("APPRISE_API_URL", mock.url(""))
            .env("APPRISE_API_KEY", key)
            .env("APPRISE_API_TAGS", "devops")
    };
    send_ok(&home(KEY), &["send", "Deploy", "done"], &[KEY]);
    let r = &mock.requests()[0];
    assert_eq!(r.path(), format!("/notify/{KEY}"));
    assert_eq!(
        r.json(),
        serde_json::json!({"body": "done", "title": "Deploy", "type": "info", "format": "text", "tag": "devops"})
    );
    let run = home("nosuchkey42").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "apprise-api")
            .contains("rejected: HTTP 204: there is no configuration under this key"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("nosuchkey42"));
    let run = home(KEY).run(&["send", "--wait", "0", "T", "fail please"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "apprise-api")
            .contains("HTTP 424: One or more notification could not be sent."),
        "{run:?}"
    );
}

/// Apprise's `apprise://USER:PASSWORD@HOST:PORT/PATH/KEY?tags=`: Basic auth,
/// a server under a path.
#[test]
fn apprise_api_one_line_url() {
    use mocks::apprise_api::KEY;
    let mock = Mock::service(mocks::apprise_api::api());
    let home = Sandbox::new().config(&format!(
        "[channels.ap]\nurl = \"apprise://ci:pw@{}/api/{KEY}?tags=ops\"\n",
        mock.addr
    ));
    send_ok(&home, &["send", "T", "B"], &[KEY, "ci:pw"]);
    let r = &mock.requests()[0];
    assert_eq!(r.path(), format!("/api/notify/{KEY}"));
    assert!(
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    );
    assert_eq!(r.json()["tag"], "ops");
}

// --- Prowl ----------------------------------------------------------------

/// mcp-push's own `PROWL_*` names: the keys in the form, kept out of the
/// output; a wrong key is Prowl's XML 401, refused in its words; a key over
/// the hourly limit is its 406, kept for later.
#[test]
fn prowl_delivers_with_its_environment_names() {
    use mocks::prowl::{KEY, PROVIDER, SPENT_KEY};
    let mock = Mock::service(mocks::prowl::api());
    let home = Sandbox::new()
        .env("PROWL_API_KEY", KEY)
        .env("PROWL_PROVIDER_KEY", PROVIDER)
        .env("PROWL_APPLICATION", "nightly")
        .env("PROWL_PRIORITY", "high")
        .env("PROWL_API_URL", mock.url(""));
    send_ok(&home, &["send", "Backup", "done"], &[KEY, PROVIDER]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    for (field, want) in [
        ("apikey", KEY),
        ("providerkey", PROVIDER),
        ("application", "nightly"),
        ("event", "Backup"),
        ("description", "done"),
        ("priority", "1"),
    ] {
        assert_eq!(reqs[0].form(field).as_deref(), Some(want), "{field}");
    }
    let wrong = "0123456789abcdef0123456789abcdef01234567";
    let home = Sandbox::new()
        .env("PROWL_API_KEY", wrong)
        .env("PROWL_API_URL", mock.url(""));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "prowl").contains("rejected: error 401: Invalid API key"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(wrong));
    let home = Sandbox::new()
        .env("PROWL_API_KEY", SPENT_KEY)
        .env("PROWL_API_URL", mock.url(""));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "prowl").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(SPENT_KEY));
}

/// Apprise's `prowl://APIKEY/PROVIDERKEY?priority=emergency`; a body over
/// Prowl's 10,000 bytes arrives cut to fit (the mock refuses a longer one).
#[test]
fn prowl_one_line_url_and_its_length_limit() {
    use mocks::prowl::{KEY, PROVIDER};
    let mock = Mock::service(mocks::prowl::api());
    let home = Sandbox::new().config(&format!(
        "[channels.pr]\nurl = \"prowl://{KEY}/{PROVIDER}?priority=emergency\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    let long = "é".repeat(6000);
    send_ok(&home, &["send", "T", &long], &[KEY, PROVIDER]);
    let r = &mock.requests()[0];
    assert_eq!(r.form("priority").as_deref(), Some("2"));
    assert_eq!(r.form("providerkey").as_deref(), Some(PROVIDER));
    let description = r.form("description").unwrap();
    assert!(
        (9990..=10000).contains(&description.len()),
        "{}",
        description.len()
    );
    assert!(description.ends_with('…'));
}

// --- Pushsafer ------------------------------------------------------------

/// mcp-push's own `PUSHSAFER_*` names: the key in the form, kept out of the
/// output, the options beside it; Pushsafer's refusals come with 2xx
/// statuses (250, 270, 280) and are still refusals, in its words.
#[test]
fn pushsafer_delivers_with_its_environment_names() {
    use mocks::pushsafer::{KEY, SPENT_KEY};
    let mock = Mock::service(mocks::pushsafer::api());
    let home = Sandbox::new()
        .env("PUSHSAFER_PRIVATE_KEY", KEY)
        .env("PUSHSAFER_DEVICE", "52")
        .env("PUSHSAFER_SOUND", "8")
        .env("PUSHSAFER_VIBRATION", "3")
        .env("PUSHSAFER_ICON", "25")
        .env("PUSHSAFER_PRIORITY", "high")
        .env("PUSHSAFER_API_URL", mock.url(""));
    send_ok(&home, &["send", "Backup", "done"], &[KEY]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    for (field, want) in [
        ("k", KEY),
        ("d", "52"),
        ("t", "Backup"),
        ("m", "done"),
        ("s", "8"),
        ("v", "3"),
        ("i", "25"),
        ("pr", "1"),
    ] {
        assert_eq!(reqs[0].form(field).as_deref(), Some(want), "{field}");
    }
    for (key, device, why) in [
        ("WrongWrongWrongWrong", "a", "status 0: invalid key"),
        (KEY, "77", "status 0: invalid device"),
        (SPENT_KEY, "a", "status 0: not enough API calls"),
    ] {
        let home = Sandbox::new()
            .env("PUSHSAFER_PRIVATE_KEY", key)
            .env("PUSHSAFER_DEVICE", device)
            .env("PUSHSAFER_API_URL", mock.url(""));
        let run = home.run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            failure_of(&run, "pushsafer").contains(&format!("rejected: {why}")),
            "{run:?}"
        );
        assert!(!run.all_output().contains(key));
    }
}

/// Apprise's `psafers://PRIVATEKEY/GROUP?priority=emergency`; a message over
/// Pushsafer's 5,000 characters arrives cut to fit.
#[test]
fn pushsafer_one_line_url_and_its_length_limit() {
    use mocks::pushsafer::KEY;
    let mock = Mock::service(mocks::pushsafer::api());
    let home = Sandbox::new().config(&format!(
        "[channels.ps]\nurl = \"psafers://{KEY}/gs23?priority=emergency&sound=0\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    let long = "x".repeat(6000);
    send_ok(&home, &["send", "T", &long], &[KEY]);
    let r = &mock.requests()[0];
    assert_eq!(r.form("d").as_deref(), Some("gs23"));
    assert_eq!(r.form("pr").as_deref(), Some("2"));
    assert_eq!(r.form("s").as_deref(), Some("0"));
    assert_eq!(r.form("m").unwrap().chars().count(), 5000);
}

// --- SIGNL4 ---------------------------------------------------------------

/// mcp-push's own `SIGNL4_TEAM_SECRET` (and `SIGNL4_API_URL`): the secret in
/// the webhook's path, kept out of the output; a wrong secret is SIGNL4's
/// 404, refused; a flooded webhook's 429 is kept for later.
#[test]
fn signl4_delivers_with_its_environment_names() {
    use mocks::signl4::{FLOODED, SECRET};
    let mock = Mock::service(mocks::signl4::api());
    let home = Sandbox::new()
        .env("SIGNL4_TEAM_SECRET", SECRET)
        .env("SIGNL4_API_URL", mock.url(""));
    send_ok(&home, &["send", "Disk full", "/var at 99%"], &[SECRET]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path(), format!("/webhook/{SECRET}"));
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({"Title": "Disk full", "Message": "/var at 99%", "X-S4-SourceSystem": "mcp-push"})
    );
    for (secret, code, line) in [
        ("wr0ngsecret", 1, "rejected: HTTP 404: Team not found."),
        (FLOODED, 3, "retrying  rate limited"),
    ] {
        let home = Sandbox::new()
            .env("SIGNL4_TEAM_SECRET", secret)
            .env("SIGNL4_API_URL", mock.url(""));
        let run = home.run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, code, "{run:?}");
        assert!(failure_of(&run, "signl4").contains(line), "{run:?}");
        assert!(!run.all_output().contains(secret));
    }
}

/// Apprise's `signl4://SECRET?service=…&alerting_scenario=…`; a run's
/// events share one alert, which its end resolves.
#[test]
fn signl4_one_line_url_and_a_runs_alert() {
    use mocks::signl4::SECRET;
    let mock = Mock::service(mocks::signl4::api());
    let home = Sandbox::new().config(&format!(
        "[channels.s4]\nurl = \"signl4://{SECRET}?service=Backup&alerting_scenario=multi_ack&filtering=true\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    for kind in ["start", "end"] {
        let run = home.run(&["event", "nightly-7", kind, "--wait", "0"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!run.all_output().contains(SECRET), "{run:?}");
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    for (r, status) in reqs.iter().zip(["new", "resolved"]) {
        let b = r.json();
        assert_eq!(b["X-S4-Service"], "Backup");
        assert_eq!(b["X-S4-AlertingScenario"], "multi_ack");
        assert_eq!(b["X-S4-Filtering"], true);
        assert_eq!(b["X-S4-ExternalID"], "mcp-push-nightly-7");
        assert_eq!(b["X-S4-Status"], status);
    }
}

// --- Splunk On-Call -------------------------------------------------------

/// mcp-push's own `SPLUNK_ONCALL_*` names: both keys in the path, kept out
/// of the output; a refusal is the endpoint's `result: failure`, in its
/// words.
#[test]
fn splunk_oncall_delivers_with_its_environment_names() {
    use mocks::splunk_oncall::{API_KEY, ROUTE};
    let mock = Mock::service(mocks::splunk_oncall::api());
    let home = Sandbox::new()
        .env("SPLUNK_ONCALL_API_KEY", API_KEY)
        .env("SPLUNK_ONCALL_ROUTING_KEY", ROUTE)
        .env("SPLUNK_ONCALL_ACTION", "critical")
        .env("SPLUNK_ONCALL_ENTITY_ID", "disk space/db01")
        .env("SPLUNK_ONCALL_API_URL", mock.url(""));
    send_ok(&home, &["send", "Disk low", "92% used"], &[API_KEY]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path(),
        format!("/integrations/generic/20131114/alert/{API_KEY}/{ROUTE}")
    );
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({
            "message_type": "CRITICAL", "entity_id": "disk space/db01",
            "entity_display_name": "Disk low", "state_message": "92% used",
            "monitoring_tool": "mcp-push",
        })
    );
    let wrong = "00000000-dead-beef-0000-000000000000";
    let home = Sandbox::new()
        .env("SPLUNK_ONCALL_API_KEY", wrong)
        .env("SPLUNK_ONCALL_ROUTING_KEY", ROUTE)
        .env("SPLUNK_ONCALL_API_URL", mock.url(""));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "splunk-oncall").contains("rejected: result failure: Invalid API key"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(wrong));
}

/// Apprise's `splunk://ROUTING_KEY@APIKEY`: a run is one incident, raised
/// by its error and resolved by its end.
#[test]
fn splunk_oncall_one_line_url_and_a_runs_incident() {
    use mocks::splunk_oncall::{API_KEY, ROUTE};
    let mock = Mock::service(mocks::splunk_oncall::api());
    let home = Sandbox::new().config(&format!(
        "[channels.oncall]\nurl = \"splunk://{ROUTE}@{API_KEY}\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    for kind in ["error", "end"] {
        let run = home.run(&["event", "deploy-9", kind, "--wait", "0"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!run.all_output().contains(API_KEY), "{run:?}");
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    for (r, want) in reqs.iter().zip(["CRITICAL", "RECOVERY"]) {
        let b = r.json();
        assert_eq!(b["message_type"], want);
        assert_eq!(b["entity_id"], "mcp-push/deploy-9");
    }
}

// --- Resend ---------------------------------------------------------------

/// `RESEND_API_KEY` (the name Resend's SDKs read) and mcp-push's own
/// `RESEND_*`: the key as a Bearer token, kept out of the output, the
/// recipients in one request with an idempotency key; a wrong key and an
/// unverified sender domain are refused in Resend's words.
#[test]
fn resend_delivers_with_its_environment_names() {
    use mocks::resend::KEY;
    let mock = Mock::service(mocks::resend::api());
    let home = Sandbox::new()
        .env("RESEND_API_KEY", KEY)
        .env("RESEND_FROM", "CI <noreply@example.com>")
        .env("RESEND_TO", "ops@example.com;dev@example.com")
        .env("RESEND_CC", "lead@example.com")
        .env("RESEND_API_URL", mock.url(""));
    send_ok(&home, &["send", "Backup", "done"], &[KEY]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0]
            .header("idempotency-key")
            .is_some_and(|k| k.starts_with("mcp-push/")),
        "{reqs:?}"
    );
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({
            "from": "CI <noreply@example.com>",
            "to": ["ops@example.com", "dev@example.com"],
            "subject": "Backup", "text": "done", "cc": ["lead@example.com"],
        })
    );
    for (key, from, line) in [
        (
            "re_wrongWrongWrong",
            "noreply@example.com",
            "rejected: HTTP 403: API key is invalid.",
        ),
        (
            KEY,
            "me@gmail.com",
            "rejected: HTTP 403: The gmail.com domain is not verified.",
        ),
    ] {
        let home = Sandbox::new()
            .env("RESEND_API_KEY", key)
            .env("RESEND_FROM", from)
            .env("RESEND_API_URL", mock.url(""));
        let run = home.run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(failure_of(&run, "resend").contains(line), "{run:?}");
        assert!(!run.all_output().contains(key));
    }
}

/// Apprise's `resend://APIKEY:FROM_USER@FROM_DOMAIN/TO?name=…`; an HTML
/// message goes as `html`.
#[test]
fn resend_one_line_url() {
    use mocks::resend::KEY;
    let mock = Mock::service(mocks::resend::api());
    let home = Sandbox::new().config(&format!(
        "[channels.mail]\nurl = \"resend://{KEY}:noreply@example.com/ops@example.com?name=CI%20Bot\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(
        &home,
        &["send", "--format", "html", "Report", "<b>3</b> failures"],
        &[KEY],
    );
    let b = mock.requests()[0].json();
    assert_eq!(b["from"], "CI Bot <noreply@example.com>");
    assert_eq!(b["to"], serde_json::json!(["ops@example.com"]));
    assert_eq!(b["html"], "<b>3</b> failures");
}

// --- Postmark -------------------------------------------------------------

/// mcp-push's own `POSTMARK_*` names: the server token in its header, kept
/// out of the output; a wrong token (ErrorCode 10) and an inactive recipient
/// (406) are refused in Postmark's words.
#[test]
fn postmark_delivers_with_its_environment_names() {
    use mocks::postmark::{INACTIVE, TOKEN};
    let mock = Mock::service(mocks::postmark::api());
    let home = Sandbox::new()
        .env("POSTMARK_SERVER_TOKEN", TOKEN)
        .env("POSTMARK_FROM", "CI <noreply@example.com>")
        .env("POSTMARK_TO", "ops@example.com, dev@example.com")
        .env("POSTMARK_MESSAGE_STREAM", "outbound")
        .env("POSTMARK_API_URL", mock.url(""));
    send_ok(&home, &["send", "Backup", "done"], &[TOKEN]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({
            "From": "CI <noreply@example.com>", "To": "ops@example.com,dev@example.com",
            "Subject": "Backup", "TextBody": "done", "MessageStream": "outbound",
        })
    );
    for (token, to, line) in [
        (
            "00000000-0000-0000-0000-000000000000",
            "ops@example.com",
            "rejected: ErrorCode 10: Bad or missing API token",
        ),
        (
            TOKEN,
            INACTIVE,
            "rejected: ErrorCode 406: Inactive recipient",
        ),
    ] {
        let home = Sandbox::new()
            .env("POSTMARK_SERVER_TOKEN", token)
            .env("POSTMARK_FROM", "noreply@example.com")
            .env("POSTMARK_TO", to)
            .env("POSTMARK_API_URL", mock.url(""));
        let run = home.run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(failure_of(&run, "postmark").contains(line), "{run:?}");
        assert!(!run.all_output().contains(token));
    }
}

/// Apprise's `postmark://APIKEY:FROM_USER@FROM_DOMAIN/TO?cc=…`.
#[test]
fn postmark_one_line_url() {
    use mocks::postmark::TOKEN;
    let mock = Mock::service(mocks::postmark::api());
    let home = Sandbox::new().config(&format!(
        "[channels.pm]\nurl = \"postmark://{TOKEN}:noreply@example.com/ops@example.com?cc=lead@example.com\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[TOKEN]);
    let b = mock.requests()[0].json();
    assert_eq!(b["From"], "noreply@example.com");
    assert_eq!(b["To"], "ops@example.com");
    assert_eq!(b["Cc"], "lead@example.com");
}

// --- Mastodon ------------------------------------------------------------

fn mastodon_home(mock: &Mock, token: &str) -> Sandbox {
    Sandbox::new()
        .env("MASTODON_URL", mock.url(""))
        .env("MASTODON_ACCESS_TOKEN", token)
        .env("MASTODON_VISIBILITY", "unlisted")
}

/// mcp-push's own `MASTODON_*` names: a form to `/api/v1/statuses` with
/// the token as Bearer and an `Idempotency-Key`, the token kept out of the
/// output; a token the instance does not know is its 401, a 429 is kept for
/// later; a status over 500 characters arrives cut to fit.
#[test]
fn mastodon_delivers_with_its_environment_names() {
    use mocks::mastodon::TOKEN;
    let mock = Mock::service(mocks::mastodon::api());
    send_ok(
        &mastodon_home(&mock, TOKEN),
        &["send", "Deploy", "done"],
        &[TOKEN],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.path(), "/api/v1/statuses");
    assert_eq!(r.form("status").as_deref(), Some("Deploy\n\ndone"));
    assert_eq!(r.form("visibility").as_deref(), Some("unlisted"));
    assert!(
        r.header("idempotency-key")
            .is_some_and(|k| k.starts_with("mcp-push-")),
        "{r:?}"
    );
    let run =
        mastodon_home(&mock, "wrongTokenValue0123456789").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "mastodon").contains("rejected: HTTP 401: The access token is invalid"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongTokenValue0123456789"));
    let run = mastodon_home(&mock, TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "mastodon").contains("retrying  rate limited"),
        "{run:?}"
    );
    send_ok(
        &mastodon_home(&mock, TOKEN),
        &["send", "", &"é".repeat(600)],
        &[TOKEN],
    );
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.form("status").unwrap().chars().count(), 500);
}

/// Apprise's `mastodon://TOKEN@HOST:PORT/@USER?visibility=` (http; `toots://`
/// and `mastodons://` are https): the account mentioned ahead of the text,
/// the token a secret.
#[test]
fn mastodon_one_line_url() {
    use mocks::mastodon::TOKEN;
    // Listed only: nothing is sent to mastodon.example.
    let listed = Sandbox::new().config(&format!(
        "[channels.t]\nurl = \"toots://{TOKEN}@mastodon.example\"\n"
    ));
    let run = listed.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all_output().contains(TOKEN), "{run:?}");
    let listing: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let t = listing["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "t")
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(t["plugin"], "mastodon");
    assert_eq!(
        t["settings"]["server"]
            .as_str()
            .map(|s| s.trim_end_matches('/')),
        Some("https://mastodon.example")
    );
    assert_eq!(t["settings"]["access_token"], "***");
    let mock = Mock::service(mocks::mastodon::api());
    let home = Sandbox::new().config(&format!(
        "[channels.m]\nurl = \"mastodon://{TOKEN}@{}/@ops?visibility=private\"\n",
        mock.addr
    ));
    send_ok(&home, &["send", "T", "B"], &[TOKEN]);
    let r = &mock.requests()[0];
    assert_eq!(r.form("status").as_deref(), Some("@ops T\n\nB"));
    assert_eq!(r.form("visibility").as_deref(), Some("private"));
}

// --- Misskey -------------------------------------------------------------

fn misskey_home(mock: &Mock, token: &str) -> Sandbox {
    Sandbox::new()
        .env("MK_URL", mock.url(""))
        .env("MK_TOKEN", token)
        .env("MK_VISIBILITY", "home")
}

/// mcp-push's own `MK_*` names: JSON to `/api/notes/create` with the token
/// as `i`, kept out of the output; a wrong token is Misskey's
/// `AUTHENTICATION_FAILED`, `RATE_LIMIT_EXCEEDED` is kept for later; a note
/// over 3,000 characters arrives cut to fit.
#[test]
fn misskey_delivers_with_its_environment_names() {
    use mocks::misskey::TOKEN;
    let mock = Mock::service(mocks::misskey::api());
    send_ok(
        &misskey_home(&mock, TOKEN),
        &["send", "Deploy", "done"],
        &[TOKEN],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.path(), "/api/notes/create");
    assert_eq!(
        r.json(),
        serde_json::json!({"i": TOKEN, "text": "Deploy\n\ndone", "visibility": "home"})
    );
    let run =
        misskey_home(&mock, "wrongTokenValue0123456789").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "misskey").contains(
            "rejected: HTTP 403: Authentication failed. Please ensure your token is correct."
        ),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongTokenValue0123456789"));
    let run = misskey_home(&mock, TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "misskey").contains("retrying  rate limited"),
        "{run:?}"
    );
    send_ok(
        &misskey_home(&mock, TOKEN),
        &["send", "", &"x".repeat(3500)],
        &[TOKEN],
    );
    let last = mock.requests().pop().unwrap().json();
    assert_eq!(last["text"].as_str().unwrap().chars().count(), 3000);
}

/// Apprise's `misskey://TOKEN@HOST:PORT?visibility=` (http; `misskeys://`
/// is https).
#[test]
fn misskey_one_line_url() {
    use mocks::misskey::TOKEN;
    let mock = Mock::service(mocks::misskey::api());
    let home = Sandbox::new().config(&format!(
        "[channels.mk]\nurl = \"misskey://{TOKEN}@{}/?visibility=followers\"\n",
        mock.addr
    ));
    send_ok(&home, &["send", "T", "B"], &[TOKEN]);
    let r = mock.requests()[0].json();
    assert_eq!(r["i"], TOKEN);
    assert_eq!(r["visibility"], "followers");
    assert_eq!(r["text"], "T\n\nB");
}

// --- SendGrid ------------------------------------------------------------

fn sendgrid_home(mock: &Mock, key: &str) -> Sandbox {
    Sandbox::new()
        .env("SENDGRID_API_KEY", key)
        .env("SENDGRID_FROM", "ci@example.com")
        .env("SENDGRID_TO", "ops@example.com;dev@example.com")
        .env("SENDGRID_API_URL", mock.url(""))
}

/// `SENDGRID_API_KEY` (the name SendGrid's docs use) and mcp-push's other
/// `SENDGRID_*` names: one Mail Send request, a personalization per
/// recipient, the key kept out of the output; a key SendGrid does not know
/// is its 401, a 429 is kept for later.
#[test]
fn sendgrid_delivers_with_its_environment_names() {
    use mocks::sendgrid::KEY;
    let mock = Mock::service(mocks::sendgrid::api());
    send_ok(
        &sendgrid_home(&mock, KEY),
        &["send", "Deploy", "done"],
        &[KEY],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.path(), "/v3/mail/send");
    assert_eq!(
        r.json(),
        serde_json::json!({
            "personalizations": [{"to": [{"email": "ops@example.com"}]},
                                 {"to": [{"email": "dev@example.com"}]}],
            "from": {"email": "ci@example.com"},
            "subject": "Deploy",
            "content": [{"type": "text/plain", "value": "done"}],
        })
    );
    let run =
        sendgrid_home(&mock, "SG.wrongKeyValue0123456789").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "sendgrid").contains(
            "rejected: HTTP 401: The provided authorization grant is invalid, expired, or revoked"
        ),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKeyValue0123456789"));
    let run = sendgrid_home(&mock, KEY).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "sendgrid").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `sendgrid://APIKEY:USER@DOMAIN/TO?cc=`: the sender from the
/// URL, the key a secret; an unverified sender is SendGrid's 400.
#[test]
fn sendgrid_one_line_url() {
    use mocks::sendgrid::KEY;
    let mock = Mock::service(mocks::sendgrid::api());
    let home = |from: &str| {
        Sandbox::new().config(&format!(
            "[channels.sg]\nurl = \"sendgrid://{KEY}:{from}/ops@example.com?cc=lead@example.com\"\n\
             api_url = \"{}\"\n",
            mock.url("")
        ))
    };
    send_ok(&home("ci@example.com"), &["send", "T", "B"], &[KEY]);
    let r = mock.requests()[0].json();
    assert_eq!(r["from"]["email"], "ci@example.com");
    assert_eq!(
        r["personalizations"],
        serde_json::json!([{"to": [{"email": "ops@example.com"}],
                            "cc": [{"email": "lead@example.com"}]}])
    );
    let run = home("someone@elsewhere.example").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "sg").contains("rejected: HTTP 400: The from address does not match"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
}

// --- Office 365 ----------------------------------------------------------

fn o365_home(mock: &Mock, secret: &str, from: &str, body_to: &str) -> Sandbox {
    use mocks::office365::{CLIENT_ID, TENANT};
    Sandbox::new()
        .env("O365_TENANT", TENANT)
        .env("O365_CLIENT_ID", CLIENT_ID)
        .env("O365_CLIENT_SECRET", secret)
        .env("O365_FROM", from)
        .env("O365_TO", body_to)
        .env("O365_LOGIN_URL", mock.url(""))
        .env("O365_GRAPH_URL", mock.url(""))
}

/// mcp-push's `O365_*` names: one client-credentials token (the secret in
/// the form to the token endpoint only), then a `sendMail` per recipient
/// with it; a wrong secret is Azure AD's AADSTS7000215, a settings error
/// that says to check it; an unknown mailbox is Graph's 404; a throttled
/// mail waits.
#[test]
fn office365_delivers_with_a_client_credentials_token() {
    use mocks::office365::{MAILBOX, SECRET, TENANT};
    let mock = Mock::service(mocks::office365::api());
    let home = o365_home(&mock, SECRET, MAILBOX, "ada@example.org;bob@example.org");
    send_ok(&home, &["send", "Deploy", "done"], &[SECRET]);
    let reqs = mock.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path()).collect();
    assert_eq!(
        paths,
        [
            format!("/{TENANT}/oauth2/v2.0/token").as_str(),
            "/v1.0/users/ops%40contoso.com/sendMail",
            "/v1.0/users/ops%40contoso.com/sendMail",
        ]
    );
    assert_eq!(
        reqs[1].json(),
        serde_json::json!({"message": {
            "subject": "Deploy",
            "body": {"contentType": "Text", "content": "done"},
            "toRecipients": [{"emailAddress": {"address": "ada@example.org"}}],
        }})
    );
    assert_eq!(
        reqs[2].json()["message"]["toRecipients"][0]["emailAddress"]["address"],
        "bob@example.org"
    );

    let run = o365_home(&mock, "not-the-secret-value", MAILBOX, "ada@example.org")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = failure_of(&run, "office365");
    assert!(
        line.contains("AADSTS7000215") && line.contains("check them"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("not-the-secret-value"));

    let run = o365_home(&mock, SECRET, "someone@contoso.com", "ada@example.org")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "office365")
            .contains("The requested user 'someone@contoso.com' is invalid"),
        "{run:?}"
    );

    let run = o365_home(&mock, SECRET, MAILBOX, "ada@example.org")
        .run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "office365").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `o365://SOURCE/TENANT/CLIENT_ID/SECRET/TO`, the secret a
/// secret setting (kept out of the output).
#[test]
fn office365_one_line_url() {
    use mocks::office365::{CLIENT_ID, SECRET, TENANT};
    let mock = Mock::service(mocks::office365::api());
    let home = Sandbox::new().config(&format!(
        "[channels.mail]\nurl = \"o365://ops@contoso.com/{TENANT}/{CLIENT_ID}/{SECRET}/ada@example.org\"\n\
         login_url = \"{0}\"\ngraph_url = \"{0}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[SECRET]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].json()["message"]["toRecipients"][0]["emailAddress"]["address"],
        "ada@example.org"
    );
}

// --- Mailgun -------------------------------------------------------------

fn mailgun_home(mock: &Mock, key: &str) -> Sandbox {
    Sandbox::new()
        .env("MAILGUN_API_KEY", key)
        .env("MAILGUN_DOMAIN", mocks::mailgun::DOMAIN)
        .env("MAILGUN_FROM", "CI <ci@mg.example.com>")
        .env("MAILGUN_TO", "ops@example.com,dev@example.com")
        .env("MAILGUN_API_URL", mock.url(""))
}

/// mcp-push's own `MAILGUN_*` names: a form per recipient to
/// `/v3/{domain}/messages` with Basic auth, the key kept out of the output;
/// a wrong key is Mailgun's 401, a 429 is kept for later.
#[test]
fn mailgun_delivers_with_its_environment_names() {
    use mocks::mailgun::KEY;
    let mock = Mock::service(mocks::mailgun::api());
    send_ok(
        &mailgun_home(&mock, KEY),
        &["send", "Deploy", "done"],
        &[KEY],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path(), "/v3/mg.example.com/messages");
    assert_eq!(
        reqs[0].form("from").as_deref(),
        Some("CI <ci@mg.example.com>")
    );
    assert_eq!(reqs[0].form("to").as_deref(), Some("ops@example.com"));
    assert_eq!(reqs[0].form("subject").as_deref(), Some("Deploy"));
    assert_eq!(reqs[0].form("text").as_deref(), Some("done"));
    assert_eq!(reqs[1].form("to").as_deref(), Some("dev@example.com"));
    let run =
        mailgun_home(&mock, "key-wrongKeyValue0123456789").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "mailgun").contains("rejected: HTTP 401: Forbidden"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKeyValue0123456789"));
    let run = mailgun_home(&mock, KEY).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "mailgun").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `mailgun://USER@DOMAIN/APIKEY/TO?name=`: the sender from the
/// URL, the key a secret; a domain Mailgun does not have is its 404.
#[test]
fn mailgun_one_line_url() {
    use mocks::mailgun::KEY;
    let mock = Mock::service(mocks::mailgun::api());
    let home = |domain: &str| {
        Sandbox::new().config(&format!(
            "[channels.mg]\nurl = \"mailgun://ci@{domain}/{KEY}/ops@example.com?name=CI\"\n\
             api_url = \"{}\"\n",
            mock.url("")
        ))
    };
    send_ok(&home("mg.example.com"), &["send", "T", "B"], &[KEY]);
    let r = &mock.requests()[0];
    assert_eq!(r.form("from").as_deref(), Some("CI <ci@mg.example.com>"));
    assert_eq!(r.form("to").as_deref(), Some("ops@example.com"));
    let run = home("mg.elsewhere.example").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "mg")
            .contains("rejected: HTTP 404: Domain not found: mg.elsewhere.example"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
}

// --- LaMetric ------------------------------------------------------------

/// mcp-push's own `LAMETRIC_*` names, a clock: a Notification object with
/// Basic auth `dev:KEY`, the key kept out of the output; a wrong key is the
/// clock's 401.
#[test]
fn lametric_delivers_to_a_clock_with_its_environment_names() {
    use mocks::lametric::KEY;
    let mock = Mock::service(mocks::lametric::api());
    let home = |key: &str| {
        Sandbox::new()
            .env("LAMETRIC_DEVICE", mock.url(""))
            .env("LAMETRIC_API_KEY", key)
            .env("LAMETRIC_ICON", "i620")
    };
    send_ok(
        &home(KEY),
        &["send", "--priority", "urgent", "Backup", "disk full"],
        &[KEY],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.path(), "/api/v2/device/notifications");
    assert_eq!(
        r.json(),
        serde_json::json!({
            "priority": "critical",
            "icon_type": "none",
            "model": {"frames": [{"text": "Backup", "icon": "i620"},
                                 {"text": "disk full", "icon": "i620"}],
                      "cycles": 1},
        })
    );
    let run = home("0000wrongKeyValue0123456789").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "lametric").contains("rejected: HTTP 401: Authorization is required"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKeyValue0123456789"));
}

/// Apprise's `lametric://APIKEY@HOST:PORT` (a clock) and
/// `lametric://APP_TOKEN@APP_ID/VERSION` (the cloud, its URL pointed at the
/// mock): both keys secrets.
#[test]
fn lametric_one_line_urls() {
    use mocks::lametric::{APP_ID, APP_TOKEN, KEY};
    let mock = Mock::service(mocks::lametric::api());
    let clock = Sandbox::new().config(&format!(
        "[channels.clock]\nurl = \"lametric://{KEY}@{}?priority=warning&sound=alarm3\"\n",
        mock.addr
    ));
    send_ok(&clock, &["send", "T", "B"], &[KEY]);
    let r = mock.requests()[0].json();
    assert_eq!(r["priority"], "warning");
    assert_eq!(
        r["model"]["sound"],
        serde_json::json!({"category": "alarms", "id": "alarm3", "repeat": 1})
    );
    let cloud = Sandbox::new().config(&format!(
        "[channels.app]\nurl = \"lametric://{APP_TOKEN}@{APP_ID}/1\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&cloud, &["send", "T", "B"], &[APP_TOKEN]);
    let r = &mock.requests()[1];
    assert_eq!(
        r.path(),
        format!("/api/v1/dev/widget/update/com.lametric.{APP_ID}/1")
    );
    assert_eq!(
        r.json(),
        serde_json::json!({"frames": [{"text": "T"}, {"text": "B"}]})
    );
}

// --- Notica --------------------------------------------------------------

/// `NOTICA_URL`, the URL users' `notica()` shell function posts to: the
/// message arrives as written (`&`, `=` and `+` included), the ID kept out
/// of the output; an ID no browser has open is refused.
#[test]
fn notica_delivers_with_its_environment_name() {
    use mocks::notica::ID;
    let mock = Mock::service(mocks::notica::api());
    let home = |id: &str| Sandbox::new().env("NOTICA_URL", mock.url(&format!("/?{id}")));
    send_ok(&home(ID), &["send", "Build 7", "a=1 & b+c 100%"], &[ID]);
    assert_eq!(
        mocks::notica::messages(&mock),
        vec!["Build 7\n\na=1 & b+c 100%".to_string()]
    );
    let run = home("nobody42").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "notica").contains("rejected: No devices have that Notica ID open."),
        "{run:?}"
    );
    assert!(!run.all_output().contains("nobody42"));
}

/// Apprise's `notica://HOST:PORT/ID` for a server of one's own: the ID in
/// the path, as the server's code reads it.
#[test]
fn notica_one_line_url() {
    use mocks::notica::ID;
    let mock = Mock::service(mocks::notica::api());
    let home = Sandbox::new().config(&format!(
        "[channels.n]\nurl = \"notica://{}/{ID}\"\n",
        mock.addr
    ));
    send_ok(&home, &["send", "T", "B"], &[ID]);
    assert_eq!(mock.requests()[0].path(), format!("/{ID}"));
    assert_eq!(mocks::notica::messages(&mock), vec!["T\n\nB".to_string()]);
}

// --- Nextcloud Talk ---------------------------------

fn nextcloud_talk_home(mock: &Mock, password: &str, rooms: &str) -> Sandbox {
    Sandbox::new()
        .env("NEXTCLOUD_TALK_URL", mock.url(""))
        .env("NEXTCLOUD_TALK_USER", mocks::nextcloud_talk::USER)
        .env("NEXTCLOUD_TALK_PASSWORD", password)
        .env("NEXTCLOUD_TALK_ROOMS", rooms)
}

/// mcp-push's own `NEXTCLOUD_TALK_*` names: one OCS request per
/// conversation, the app password kept out of the output; a wrong password
/// is the server's 401, a conversation the user is not in its 404, and a
/// 429 is kept for later.
#[test]
fn nextcloud_talk_delivers_with_its_environment_names() {
    use mocks::nextcloud_talk::{PASSWORD, PREFIX};
    let mock = Mock::service(mocks::nextcloud_talk::api());
    send_ok(
        &nextcloud_talk_home(&mock, PASSWORD, "abc123, def456"),
        &["send", "Deploy", "done"],
        &[PASSWORD],
    );
    let reqs = mock.requests();
    assert_eq!(
        mock.paths(),
        [format!("{PREFIX}abc123"), format!("{PREFIX}def456")]
    );
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({"message": "Deploy\n\ndone"})
    );
    let run = nextcloud_talk_home(&mock, "wrongPasswordValue0123", "abc123")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "nextcloud-talk")
            .contains("rejected: HTTP 401: Current user is not logged in"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongPasswordValue0123"));
    let run =
        nextcloud_talk_home(&mock, PASSWORD, "zzz999").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "nextcloud-talk").contains("rejected: HTTP 404"),
        "{run:?}"
    );
    let run = nextcloud_talk_home(&mock, PASSWORD, "abc123")
        .run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "nextcloud-talk").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `nctalk://USER:PASSWORD@HOST:PORT/ROOM` (http; `nctalks://`
/// is https), the password a secret; a message over Talk's 32,000
/// characters is cut to them, which the server takes.
#[test]
fn nextcloud_talk_one_line_url_and_its_length_limit() {
    use mocks::nextcloud_talk::{PASSWORD, PREFIX, USER};
    let mock = Mock::service(mocks::nextcloud_talk::api());
    let home = Sandbox::new().config(&format!(
        "[channels.talk]\nurl = \"nctalk://{USER}:{PASSWORD}@{}/def456?silent=yes\"\n",
        mock.addr
    ));
    send_ok(&home, &["send", "", &"x".repeat(33000)], &[PASSWORD]);
    let r = &mock.requests()[0];
    assert_eq!(r.path(), format!("{PREFIX}def456"));
    let sent = r.json();
    assert_eq!(sent["silent"], true);
    assert_eq!(sent["message"].as_str().unwrap().chars().count(), 32000);
}

// --- Revolt ---

fn revolt_home(mock: &Mock, token: &str, channels: &str) -> Sandbox {
    Sandbox::new()
        .env("REVOLT_BOT_TOKEN", token)
        .env("REVOLT_CHANNELS", channels)
        .env("REVOLT_API_URL", mock.url(""))
}

/// mcp-push's own `REVOLT_*` names: a message per channel with the token in
/// `x-bot-token`, kept out of the output; an unknown token is Revolt's 401
/// `InvalidSession`, an unknown channel its 404, and a 429 is kept for
/// later.
#[test]
fn revolt_delivers_with_its_environment_names() {
    use mocks::revolt::{CHANNELS, TOKEN};
    let mock = Mock::service(mocks::revolt::api());
    send_ok(
        &revolt_home(&mock, TOKEN, &CHANNELS.join(",")),
        &["send", "Deploy", "done"],
        &[TOKEN],
    );
    let reqs = mock.requests();
    assert_eq!(
        mock.paths(),
        CHANNELS
            .iter()
            .map(|c| format!("/channels/{c}/messages"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        reqs[1].json(),
        serde_json::json!({"content": "**Deploy**\ndone"})
    );
    let run = revolt_home(&mock, "wrongBotTokenValue0123", CHANNELS[0])
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "revolt").contains("rejected: HTTP 401: InvalidSession"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongBotTokenValue0123"));
    let run = revolt_home(&mock, TOKEN, "01HZNOSUCHCHANNEL000000000")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "revolt").contains("rejected: HTTP 404: UnknownChannel"),
        "{run:?}"
    );
    let run = revolt_home(&mock, TOKEN, CHANNELS[0]).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "revolt").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `revolt://BOT_TOKEN/CHANNEL?icon_url=` (an embed), the token
/// a secret; over 2,000 characters the description is cut to fit, which
/// Revolt takes.
#[test]
fn revolt_one_line_url_and_its_length_limit() {
    use mocks::revolt::{CHANNELS, TOKEN};
    let mock = Mock::service(mocks::revolt::api());
    let home = Sandbox::new().config(&format!(
        "[channels.rv]\nurl = \"revolt://{TOKEN}/{}?icon_url=https://x.example/i.png\"\n\
         api_url = \"{}\"\n",
        CHANNELS[1],
        mock.url("")
    ));
    send_ok(&home, &["send", "Backup", &"x".repeat(2500)], &[TOKEN]);
    let r = &mock.requests()[0];
    assert_eq!(r.path(), format!("/channels/{}/messages", CHANNELS[1]));
    let embed = &r.json()["embeds"][0];
    assert_eq!(embed["title"], "Backup");
    assert_eq!(embed["icon_url"], "https://x.example/i.png");
    assert_eq!(embed["description"].as_str().unwrap().chars().count(), 2000);
}

// --- Guilded ---

/// mcp-push's own `GUILDED_*` names: Discord-compatible JSON to the
/// webhook's URL, its token kept out of the output; a webhook Guilded does
/// not know is its 404, a 429 waits, and over 2,000 characters the content
/// is cut to fit.
#[test]
fn guilded_delivers_with_its_environment_names() {
    use mocks::guilded::{ID, TOKEN};
    let mock = Mock::service(mocks::guilded::api());
    let home = |token: &str| {
        Sandbox::new()
            .env(
                "GUILDED_WEBHOOK_URL",
                mock.url(&format!("/webhooks/{ID}/{token}")),
            )
            .env("GUILDED_USERNAME", "CI")
    };
    send_ok(&home(TOKEN), &["send", "Deploy", "done"], &[TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"content": "**Deploy**\ndone", "username": "CI"})
    );
    let run = home("wrongWebhookToken0123").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "guilded").contains("rejected: HTTP 404: Webhook not found"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongWebhookToken0123"));
    let run = home(TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "guilded").contains("retrying  rate limited"),
        "{run:?}"
    );
    send_ok(&home(TOKEN), &["send", "", &"x".repeat(2500)], &[TOKEN]);
    let last = mock.requests().pop().unwrap().json();
    assert_eq!(last["content"].as_str().unwrap().chars().count(), 2000);
}

/// Apprise's `guilded://ID/TOKEN`: a channel aimed at Guilded's webhook
/// host, its webhook URL a secret.
#[test]
fn guilded_one_line_url() {
    use mocks::guilded::{ID, TOKEN};
    let home = Sandbox::new().config(&format!(
        "[channels.gd]\nurl = \"guilded://CI@{ID}/{TOKEN}\"\n"
    ));
    let run = home.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all_output().contains(TOKEN), "{run:?}");
    let listing: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let c = listing["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gd")
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(c["plugin"], "guilded");
    assert_eq!(
        c["settings"],
        serde_json::json!({"webhook_url": "***", "username": "CI"})
    );
    assert_eq!(c["allowed_hosts"][0], "media.guilded.gg");
}

// --- Flock ---

fn flock_home(mock: &Mock, token: &str) -> Sandbox {
    Sandbox::new()
        .env("FLOCK_TOKEN", token)
        .env("FLOCK_API_URL", mock.url(""))
}

/// mcp-push's own `FLOCK_*` names: FlockML to the incoming webhook, its
/// token kept out of the output; a token Flock does not know is its 401.
#[test]
fn flock_delivers_to_a_webhook_with_its_environment_names() {
    use mocks::flock::HOOK;
    let mock = Mock::service(mocks::flock::api());
    send_ok(
        &flock_home(&mock, HOOK),
        &["send", "Deploy", "a & b"],
        &[HOOK],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.path(), format!("/hooks/sendMessage/{HOOK}"));
    assert_eq!(
        r.json(),
        serde_json::json!({"flockml": "<flockml><b>Deploy</b><br/>a &amp; b</flockml>"})
    );
    let run = flock_home(&mock, "wrongHookToken0123").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "flock").contains("rejected: HTTP 401: Unauthorized"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongHookToken0123"));
}

/// Apprise's `flock://BOTNAME@TOKEN/TARGETS`: `chat.sendMessage` once per
/// user or group with the bot's token; a wrong token is Flock's 403
/// `InvalidToken`, a 429 `TooManyRequests` is kept for later.
#[test]
fn flock_one_line_url_with_a_bot_and_targets() {
    use mocks::flock::BOT;
    let mock = Mock::service(mocks::flock::api());
    let home = |token: &str| {
        Sandbox::new().config(&format!(
            "[channels.fl]\nurl = \"flock://CI@{token}/@513a9f4ae409/%23ops_42\"\napi_url = \"{}\"\n",
            mock.url("")
        ))
    };
    send_ok(&home(BOT), &["send", "T", "B"], &[BOT]);
    let reqs = mock.requests();
    assert_eq!(
        reqs.iter()
            .map(|r| r.form("to").unwrap())
            .collect::<Vec<_>>(),
        ["u:513a9f4ae409", "g:ops_42"]
    );
    assert_eq!(reqs[0].form("sendAs").as_deref(), Some(r#"{"name":"CI"}"#));
    let run = home("wrongBotToken0123").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "fl").contains(
            "rejected: HTTP 403: An invalid user authentication token was sent with the request"
        ),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongBotToken0123"));
    let run = home(BOT).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "fl").contains("retrying  rate limited"),
        "{run:?}"
    );
}

// --- Ryver ---

/// mcp-push's own `RYVER_*` names: the Ryver payload (Markdown `body`, the
/// sender in `createSource`) to the webhook's URL, its token kept out of the
/// output; a Slack-format webhook gets Slack's `text`; an unknown token is
/// refused and a 429 kept for later.
#[test]
fn ryver_delivers_with_its_environment_names() {
    use mocks::ryver::{SLACK_TOKEN, TOKEN};
    let mock = Mock::service(mocks::ryver::api());
    let home = |token: &str| {
        Sandbox::new()
            .env(
                "RYVER_WEBHOOK_URL",
                mock.url(&format!("/application/webhook/{token}")),
            )
            .env("RYVER_NAME", "CI")
    };
    send_ok(&home(TOKEN), &["send", "Deploy", "a & b"], &[TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"body": "**Deploy**\na & b", "createSource": {"displayName": "CI"}})
    );
    send_ok(
        &home(SLACK_TOKEN).env("RYVER_MODE", "slack"),
        &["send", "Deploy", "a & b"],
        &[SLACK_TOKEN],
    );
    assert_eq!(
        mock.requests()[1].json(),
        serde_json::json!({"text": "*Deploy*\na &amp; b", "username": "CI"})
    );
    let run = home("wrongToken01234").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "ryver").contains("rejected: HTTP 404"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongToken01234"));
    let run = home(TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "ryver").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `ryver://BOTNAME@ORGANIZATION/TOKEN?mode=slack`: a channel
/// aimed at the organization's host, its webhook URL a secret.
#[test]
fn ryver_one_line_url() {
    use mocks::ryver::TOKEN;
    let home = Sandbox::new().config(&format!(
        "[channels.rv]\nurl = \"ryver://CI@apprise/{TOKEN}?mode=slack\"\n"
    ));
    let run = home.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all_output().contains(TOKEN), "{run:?}");
    let listing: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let c = listing["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rv")
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(c["plugin"], "ryver");
    assert_eq!(
        c["settings"],
        serde_json::json!({"webhook_url": "***", "mode": "slack", "name": "CI"})
    );
    assert_eq!(
        c["allowed_hosts"],
        serde_json::json!(["apprise.ryver.com:443", "*.ryver.com"])
    );
}

// --- SimplePush ---

/// mcp-push's own `SIMPLEPUSH_*` names: the documented form with the key
/// (kept out of the output), title, msg and event; a key SimplePush does not
/// know is refused in its words, a 429 kept for later, and a body over
/// 10,000 characters cut to them.
#[test]
fn simplepush_delivers_with_its_environment_names() {
    use mocks::simplepush::KEY;
    let mock = Mock::service(mocks::simplepush::api());
    let home = |key: &str| {
        Sandbox::new()
            .env("SIMPLEPUSH_KEY", key)
            .env("SIMPLEPUSH_EVENT", "deploy")
            .env("SIMPLEPUSH_API_URL", mock.url(""))
    };
    send_ok(&home(KEY), &["send", "Deploy", "done"], &[KEY]);
    let r = &mock.requests()[0];
    assert_eq!(r.form("title").as_deref(), Some("Deploy"));
    assert_eq!(r.form("msg").as_deref(), Some("done"));
    assert_eq!(r.form("event").as_deref(), Some("deploy"));
    let run = home("wrongKey0123").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "simplepush").contains("rejected: status error: Invalid key"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKey0123"));
    let run = home(KEY).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "simplepush").contains("retrying  rate limited"),
        "{run:?}"
    );
    send_ok(&home(KEY), &["send", "T", &"x".repeat(12000)], &[KEY]);
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.form("msg").unwrap().chars().count(), 10000);
}

/// Apprise's `spush://KEY?event=`, the key a secret; its encrypted form
/// `spush://SALT:PASSWORD@KEY` is refused, not sent in clear.
#[test]
fn simplepush_one_line_url() {
    use mocks::simplepush::KEY;
    let mock = Mock::service(mocks::simplepush::api());
    let home = |url: &str| {
        Sandbox::new().config(&format!(
            "[channels.sp]\nurl = \"{url}\"\napi_url = \"{}\"\n",
            mock.url("")
        ))
    };
    send_ok(
        &home(&format!("spush://{KEY}?event=ci")),
        &["send", "T", "B"],
        &[KEY],
    );
    assert_eq!(mock.requests()[0].form("event").as_deref(), Some("ci"));
    let run = home(&format!("spush://salt:pw@{KEY}")).run(&["send", "--wait", "0", "T", "B"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.all_output().contains("encryption is not supported"),
        "{run:?}"
    );
    assert_eq!(mock.requests().len(), 1);
}

// --- Join ---

/// mcp-push's own `JOIN_*` names: `sendPush` once per target with the
/// documented parameters, the key kept out of the output; a key Join does
/// not know is refused in its words, a 429 kept for later, and a text over
/// 1,000 characters cut to them.
#[test]
fn join_delivers_with_its_environment_names() {
    use mocks::join::{KEY, PATH};
    let mock = Mock::service(mocks::join::api());
    let home = |key: &str| {
        Sandbox::new()
            .env("JOIN_API_KEY", key)
            .env("JOIN_DEVICES", "group.phone,Nexus")
            .env("JOIN_API_URL", mock.url(""))
    };
    send_ok(
        &home(KEY),
        &["send", "--priority", "high", "Deploy", "done"],
        &[KEY],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path(), PATH);
    assert_eq!(reqs[0].query("deviceId").as_deref(), Some("group.phone"));
    assert_eq!(reqs[1].query("deviceNames").as_deref(), Some("Nexus"));
    assert_eq!(reqs[1].query("title").as_deref(), Some("Deploy"));
    assert_eq!(reqs[1].query("text").as_deref(), Some("done"));
    assert_eq!(reqs[1].query("priority").as_deref(), Some("1"));
    let run = home("00000000000000000000wrongkey0000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "join").contains("rejected: success false: User Not Authenticated"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongkey"));
    let run = home(KEY).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "join").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `join://APIKEY/DEVICE?priority=`: the key a secret, a
/// 32-character id a `deviceId`; a text over 1,000 characters is cut.
#[test]
fn join_one_line_url_and_its_length_limit() {
    use mocks::join::KEY;
    let mock = Mock::service(mocks::join::api());
    let device = "0123456789abcdef0123456789abcdef";
    let home = Sandbox::new().config(&format!(
        "[channels.jn]\nurl = \"join://{KEY}/{device}?priority=emergency\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", &"x".repeat(1500)], &[KEY]);
    let r = &mock.requests()[0];
    assert_eq!(r.query("deviceId").as_deref(), Some(device));
    assert_eq!(r.query("priority").as_deref(), Some("2"));
    assert_eq!(r.query("text").unwrap().chars().count(), 1000);
}

// --- Pushy ---

fn pushy_home(mock: &Mock, key: &str) -> Sandbox {
    Sandbox::new()
        .env("PUSHY_API_KEY", key)
        .env("PUSHY_TO", "@a6345d0278adc55d3474f5,#news")
        .env("PUSHY_API_URL", mock.url(""))
}

/// mcp-push's own `PUSHY_*` names: devices and topics in a request each,
/// the key (in `?api_key=`) kept out of the output; a key Pushy does not
/// know is its 401, a 429 is kept for later.
#[test]
fn pushy_delivers_with_its_environment_names() {
    use mocks::pushy::KEY;
    let mock = Mock::service(mocks::pushy::api());
    send_ok(&pushy_home(&mock, KEY), &["send", "Deploy", "done"], &[KEY]);
    let reqs = mock.requests();
    assert_eq!(
        reqs[0].json()["to"],
        serde_json::json!(["a6345d0278adc55d3474f5"])
    );
    assert_eq!(reqs[1].json()["to"], serde_json::json!(["/topics/news"]));
    assert_eq!(
        reqs[1].json()["data"],
        serde_json::json!({"title": "Deploy", "message": "done"})
    );
    let run = pushy_home(&mock, "wrongApiKey0123").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "pushy")
            .contains("rejected: HTTP 401: The API key you provided is invalid."),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongApiKey0123"));
    let run = pushy_home(&mock, KEY).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "pushy").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `pushy://APIKEY/#TOPIC?sound=`: the key a secret; a long
/// message is cut so that `data` stays within Pushy's 4 KB, which Pushy
/// takes.
#[test]
fn pushy_one_line_url_and_its_length_limit() {
    use mocks::pushy::KEY;
    let mock = Mock::service(mocks::pushy::api());
    let home = Sandbox::new().config(&format!(
        "[channels.py]\nurl = \"pushy://{KEY}/%23alerts?sound=ping.aiff\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", &"x".repeat(6000)], &[KEY]);
    let b = mock.requests()[0].json();
    assert_eq!(b["to"], serde_json::json!(["/topics/alerts"]));
    assert_eq!(b["notification"]["sound"], "ping.aiff");
    let data = b["data"].to_string().len();
    assert!((4000..=4096).contains(&data), "{data}");
}

// --- OneSignal ---

fn onesignal_home(mock: &Mock, key: &str) -> Sandbox {
    Sandbox::new()
        .env("ONESIGNAL_APP_ID", mocks::onesignal::APP)
        .env("ONESIGNAL_API_KEY", key)
        .env(
            "ONESIGNAL_SUBSCRIPTION_IDS",
            mocks::onesignal::SUBSCRIBED.join(","),
        )
        .env("ONESIGNAL_SEGMENTS", "Active Users")
        .env("ONESIGNAL_API_URL", mock.url(""))
}

/// The `ONESIGNAL_*` names: a request per kind of target with `Key` and the
/// App API key, the key and the App ID kept out of the output; a wrong key
/// is OneSignal's 403, nobody subscribed a refusal in its words, and a 429
/// is kept for later.
#[test]
fn onesignal_delivers_with_its_environment_names() {
    use mocks::onesignal::{APP, KEY, SUBSCRIBED};
    let mock = Mock::service(mocks::onesignal::api());
    send_ok(
        &onesignal_home(&mock, KEY),
        &["send", "Deploy", "done"],
        &[KEY, APP],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].query("c").as_deref(), Some("push"));
    let first = reqs[0].json();
    assert_eq!(
        first["include_subscription_ids"],
        serde_json::json!(SUBSCRIBED)
    );
    assert_eq!(first["headings"], serde_json::json!({"en": "Deploy"}));
    assert_eq!(first["contents"], serde_json::json!({"en": "done"}));
    assert_eq!(
        reqs[1].json()["included_segments"],
        serde_json::json!(["Active Users"])
    );
    let run = onesignal_home(&mock, "os_v2_app_wrongKeyValue0123")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "onesignal").contains("rejected: HTTP 403: Access denied."),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKeyValue0123"));
    let nobody = Sandbox::new()
        .env("ONESIGNAL_APP_ID", APP)
        .env("ONESIGNAL_API_KEY", KEY)
        .env("ONESIGNAL_EXTERNAL_IDS", "bob")
        .env("ONESIGNAL_API_URL", mock.url(""));
    let run = nobody.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "onesignal").contains("All included players are not subscribed"),
        "{run:?}"
    );
    let run = onesignal_home(&mock, KEY).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "onesignal").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `onesignal://APP_ID@API_KEY/@USER?lang=de` with a legacy REST
/// key (sent as `Basic`): the user by its external id alias, the key a
/// secret.
#[test]
fn onesignal_one_line_url() {
    use mocks::onesignal::{APP, LEGACY};
    let mock = Mock::service(mocks::onesignal::api());
    let home = Sandbox::new().config(&format!(
        "[channels.os]\nurl = \"onesignal://{APP}@{LEGACY}/%40alice?lang=de\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[LEGACY]);
    let b = mock.requests()[0].json();
    assert_eq!(
        b["include_aliases"],
        serde_json::json!({"external_id": ["alice"]})
    );
    assert_eq!(b["target_channel"], "push");
    assert_eq!(b["contents"], serde_json::json!({"de": "B"}));
}

// --- SMS and voice -----------------------------------
// Twilio

fn twilio_home(mock: &Mock, token: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("TWILIO_ACCOUNT_SID", mocks::twilio::SID)
        .env("TWILIO_AUTH_TOKEN", token)
        .env("TWILIO_FROM", "+1 555 010 0100")
        .env("TWILIO_TO", to)
        .env("TWILIO_API_URL", mock.url(""))
}

/// `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` (Twilio's own names) with
/// mcp-push's `TWILIO_FROM` and `TWILIO_TO`: a message per recipient, the
/// body cut under Twilio's 1,600 characters, the SID and token kept out of
/// the output; a wrong token (20003), an unverified number (21608) and a
/// 429 (20429) each end as Twilio says.
#[test]
fn twilio_delivers_with_its_environment_names() {
    use mocks::twilio::{SID, TOKEN};
    let mock = Mock::service(mocks::twilio::api());
    let to = "+15550100123; +44 7700 900000";
    send_ok(
        &twilio_home(&mock, TOKEN, to),
        &["send", "Deploy", "done"],
        &[SID, TOKEN],
    );
    assert_eq!(
        mocks::twilio::bodies(&mock),
        vec![
            ("+15550100123".to_string(), "Deploy\n\ndone".to_string()),
            ("+447700900000".to_string(), "Deploy\n\ndone".to_string()),
        ]
    );
    assert_eq!(
        mock.requests()[0].form("From").as_deref(),
        Some("+15550100100")
    );
    let long = "word ".repeat(500);
    send_ok(
        &twilio_home(&mock, TOKEN, "+15550100123"),
        &["send", "T", &long],
        &[SID, TOKEN],
    );
    let (_, body) = mocks::twilio::bodies(&mock).pop().unwrap();
    assert_eq!(body.chars().count(), 1600);
    assert!(body.ends_with("..."));

    let run = twilio_home(&mock, "0000wrongtoken0000", to).run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "twilio").contains("rejected: HTTP 401 (Twilio 20003): Authenticate"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("0000wrongtoken0000"));
    let run = twilio_home(&mock, TOKEN, "+15550190000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "twilio")
            .contains("(Twilio 21608): The number +15550190000 is unverified"),
        "{run:?}"
    );
    let run = twilio_home(&mock, TOKEN, to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "twilio").contains("retrying  rate limited"),
        "{run:?}"
    );
    for secret in [SID, TOKEN] {
        assert!(!run.all_output().contains(secret));
    }
}

/// Apprise's `twilio://SID:TOKEN@FROM/TO` and its WhatsApp form: the SID
/// and token secrets, the numbers in E.164.
#[test]
fn twilio_one_line_urls() {
    use mocks::twilio::{SID, TOKEN};
    let mock = Mock::service(mocks::twilio::api());
    let home = |url: &str| {
        Sandbox::new().config(&format!(
            "[channels.sms]\nurl = \"{url}\"\napi_url = \"{}\"\n",
            mock.url("")
        ))
    };
    send_ok(
        &home(&format!("twilio://{SID}:{TOKEN}@15550100100/15550100123")),
        &["send", "T", "B"],
        &[SID, TOKEN],
    );
    send_ok(
        &home(&format!(
            "twilio://{SID}:{TOKEN}@?from=whatsapp:15550100100&to=15550100124"
        )),
        &["send", "T", "B"],
        &[SID, TOKEN],
    );
    let reqs = mock.requests();
    assert_eq!(reqs[0].form("From").as_deref(), Some("+15550100100"));
    assert_eq!(reqs[0].form("To").as_deref(), Some("+15550100123"));
    assert_eq!(
        reqs[1].form("From").as_deref(),
        Some("whatsapp:+15550100100")
    );
    assert_eq!(reqs[1].form("To").as_deref(), Some("whatsapp:+15550100124"));
    assert_eq!(reqs[1].form("Body").as_deref(), Some("T\n\nB"));
}

// Vonage

fn vonage_home(mock: &Mock, secret: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("VONAGE_API_KEY", mocks::vonage::KEY)
        .env("VONAGE_API_SECRET", secret)
        .env("VONAGE_FROM", "AcmeCI")
        .env("VONAGE_TO", to)
        .env("VONAGE_API_URL", mock.url(""))
}

/// `VONAGE_API_KEY` and `VONAGE_API_SECRET` (Vonage's own names): a form
/// per recipient, the numbers as digits, a non-GSM text as `unicode`, the
/// key and secret kept out of the output; the 200s whose `status` says no
/// (4 credentials, 29 a demo account's destination, 1 throttled) end as
/// Vonage says.
#[test]
fn vonage_delivers_with_its_environment_names() {
    use mocks::vonage::{KEY, SECRET};
    let mock = Mock::service(mocks::vonage::api());
    let to = "+1 555 010 0123, +86 138 0013 8000";
    send_ok(
        &vonage_home(&mock, SECRET, to),
        &["send", "Deploy", "done"],
        &[KEY, SECRET],
    );
    send_ok(
        &vonage_home(&mock, SECRET, "+8613800138000"),
        &["send", "部署", "完成"],
        &[KEY, SECRET],
    );
    assert_eq!(
        mocks::vonage::texts(&mock),
        vec![
            (
                "15550100123".to_string(),
                "Deploy\n\ndone".to_string(),
                None
            ),
            (
                "8613800138000".to_string(),
                "Deploy\n\ndone".to_string(),
                None
            ),
            (
                "8613800138000".to_string(),
                "部署\n\n完成".to_string(),
                Some("unicode".to_string())
            ),
        ]
    );
    assert_eq!(mock.requests()[0].form("from").as_deref(), Some("AcmeCI"));
    let run = vonage_home(&mock, "WrongSecret0000", to).run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "vonage").contains("rejected: status 4: Bad Credentials"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("WrongSecret0000"));
    let run = vonage_home(&mock, SECRET, "+15550190000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "vonage").contains("rejected: status 29: Non White-listed Destination"),
        "{run:?}"
    );
    let run = vonage_home(&mock, SECRET, to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "vonage").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(SECRET));
}

/// Apprise's `vonage://KEY:SECRET@FROM/TO` and the older `nexmo://`.
#[test]
fn vonage_one_line_urls() {
    use mocks::vonage::{KEY, SECRET};
    let mock = Mock::service(mocks::vonage::api());
    for scheme in ["vonage", "nexmo"] {
        let home = Sandbox::new().config(&format!(
            "[channels.sms]\nurl = \"{scheme}://{KEY}:{SECRET}@15550100100/15550100123\"\n\
             api_url = \"{}\"\n",
            mock.url("")
        ));
        send_ok(&home, &["send", "T", "B"], &[KEY, SECRET]);
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.form("from").as_deref(), Some("15550100100"));
        assert_eq!(r.form("to").as_deref(), Some("15550100123"));
        assert_eq!(r.form("text").as_deref(), Some("T\n\nB"));
    }
}

// Plivo

fn plivo_home(mock: &Mock, token: &str) -> Sandbox {
    Sandbox::new()
        .env("PLIVO_AUTH_ID", mocks::plivo::ID)
        .env("PLIVO_AUTH_TOKEN", token)
        .env("PLIVO_FROM", "+1 555 010 0100")
        .env("PLIVO_TO", "+15550100123;+447700900000")
        .env("PLIVO_API_URL", mock.url(""))
}

/// `PLIVO_AUTH_ID` and `PLIVO_AUTH_TOKEN` (Plivo's own names): one request
/// for every recipient (`dst` joined with `<`), a UCS-2 text cut under
/// Plivo's 737, the credentials kept out of the output; a wrong token is
/// Plivo's 401, a 429 is kept for later.
#[test]
fn plivo_delivers_with_its_environment_names() {
    use mocks::plivo::{ID, TOKEN};
    let mock = Mock::service(mocks::plivo::api());
    send_ok(
        &plivo_home(&mock, TOKEN),
        &["send", "Deploy", "done"],
        &[ID, TOKEN],
    );
    let wide = "完成".repeat(400);
    send_ok(
        &plivo_home(&mock, TOKEN),
        &["send", "部署", &wide],
        &[ID, TOKEN],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({"src": "15550100100", "dst": "15550100123<447700900000",
                           "text": "Deploy\n\ndone"})
    );
    let text = reqs[1].json()["text"].as_str().unwrap().to_string();
    assert_eq!(text.encode_utf16().count(), 737);
    let run = plivo_home(&mock, "WrongToken00000000000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "plivo").contains("rejected: HTTP 401: authentication_failed"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("WrongToken00000000000"));
    let run = plivo_home(&mock, TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "plivo").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(TOKEN));
}

/// Apprise's `plivo://AUTH_ID@AUTH_TOKEN/FROM/TO`: the host is the token.
#[test]
fn plivo_one_line_url() {
    use mocks::plivo::{ID, TOKEN};
    let mock = Mock::service(mocks::plivo::api());
    let home = Sandbox::new().config(&format!(
        "[channels.sms]\nurl = \"plivo://{ID}@{TOKEN}/15550100100/15550100123/15550100124\"\n\
         api_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[ID, TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"src": "15550100100", "dst": "15550100123<15550100124", "text": "T\n\nB"})
    );
}

// Sinch

fn sinch_home(mock: &Mock, token: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("SINCH_SERVICE_PLAN_ID", mocks::sinch::PLAN)
        .env("SINCH_API_TOKEN", token)
        .env("SINCH_FROM", "+1 555 010 0100")
        .env("SINCH_TO", to)
        .env("SINCH_API_URL", mock.url(""))
}

/// mcp-push's `SINCH_*` names: one batch with every recipient, the body cut
/// under Sinch's 2,000 characters, the plan and token kept out of the
/// output; a wrong token is Sinch's 401, a number Sinch will not text its
/// 403 in its words, a 429 is kept for later.
#[test]
fn sinch_delivers_with_its_environment_names() {
    use mocks::sinch::{PLAN, TOKEN};
    let mock = Mock::service(mocks::sinch::api());
    let to = "+15550100123; +44 7700 900000";
    send_ok(
        &sinch_home(&mock, TOKEN, to),
        &["send", "Deploy", "done"],
        &[PLAN, TOKEN],
    );
    let long = "word ".repeat(500);
    send_ok(
        &sinch_home(&mock, TOKEN, to),
        &["send", "T", &long],
        &[PLAN, TOKEN],
    );
    let reqs = mock.requests();
    assert_eq!(reqs[0].path(), format!("/xms/v1/{PLAN}/batches"));
    assert_eq!(
        reqs[0].json(),
        serde_json::json!({"from": "+15550100100", "to": ["+15550100123", "+447700900000"],
                           "body": "Deploy\n\ndone"})
    );
    let body = reqs[1].json()["body"].as_str().unwrap().to_string();
    assert_eq!(body.chars().count(), 2000);
    assert!(body.ends_with("..."));
    let run = sinch_home(&mock, "0000wrongtoken0000", to).run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "sinch").contains("rejected: HTTP 401: an empty body"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("0000wrongtoken0000"));
    let run = sinch_home(&mock, TOKEN, "+15550190000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "sinch").contains("rejected: HTTP 403: Illegal number type: +15550190000"),
        "{run:?}"
    );
    let run = sinch_home(&mock, TOKEN, to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "sinch").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(TOKEN));
}

/// Apprise's `sinch://SERVICE_PLAN_ID:API_TOKEN@FROM/TO?region=`.
#[test]
fn sinch_one_line_url() {
    use mocks::sinch::{PLAN, TOKEN};
    let mock = Mock::service(mocks::sinch::api());
    let home = Sandbox::new().config(&format!(
        "[channels.sms]\nurl = \"sinch://{PLAN}:{TOKEN}@15550100100/15550100123?region=eu\"\n\
         api_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[PLAN, TOKEN]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"from": "+15550100100", "to": ["+15550100123"], "body": "T\n\nB"})
    );
}

// ClickSend

fn clicksend_home(mock: &Mock, key: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("CLICKSEND_USERNAME", mocks::clicksend::USERNAME)
        .env("CLICKSEND_API_KEY", key)
        .env("CLICKSEND_TO", to)
        .env("CLICKSEND_API_URL", mock.url(""))
}

/// mcp-push's `CLICKSEND_*` names: one request with a message per
/// recipient, the key kept out of the output; every message refused is a
/// refusal naming them, some refused a delivery; a wrong key is ClickSend's
/// 401, a 429 is kept for later.
#[test]
fn clicksend_delivers_with_its_environment_names() {
    use mocks::clicksend::KEY;
    let mock = Mock::service(mocks::clicksend::api());
    send_ok(
        &clicksend_home(&mock, KEY, "+15550100123; +15550190000"),
        &["send", "Deploy", "done"],
        &[KEY],
    );
    let r = mock.requests()[0].json();
    assert_eq!(
        r,
        serde_json::json!({"messages": [
            {"body": "Deploy\n\ndone", "to": "+15550100123", "source": "mcp-push"},
            {"body": "Deploy\n\ndone", "to": "+15550190000", "source": "mcp-push"},
        ]})
    );
    let run = clicksend_home(&mock, KEY, "+15550190000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "clicksend").contains(
            "rejected: ClickSend delivered to no recipient: +15550190000 (INVALID_RECIPIENT)"
        ),
        "{run:?}"
    );
    let run = clicksend_home(&mock, "WRONG-KEY-0000", "+15550100123")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "clicksend").contains("rejected: HTTP 401: Unauthorized - Invalid Token."),
        "{run:?}"
    );
    assert!(!run.all_output().contains("WRONG-KEY-0000"));
    let run =
        clicksend_home(&mock, KEY, "+15550100123").run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "clicksend").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
}

/// Apprise's `clicksend://USER:API_KEY@TO/TO`: the host is a recipient.
#[test]
fn clicksend_one_line_url() {
    use mocks::clicksend::KEY;
    let mock = Mock::service(mocks::clicksend::api());
    let home = Sandbox::new().config(&format!(
        "[channels.sms]\nurl = \"clicksend://ops%40example.com:{KEY}@15550100123/447700900000\"\n\
         api_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[KEY]);
    let r = mock.requests()[0].json();
    assert_eq!(r["messages"][0]["to"], "+15550100123");
    assert_eq!(r["messages"][1]["to"], "+447700900000");
    assert_eq!(r["messages"][1]["body"], "T\n\nB");
}

// BulkSMS

fn bulksms_home(mock: &Mock, password: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("BULKSMS_USERNAME", mocks::bulksms::USER)
        .env("BULKSMS_PASSWORD", password)
        .env("BULKSMS_TO", to)
        .env("BULKSMS_API_URL", mock.url(""))
}

/// mcp-push's `BULKSMS_*` names: one submission for every recipient (a
/// phonebook group too), with a `deduplication-id`, the password kept out
/// of the output; a blocked recipient alone is a refusal naming it, no
/// credits BulkSMS's 403, a 429 kept for later.
#[test]
fn bulksms_delivers_with_its_environment_names() {
    use mocks::bulksms::PASSWORD;
    let mock = Mock::service(mocks::bulksms::api());
    send_ok(
        &bulksms_home(&mock, PASSWORD, "+15550100123; @Everyone"),
        &["send", "Deploy", "done"],
        &[PASSWORD],
    );
    let r = &mock.requests()[0];
    assert!(
        r.query("deduplication-id")
            .is_some_and(|id| id.parse::<i32>().is_ok())
    );
    assert_eq!(
        r.json(),
        serde_json::json!([{"to": ["+15550100123", {"type": "GROUP", "name": "Everyone"}],
                            "body": "Deploy\n\ndone", "longMessageMaxParts": 3}])
    );
    let run = bulksms_home(&mock, PASSWORD, "+15550190000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "bulksms")
            .contains("rejected: BulkSMS delivered to no recipient: +15550190000 (FAILED.BLOCKED)"),
        "{run:?}"
    );
    let run = bulksms_home(&mock, "WrongPassword000", "+15550100123")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "bulksms").contains("rejected: HTTP 401: Invalid credentials"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("WrongPassword000"));
    let run = bulksms_home(&mock, PASSWORD, "+15550100123").run(&[
        "send",
        "--wait",
        "0",
        "T",
        "no credit",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "bulksms").contains("rejected: HTTP 403: Insufficient Credits"),
        "{run:?}"
    );
    let run =
        bulksms_home(&mock, PASSWORD, "+15550100123").run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "bulksms").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(PASSWORD));
    assert_eq!(
        mocks::bulksms::sent(&mock),
        vec![
            ("+15550100123".to_string(), "Deploy\n\ndone".to_string()),
            ("@Everyone".to_string(), "Deploy\n\ndone".to_string()),
        ]
    );
}

/// Apprise's `bulksms://USER:PASSWORD@TO/TO?route=`: the host a recipient.
#[test]
fn bulksms_one_line_url() {
    use mocks::bulksms::{PASSWORD, USER};
    let mock = Mock::service(mocks::bulksms::api());
    let home = Sandbox::new().config(&format!(
        "[channels.sms]\nurl = \"bulksms://{USER}:{PASSWORD}@15550100123/447700900000?route=premium\"\n\
         api_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[PASSWORD]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!([{"to": ["+15550100123", "+447700900000"], "body": "T\n\nB",
                            "longMessageMaxParts": 3, "routingGroup": "PREMIUM"}])
    );
}

// MessageBird

fn messagebird_home(mock: &Mock, key: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("MESSAGEBIRD_ACCESS_KEY", key)
        .env("MESSAGEBIRD_FROM", "AcmeCI")
        .env("MESSAGEBIRD_TO", to)
        .env("MESSAGEBIRD_API_URL", mock.url(""))
}

/// mcp-push's `MESSAGEBIRD_*` names: one message for every recipient, a
/// non-GSM text as `unicode`, the key kept out of the output; a wrong key
/// is MessageBird's 401 (code 2), no valid recipient its 422 (code 9), a
/// 429 kept for later.
#[test]
fn messagebird_delivers_with_its_environment_names() {
    use mocks::messagebird::KEY;
    let mock = Mock::service(mocks::messagebird::api());
    let to = "+15550100123, +86 138 0013 8000";
    send_ok(
        &messagebird_home(&mock, KEY, to),
        &["send", "部署", "完成"],
        &[KEY],
    );
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"recipients": ["15550100123", "8613800138000"], "originator": "AcmeCI",
                           "body": "部署\n\n完成", "datacoding": "unicode"})
    );
    let run = messagebird_home(&mock, "wrongKey0000000000000000", to)
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "messagebird")
            .contains("rejected: HTTP 401: Request not allowed (incorrect access_key) (code 2)"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrongKey0000000000000000"));
    let run = messagebird_home(&mock, KEY, "+15550190000").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "messagebird")
            .contains("rejected: HTTP 422: no (correct) recipients found (code 9)"),
        "{run:?}"
    );
    let run = messagebird_home(&mock, KEY, to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "messagebird").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
}

/// Apprise's `msgbird://ACCESS_KEY/FROM/TO`: the host is the key.
#[test]
fn messagebird_one_line_url() {
    use mocks::messagebird::KEY;
    let mock = Mock::service(mocks::messagebird::api());
    let home = Sandbox::new().config(&format!(
        "[channels.sms]\nurl = \"msgbird://{KEY}/15550100100/15550100123\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[KEY]);
    assert_eq!(
        mock.requests()[0].json(),
        serde_json::json!({"recipients": ["15550100123"], "originator": "15550100100",
                           "body": "T\n\nB", "datacoding": "plain"})
    );
}

// Tencent Cloud SMS

fn tencent_sms_home(mock: &Mock, key: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("TENCENTCLOUD_SECRET_ID", mocks::tencent_sms::ID)
        .env("TENCENTCLOUD_SECRET_KEY", key)
        .env("TENCENT_SMS_APP_ID", "1400006666")
        .env("TENCENT_SMS_TEMPLATE_ID", mocks::tencent_sms::TEMPLATE)
        .env("TENCENT_SMS_BRAND", "腾讯云")
        .env("TENCENT_SMS_TO", to)
        .env("TENCENT_SMS_API_URL", mock.url(""))
}

/// Tencent Cloud's SDK names (`TENCENTCLOUD_SECRET_ID`,
/// `TENCENTCLOUD_SECRET_KEY`) and mcp-push's `TENCENT_SMS_*`: a SendSms the
/// mock accepts only with a TC3 signature it recomputes from what it
/// received, so the host's HMAC keyed by the SecretKey (which never reaches
/// the component) signed the bytes on the wire; a wrong key is
/// `AuthFailure.SignatureFailure`, a bad number a refusal naming it,
/// `RequestLimitExceeded` kept for later; neither secret in the output.
#[test]
fn tencent_sms_delivers_with_its_environment_names() {
    use mocks::tencent_sms::{ID, KEY};
    let mock = Mock::service(mocks::tencent_sms::api());
    let to = "+86 138 0013 8000; +86 139 0013 9000";
    send_ok(
        &tencent_sms_home(&mock, KEY, to),
        &["send", "部署", "完成"],
        &[ID, KEY],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.header("x-tc-region"), Some("ap-guangzhou"));
    assert_eq!(
        r.json(),
        serde_json::json!({"PhoneNumberSet": ["+8613800138000", "+8613900139000"],
                           "SmsSdkAppId": "1400006666", "TemplateId": "1110",
                           "TemplateParamSet": ["部署\n\n完成"], "SignName": "腾讯云"})
    );
    let run = tencent_sms_home(&mock, "WrongSecretKey0000000000000000", to)
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "tencent-sms").contains("rejected: AuthFailure.SignatureFailure"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("WrongSecretKey0000000000000000"));
    let run =
        tencent_sms_home(&mock, KEY, "+8610012345678").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "tencent-sms").contains(
            "rejected: Tencent Cloud SMS delivered to no recipient: +8610012345678 (InvalidParameterValue.IncorrectPhoneNumber"
        ),
        "{run:?}"
    );
    let run = tencent_sms_home(&mock, KEY, to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "tencent-sms").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(KEY));
}

// Aliyun SMS

fn aliyun_sms_home(mock: &Mock, secret: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", mocks::aliyun_sms::ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
        .env("ALIYUN_SMS_BRAND", "阿里云短信测试")
        .env("ALIYUN_SMS_TEMPLATE_CODE", mocks::aliyun_sms::TEMPLATE)
        .env("ALIYUN_SMS_TO", to)
        .env("ALIYUN_SMS_API_URL", mock.url(""))
}

/// The names Aliyun's SDKs read (`ALIBABA_CLOUD_ACCESS_KEY_ID`,
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`) and mcp-push's `ALIYUN_SMS_*`: a
/// SendSms the mock accepts only with the RPC signature it recomputes from
/// the form it received, so the host's HMAC-SHA1 keyed by the secret and
/// `&` (the secret never in the component) signed the bytes on the wire;
/// a wrong secret is `SignatureDoesNotMatch`, a bad number a refusal in
/// Aliyun's words, flow control kept for later; the secret in no output.
#[test]
fn aliyun_sms_delivers_with_its_environment_names() {
    use mocks::aliyun_sms::SECRET;
    let mock = Mock::service(mocks::aliyun_sms::api());
    let to = "13800138000; +86 139 0013 9000";
    send_ok(
        &aliyun_sms_home(&mock, SECRET, to),
        &["send", "部署", "完成"],
        &[SECRET],
    );
    let r = &mock.requests()[0];
    assert_eq!(
        r.form("PhoneNumbers").as_deref(),
        Some("13800138000,8613900139000")
    );
    assert_eq!(r.form("SignName").as_deref(), Some("阿里云短信测试"));
    assert_eq!(
        r.form("TemplateParam").as_deref(),
        Some(r#"{"content":"部署\n\n完成"}"#)
    );
    let run = aliyun_sms_home(&mock, "WrongAccessKeySecret000000000000", to)
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "aliyun-sms").contains("rejected: SignatureDoesNotMatch"),
        "{run:?}"
    );
    assert!(
        !run.all_output()
            .contains("WrongAccessKeySecret000000000000")
    );
    let run = aliyun_sms_home(&mock, SECRET, "10012345678").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "aliyun-sms").contains("rejected: isv.MOBILE_NUMBER_ILLEGAL"),
        "{run:?}"
    );
    let run = aliyun_sms_home(&mock, SECRET, to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "aliyun-sms").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(SECRET));
}

// --- KOOK ----------------------------------------------------------------

fn kook_home(mock: &Mock, token: &str) -> Sandbox {
    Sandbox::new()
        .env("KOOK_BOT_TOKEN", token)
        .env("KOOK_CHANNEL_ID", mocks::kook::CHANNEL)
        .env("KOOK_API_URL", mock.url("/api/v3"))
}

/// mcp-push's `KOOK_*` names: text to a channel with the bot token, the
/// token in no output; another token is KOOK's 401, a 429 waits for its
/// `X-Rate-Limit-Reset`.
#[test]
fn kook_delivers_with_its_environment_names() {
    use mocks::kook::TOKEN;
    let mock = Mock::service(mocks::kook::api());
    send_ok(
        &kook_home(&mock, TOKEN),
        &["send", "构建", "通过"],
        &[TOKEN],
    );
    let r = &mock.requests()[0];
    assert_eq!(r.path(), "/api/v3/message/create");
    assert_eq!(
        r.json(),
        serde_json::json!({"type": 1, "target_id": mocks::kook::CHANNEL, "content": "构建\n\n通过"})
    );
    let run = kook_home(&mock, "1/wrong-token-value").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "kook").contains("rejected: code 401: 你的用户凭证不正确"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-token-value"));
    let run = kook_home(&mock, TOKEN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "kook").contains("retrying  rate limited"),
        "{run:?}"
    );
}

// --- Pushjet -------------------------------------------------------------

/// mcp-push's `PUSHJET_URL`/`PUSHJET_SECRET`: the server's form, the secret
/// in no output; another secret is the server's `Service not found`.
#[test]
fn pushjet_delivers_with_its_environment_names() {
    use mocks::pushjet::SECRET;
    let mock = Mock::service(mocks::pushjet::api(false));
    let home = |secret: &str| {
        Sandbox::new()
            .env("PUSHJET_URL", mock.url(""))
            .env("PUSHJET_SECRET", secret)
    };
    send_ok(&home(SECRET), &["send", "Backup", "done"], &[SECRET]);
    let r = &mock.requests()[0];
    assert_eq!(r.form("message").as_deref(), Some("done"));
    assert_eq!(r.form("title").as_deref(), Some("Backup"));
    assert_eq!(r.form("level").as_deref(), Some("3"));
    let other = "Zz8qVkDa3Zx1PmN7tWcR2yLb9HgE5uF0";
    let run = home(other).run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "pushjet").contains("rejected: HTTP 404: Service not found"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(other));
}

/// Apprise's `pjet://user:password@HOST:PORT/SECRET`: a server behind a
/// login.
#[test]
fn pushjet_one_line_url() {
    use mocks::pushjet::{SECRET, USER};
    let mock = Mock::service(mocks::pushjet::api(true));
    let home = Sandbox::new().config(&format!(
        "[channels.pj]\nurl = \"pjet://{}:{}@{}/{SECRET}\"\n",
        USER.0, USER.1, mock.addr
    ));
    send_ok(&home, &["send", "T", "B"], &[SECRET, USER.1]);
    assert_eq!(mock.requests()[0].form("secret").as_deref(), Some(SECRET));
}

// --- DingTalk work notice --------------------------------------------------

fn dingtalk_notice_home(mock: &Mock, secret: &str) -> Sandbox {
    Sandbox::new()
        .env("DINGTALK_APP_KEY", mocks::dingtalk_notice::KEY)
        .env("DINGTALK_APP_SECRET", secret)
        .env(
            "DINGTALK_AGENT_ID",
            mocks::dingtalk_notice::AGENT.to_string(),
        )
        .env("DINGTALK_USERID_LIST", "manager4220,zhangsan")
        .env("DINGTALK_API_URL", mock.url(""))
}

/// mcp-push's `DINGTALK_*` names: a token from `gettoken`, then the notice
/// with it; the key and secret in no output; a wrong secret is DingTalk's
/// 40089, too fast its 90018, kept for later.
#[test]
fn dingtalk_notice_delivers_with_its_environment_names() {
    use mocks::dingtalk_notice::{KEY, SECRET};
    let mock = Mock::service(mocks::dingtalk_notice::api());
    send_ok(
        &dingtalk_notice_home(&mock, SECRET),
        &["send", "构建", "通过"],
        &[KEY, SECRET],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(
        reqs[1].json(),
        serde_json::json!({"agent_id": mocks::dingtalk_notice::AGENT,
                           "userid_list": "manager4220,zhangsan",
                           "msg": {"msgtype": "text", "text": {"content": "构建\n\n通过"}}})
    );
    let run = dingtalk_notice_home(&mock, "wrong-app-secret-value")
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "dingtalk-notice").contains("rejected: errcode 40089"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-app-secret-value"));
    let run = dingtalk_notice_home(&mock, SECRET).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "dingtalk-notice").contains("retrying  rate limited"),
        "{run:?}"
    );
}

// --- Feishu / Lark app -----------------------------------------------------

fn feishu_app_home(mock: &Mock, secret: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("FEISHU_APP_ID", mocks::feishu_app::APP_ID)
        .env("FEISHU_APP_SECRET", secret)
        .env("FEISHU_RECEIVE_ID", to)
        .env("FEISHU_API_URL", mock.url(""))
}

/// mcp-push's `FEISHU_*` names: the tenant token, then the message to a
/// chat (its kind read from `oc_`), the secret in no output; a wrong
/// secret is Feishu's 10014, a chat the bot is not in its 230002.
#[test]
fn feishu_app_delivers_with_its_environment_names() {
    use mocks::feishu_app::{CHAT, SECRET};
    let mock = Mock::service(mocks::feishu_app::api());
    send_ok(
        &feishu_app_home(&mock, SECRET, CHAT),
        &["send", "构建", "通过"],
        &[SECRET],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[1].query("receive_id_type").as_deref(), Some("chat_id"));
    assert_eq!(reqs[1].json()["content"], r#"{"text":"构建\n\n通过"}"#);
    let run = feishu_app_home(&mock, "wrong-app-secret-value", CHAT)
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "feishu-app").contains("rejected: code 10014: app secret invalid"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-app-secret-value"));
    let run = feishu_app_home(&mock, SECRET, "oc_other").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "feishu-app").contains("rejected: code 230002"),
        "{run:?}"
    );
}

// --- WeChat Official Account -----------------------------------------------

fn wechat_oa_home(mock: &Mock, secret: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("WECHAT_OA_APP_ID", mocks::wechat_oa::APP_ID)
        .env("WECHAT_OA_APP_SECRET", secret)
        .env("WECHAT_OA_TEMPLATE_ID", mocks::wechat_oa::TEMPLATE)
        .env("WECHAT_OA_TO", to)
        .env("WECHAT_OA_API_URL", mock.url(""))
}

/// mcp-push's `WECHAT_OA_*` names: a token, then one template message per
/// follower, the secret in no output; a wrong secret is WeChat's 40125, an
/// openid that does not follow its 40003, the daily quota kept for later.
#[test]
fn wechat_oa_delivers_with_its_environment_names() {
    use mocks::wechat_oa::{FOLLOWERS, SECRET};
    let mock = Mock::service(mocks::wechat_oa::api());
    let to = FOLLOWERS.join(";");
    send_ok(
        &wechat_oa_home(&mock, SECRET, &to),
        &["send", "部署", "完成"],
        &[SECRET],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(
        reqs[1].json()["data"],
        serde_json::json!({"title": {"value": "部署"}, "content": {"value": "完成"}})
    );
    assert_eq!(reqs[2].json()["touser"], FOLLOWERS[1]);
    let run = wechat_oa_home(&mock, "wrong-app-secret-value", &to)
        .run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "wechat-oa").contains("rejected: errcode 40125: invalid appsecret"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-app-secret-value"));
    let run =
        wechat_oa_home(&mock, SECRET, "oNotAFollower").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "wechat-oa").contains("rejected: errcode 40003: invalid openid"),
        "{run:?}"
    );
    let run = wechat_oa_home(&mock, SECRET, &to).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "wechat-oa").contains("retrying  rate limited"),
        "{run:?}"
    );
}

// --- Amazon SES -----------------------------------------------------------

fn ses_home(mock: &Mock, secret: &str, from: &str) -> Sandbox {
    Sandbox::new()
        .env("SES_ACCESS_KEY_ID", mocks::aws_sigv4::ID)
        .env("SES_SECRET_ACCESS_KEY", secret)
        .env("SES_REGION", "eu-west-1")
        .env("SES_FROM", from)
        .env("SES_TO", "ops@example.com; dev@example.com")
        .env("SES_API_URL", mock.url(""))
}

/// mcp-push's `SES_*` names: a v2 SendEmail the mock accepts only with a
/// SigV4 signature it recomputes from what it received, so the host's HMAC
/// keyed by the secret access key (never in the component) signed the bytes
/// on the wire; a wrong secret is `SignatureDoesNotMatch`, an unverified
/// sender `MessageRejected`, `TooManyRequestsException` kept for later;
/// neither key in any output.
#[test]
fn ses_delivers_with_its_environment_names() {
    use mocks::aws_sigv4::{ID, SECRET};
    let mock = Mock::service(mocks::ses::api());
    send_ok(
        &ses_home(&mock, SECRET, "CI <ci@example.com>"),
        &["send", "Backup", "done"],
        &[ID, SECRET],
    );
    let r = &mock.requests()[0];
    assert_eq!(
        r.json(),
        serde_json::json!({
            "FromEmailAddress": "CI <ci@example.com>",
            "Destination": {"ToAddresses": ["ops@example.com", "dev@example.com"]},
            "Content": {"Simple": {"Subject": {"Data": "Backup", "Charset": "UTF-8"},
                                   "Body": {"Text": {"Data": "done", "Charset": "UTF-8"}}}},
        })
    );
    let wrong = "WrongSecretAccessKey/0000000000000000000";
    for (secret, from, line) in [
        (
            wrong,
            "ci@example.com",
            "rejected: SignatureDoesNotMatch: The request signature",
        ),
        (
            SECRET,
            "me@gmail.com",
            "rejected: MessageRejected: Email address is not verified.",
        ),
    ] {
        let run = ses_home(&mock, secret, from).run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(failure_of(&run, "ses").contains(line), "{run:?}");
        assert!(!run.all_output().contains(secret));
        assert!(!run.all_output().contains(ID));
    }
    let run =
        ses_home(&mock, SECRET, "ci@example.com").run(&["send", "--wait", "0", "a storm", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "ses").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `ses://FROM/ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION/TO?name=`,
/// the secret's `/` kept; HTML goes as `Html`.
#[test]
fn ses_one_line_url() {
    use mocks::aws_sigv4::{ID, SECRET};
    let mock = Mock::service(mocks::ses::api());
    let home = Sandbox::new().config(&format!(
        "[channels.mail]\nurl = \"ses://ci@example.com/{ID}/{SECRET}/us-east-2/ops@example.com?name=CI%20Bot\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(
        &home,
        &["send", "--format", "html", "Report", "<b>3</b> failures"],
        &[ID, SECRET],
    );
    let b = mock.requests()[0].json();
    assert_eq!(b["FromEmailAddress"], "CI Bot <ci@example.com>");
    assert_eq!(
        b["Destination"]["ToAddresses"],
        serde_json::json!(["ops@example.com"])
    );
    assert_eq!(
        b["Content"]["Simple"]["Body"]["Html"]["Data"],
        "<b>3</b> failures"
    );
    assert!(
        mock.requests()[0]
            .header("authorization")
            .is_some_and(|a| a.contains("/us-east-2/ses/aws4_request"))
    );
}

// --- Amazon SNS -----------------------------------------------------------

fn sns_home(mock: &Mock, secret: &str, to: &str) -> Sandbox {
    Sandbox::new()
        .env("SNS_ACCESS_KEY_ID", mocks::aws_sigv4::ID)
        .env("SNS_SECRET_ACCESS_KEY", secret)
        .env("SNS_REGION", "us-east-1")
        .env("SNS_TO", to)
        .env("SNS_API_URL", mock.url(""))
}

/// mcp-push's `SNS_*` names: a Publish to a topic ARN and one to a phone,
/// the mock accepting only SigV4 signatures it recomputes from what it
/// received; a wrong secret is `SignatureDoesNotMatch`, an unknown topic
/// `NotFound`, a bad number `InvalidParameter`, `Throttling` kept for
/// later; neither key in any output.
#[test]
fn sns_delivers_with_its_environment_names() {
    use mocks::aws_sigv4::{ID, SECRET};
    use mocks::sns::ARN;
    let mock = Mock::service(mocks::sns::api());
    send_ok(
        &sns_home(&mock, SECRET, &format!("{ARN}; +1 202 555 0143")),
        &["send", "Deploy", "v2 is live"],
        &[ID, SECRET],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].form("TopicArn").as_deref(), Some(ARN));
    assert_eq!(reqs[0].form("Subject").as_deref(), Some("Deploy"));
    assert_eq!(reqs[0].form("Message").as_deref(), Some("v2 is live"));
    assert_eq!(reqs[1].form("PhoneNumber").as_deref(), Some("+12025550143"));
    assert_eq!(
        reqs[1].form("Message").as_deref(),
        Some("Deploy\n\nv2 is live")
    );
    let wrong = "WrongSecretAccessKey/0000000000000000000";
    for (secret, to, line) in [
        (
            wrong,
            ARN,
            "rejected: SignatureDoesNotMatch: The request signature",
        ),
        (
            SECRET,
            "arn:aws:sns:us-east-1:123456789012:gone",
            "rejected: NotFound: Topic does not exist",
        ),
        (
            SECRET,
            "+15550001234",
            "rejected: InvalidParameter: Invalid parameter: PhoneNumber",
        ),
    ] {
        let run = sns_home(&mock, secret, to).run(&["send", "--wait", "0", "T", "B"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(failure_of(&run, "sns").contains(line), "{run:?}");
        assert!(!run.all_output().contains(secret));
        assert!(!run.all_output().contains(ID));
    }
    let run = sns_home(&mock, SECRET, ARN).run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "sns").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `sns://ACCESS_KEY_ID/SECRET_ACCESS_KEY/REGION/#topic`, the
/// secret's `/` kept: CreateTopic for the name, then Publish to its ARN.
#[test]
fn sns_one_line_url() {
    use mocks::aws_sigv4::{ID, SECRET};
    let mock = Mock::service(mocks::sns::api());
    let home = Sandbox::new().config(&format!(
        "[channels.alerts]\nurl = \"sns://{ID}/{SECRET}/us-east-1/%23ci-alerts\"\napi_url = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "Deploy", "done"], &[ID, SECRET]);
    let reqs = mock.requests();
    assert_eq!(reqs[0].form("Action").as_deref(), Some("CreateTopic"));
    assert_eq!(reqs[0].form("Name").as_deref(), Some("ci-alerts"));
    assert_eq!(reqs[1].form("Action").as_deref(), Some("Publish"));
    assert_eq!(reqs[1].form("TopicArn").as_deref(), Some(mocks::sns::ARN));
}

// --- Grafana OnCall -------------------------------------------------------

/// mcp-push's `GRAFANA_ONCALL_URL` (the integration URL, a secret kept out
/// of the output): the documented fields; an unknown token refused, a 429
/// kept for later.
#[test]
fn grafana_oncall_delivers_with_its_environment_names() {
    use mocks::grafana_oncall::TOKEN;
    let mock = Mock::service(mocks::grafana_oncall::api());
    let home = |token: &str| {
        Sandbox::new().env(
            "GRAFANA_ONCALL_URL",
            mock.url(&format!("/integrations/v1/formatted_webhook/{token}/")),
        )
    };
    send_ok(
        &home(TOKEN),
        &[
            "send",
            "--link",
            "https://ci.example.com/7",
            "Backup failed",
            "disk full",
        ],
        &[TOKEN],
    );
    let alert = mock.requests()[0].json();
    assert_eq!(alert["title"], "Backup failed");
    assert_eq!(alert["message"], "disk full");
    assert_eq!(alert["state"], "alerting");
    assert_eq!(
        alert["link_to_upstream_details"],
        "https://ci.example.com/7"
    );
    assert!(alert["alert_uid"].as_str().is_some_and(|u| !u.is_empty()));
    let wrong = "WrongIntegrationToken000";
    let run = home(wrong).run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "grafana-oncall").contains("rejected: HTTP 403"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(wrong));
    let run = home(TOKEN).run(&["send", "--wait", "0", "a storm", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "grafana-oncall").contains("retrying  rate limited"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(TOKEN));
}

// --- Bluesky -------------------------------------------------------------

fn bluesky_home(mock: &Mock, password: &str) -> Sandbox {
    Sandbox::new()
        .env("BLUESKY_HANDLE", "ada")
        .env("BLUESKY_APP_PASSWORD", password)
        .env("BLUESKY_SERVICE", mock.url(""))
}

/// mcp-push's `BLUESKY_*` names: one login (the handle completed with
/// `.bsky.social`), then the post with the title folded in and the link as
/// a facet; the app password in no output. A wrong password is the
/// service's 401; an expired access token logs in again once; a 429 waits
/// for `ratelimit-reset`; a text over 300 characters is cut, not refused.
#[test]
fn bluesky_delivers_with_its_environment_names() {
    use mocks::bluesky::{APP_PASSWORD, DID};
    let mock = Mock::service(mocks::bluesky::api());
    let home = bluesky_home(&mock, APP_PASSWORD);
    send_ok(
        &home,
        &[
            "send",
            "--link",
            "https://ci.example/42",
            "Deploy done",
            "v2 is live",
        ],
        &[APP_PASSWORD],
    );
    let reqs = mock.requests();
    assert_eq!(reqs[0].path(), "/xrpc/com.atproto.server.createSession");
    assert_eq!(reqs[0].json()["identifier"], "ada.bsky.social");
    let post = reqs[1].json();
    assert_eq!(post["repo"], DID);
    let text = post["record"]["text"].as_str().unwrap();
    assert_eq!(text, "Deploy done\n\nv2 is live\n\nhttps://ci.example/42");
    assert_eq!(
        post["record"]["facets"][0]["features"][0]["uri"],
        "https://ci.example/42"
    );
    // Cut to the limit rather than refused.
    send_ok(&home, &["send", "T", &"y".repeat(500)], &[APP_PASSWORD]);
    // An expired access token is taken for a new one, once.
    let fresh = Mock::service(mocks::bluesky::api());
    send_ok(
        &bluesky_home(&fresh, APP_PASSWORD),
        &["send", "T", "please expire"],
        &[APP_PASSWORD],
    );
    let paths = fresh.paths();
    assert_eq!(
        paths,
        [
            "/xrpc/com.atproto.server.createSession",
            "/xrpc/com.atproto.repo.createRecord",
            "/xrpc/com.atproto.server.createSession",
            "/xrpc/com.atproto.repo.createRecord"
        ]
    );

    let run = bluesky_home(&mock, "wrong-app-password").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        failure_of(&run, "bluesky")
            .contains("rejected: AuthenticationRequired: Invalid identifier or password"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-app-password"));
    let run = home.run(&["send", "--wait", "0", "T", "a storm"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "bluesky").contains("retrying  rate limited"),
        "{run:?}"
    );
}

/// Apprise's `bluesky://HANDLE@APP_PASSWORD` form.
#[test]
fn bluesky_takes_apprises_url() {
    use mocks::bluesky::APP_PASSWORD;
    let mock = Mock::service(mocks::bluesky::api());
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.sky]\nurl = \"bluesky://ada.bsky.social@{APP_PASSWORD}\"\n\
         service = \"{}\"\n",
        mock.url("")
    ));
    send_ok(&home, &["send", "T", "B"], &[APP_PASSWORD]);
    assert_eq!(mock.requests().len(), 2);
}
