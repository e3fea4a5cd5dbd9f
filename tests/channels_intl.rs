//! The international channels end to end, each against a mock of its API on
//! 127.0.0.1 that speaks the real paths and replies: Telegram, Slack, Discord,
//! Matrix, Pushover, Microsoft Teams, ntfy and Gotify.
//!
//! Sends use `--wait 0`: one attempt each, so a rate limit or an outage shows
//! as `retrying` at once instead of being waited out.

mod support;

/// The service APIs these tests run against, each built from its docs.
mod mocks {
    pub mod discord;
    pub mod gotify;
    pub mod ntfy;
    pub mod pushover;
    pub mod slack;
    pub mod teams;
}

use mcp_push::notification::Notification;
use mcp_push::plugin::DeliveryError;
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

#[test]
fn telegram_sends_with_notify_py_names() {
    let mock = telegram();
    let home = telegram_home(&mock, "42");
    send_ok(&home, &["send", "-vv", "Build 7", "passed"], &[TG_TOKEN]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path(), format!("/bot{TG_TOKEN}/sendMessage"));
    let body = reqs[0].json();
    assert_eq!(body["chat_id"], "42");
    assert_eq!(body["text"], "Build 7\n\npassed");
    assert_eq!(body["link_preview_options"]["is_disabled"], true);
    assert!(body.get("parse_mode").is_none());
}

#[test]
fn telegram_errors_map_to_kinds() {
    let mock = telegram();
    let run = telegram_home(&mock, "missing").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1);
    assert!(
        failure_of(&run, "telegram").contains("rejected: ok false: Bad Request: chat not found"),
        "{run:?}"
    );
    let run = telegram_home(&mock, "flood").run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "telegram").contains("rate limited, retry after 31 s"),
        "{run:?}"
    );
    // A wrong token is the service's 401, and the token never shows.
    let home = Sandbox::new()
        .env("TG_BOT_TOKEN", "999:wrong-token-value")
        .env("TG_USER_ID", "42")
        .env("TG_API_HOST", mock.url(""));
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "telegram").contains("rejected: ok false: Unauthorized"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("wrong-token-value"));
}

#[test]
fn telegram_splits_long_text() {
    let mock = telegram();
    let home = telegram_home(&mock, "42");
    let long = "line of text 😀\n".repeat(400); // 6400 UTF-16 units
    send_ok(&home, &["send", "Long", &long], &[]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    let texts: Vec<String> = reqs
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_string())
        .collect();
    assert!(texts[0].starts_with("(1/2) Long"), "{}", &texts[0][..40]);
    assert!(texts[1].starts_with("(2/2) "));
    assert!(texts.iter().all(|t| t.encode_utf16().count() <= 4096));
}

/// Markdown and HTML go as Telegram's HTML subset, which the mock parses as
/// the Bot API documents it: the legacy `Markdown` mode refused snake_case,
/// and `<p>`, `<br>`, `<ul>` are refused in HTML mode.
#[test]
fn telegram_sends_markdown_and_html_as_its_html_subset() {
    let mock = telegram();
    let home = telegram_home(&mock, "42");
    send_ok(
        &home,
        &[
            "send",
            "Report",
            "**snake_case** word in paths/with*stars",
            "--format",
            "markdown",
        ],
        &[],
    );
    send_ok(
        &home,
        &[
            "send",
            "Deploy",
            "<h2>Done</h2><p>a &amp; b<br>c</p><ul><li>x</li><li>y</li></ul>",
            "--format",
            "html",
        ],
        &[],
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "each accepted at once: {reqs:?}");
    assert_eq!(reqs[0].json()["parse_mode"], "HTML");
    assert_eq!(
        reqs[0].json()["text"],
        "<b>Report</b>\n\n<b>snake_case</b> word in paths/with*stars"
    );
    assert_eq!(reqs[1].json()["parse_mode"], "HTML");
    assert_eq!(
        reqs[1].json()["text"],
        "<b>Deploy</b>\n\n<b>Done</b>\n\na &amp; b\nc\n\n• x\n• y"
    );
    assert_eq!(
        services::tg_html(reqs[1].json()["text"].as_str().unwrap()).unwrap(),
        "Deploy\n\nDone\n\na & b\nc\n\n• x\n• y"
    );
}

/// Long marked-up text is split by what it shows (4096 characters after
/// entity parsing), each message with its tags balanced.
#[test]
fn telegram_splits_long_markdown_with_balanced_tags() {
    let mock = telegram();
    let home = telegram_home(&mock, "42");
    // Shows 10 characters a line, 28 of HTML: 6,000 shown in two messages.
    let long = "**bold** & *it*\n".repeat(600);
    send_ok(&home, &["send", "", &long, "--format", "markdown"], &[]);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    for (i, r) in reqs.iter().enumerate() {
        let body = r.json();
        assert_eq!(body["parse_mode"], "HTML");
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with(&format!("({}/2) ", i + 1)));
        let shown = services::tg_html(text).unwrap();
        assert!(shown.encode_utf16().count() <= 4096);
    }
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
fn slack() -> Mock {
    Mock::service(mocks::slack::api())
}

#[test]
fn slack_webhook() {
    let mock = slack();
    let hook = mock.url("/services/T000/B000/XXXX");
    let home = Sandbox::new().env("SLACK_WEBHOOK_URL", &hook);
    send_ok(
        &home,
        &[
            "send",
            "Deploy <prod>",
            "a & b",
            "--link",
            "https://x.example/1",
        ],
        &["XXXX"],
    );
    let body = mock.requests()[0].json();
    assert_eq!(
        body["text"],
        "*Deploy &lt;prod&gt;*\na &amp; b\n\n<https://x.example/1>"
    );
    // Markdown is translated to mrkdwn, with Slack's three escapes.
    send_ok(
        &home,
        &[
            "send",
            "",
            "## Done\n**ok** & _fine_: [run](https://ci.example/?a=1&b=2)\n- `x < y`",
            "--format",
            "markdown",
        ],
        &[],
    );
    assert_eq!(
        mock.requests()[1].json()["text"],
        "*Done*\n\n*ok* &amp; _fine_: <https://ci.example/?a=1&amp;b=2|run>\n\n• `x &lt; y`"
    );
    let run = home.run(&["send", "--wait", "0", "T", "channel archived"]);
    assert!(
        failure_of(&run, "slack").contains("rejected: HTTP 410: channel_is_archived"),
        "{run:?}"
    );
    let run = home.run(&["send", "--wait", "0", "T", "slow down"]);
    assert!(
        failure_of(&run, "slack").contains("retry after 12 s"),
        "{run:?}"
    );
}

// --- Discord --------------------------------------------------------------

/// Webhooks: POST `/api/webhooks/ID/TOKEN?wait=true` answers the message;
/// PATCH `.../messages/ID` edits it.
fn discord() -> Mock {
    Mock::service(mocks::discord::api())
}

#[test]
fn discord_posts_edits_and_maps_errors() {
    let mock = discord();
    let hook = mock.url("/api/webhooks/111/tok-en");
    let home = Sandbox::new()
        .env("DISCORD_WEBHOOK_URL", &hook)
        .env("DISCORD_USERNAME", "ci");
    let long = "x".repeat(2500);
    send_ok(&home, &["send", "Build", &long], &["tok-en"]);
    let req = &mock.requests()[0];
    assert_eq!(req.query("wait").as_deref(), Some("true"));
    let body = req.json();
    assert_eq!(body["username"], "ci");
    let content = body["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 2000);
    assert!(content.starts_with("**Build**\nxxx") && content.ends_with('…'));

    let run = home.run(&["send", "--wait", "0", "T", "slow"]);
    assert!(
        failure_of(&run, "discord").contains("retry after 2 s"),
        "{run:?}"
    );

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
    assert_eq!(last.json()["content"], "**Run**\nend");

    let wrong = Sandbox::new().env("DISCORD_WEBHOOK_URL", mock.url("/api/webhooks/1/nope"));
    let run = wrong.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "discord").contains("rejected: HTTP 404: Unknown Webhook"),
        "{run:?}"
    );
}

// --- Matrix ---------------------------------------------------------------

/// The client-server API's send endpoint.
fn matrix() -> Mock {
    Mock::service(services::matrix())
}

#[test]
fn matrix_sends_edits_and_maps_errors() {
    let mock = matrix();
    let home = Sandbox::new()
        .env("MATRIX_HOMESERVER", mock.url(""))
        .env("MATRIX_ACCESS_TOKEN", MATRIX_TOKEN)
        .env("MATRIX_ROOM_ID", "!room:example.org");
    send_ok(
        &home,
        &["send", "Done", "<i>all</i> green", "--format", "html"],
        &[MATRIX_TOKEN],
    );
    let body = mock.requests()[0].json();
    assert_eq!(body["msgtype"], "m.text");
    assert_eq!(body["format"], "org.matrix.custom.html");
    assert_eq!(body["formatted_body"], "<b>Done</b><br><i>all</i> green");
    let run = home.run(&["send", "--wait", "0", "T", "flood"]);
    assert!(
        failure_of(&run, "matrix").contains("retry after 3 s"),
        "{run:?}"
    );

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
    assert_eq!(body["body"], "* Run\n\n2/2");
    assert_eq!(body["m.new_content"]["body"], "Run\n\n2/2");
    assert_eq!(body["m.relates_to"]["rel_type"], "m.replace");
    assert_eq!(body["m.relates_to"]["event_id"], original.as_str());

    let err = plugins
        .send(
            "matrix",
            &[
                ("homeserver", hs.as_str()),
                ("access_token", MATRIX_TOKEN),
                ("room_id", "!other:example.org"),
            ],
            &Notification::new("T", "B"),
            None,
        )
        .unwrap_err();
    assert_eq!(
        err,
        DeliveryError::Rejected("HTTP 403: User @bot:example.org not in room".into())
    );
}

// --- Pushover -------------------------------------------------------------

fn pushover() -> Mock {
    Mock::service(mocks::pushover::api())
}

#[test]
fn pushover_form_and_errors() {
    let mock = pushover();
    let token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
    let home = Sandbox::new()
        .env("PUSHOVER_TOKEN", token)
        .env("PUSHOVER_USER", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG")
        .env("PUSHOVER_API_URL", mock.url(""));
    send_ok(
        &home,
        &[
            "send",
            "Alert",
            "<b>disk</b> full",
            "--format",
            "html",
            "--priority",
            "high",
        ],
        &[token, "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"],
    );
    let req = &mock.requests()[0];
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.form("title").as_deref(), Some("Alert"));
    assert_eq!(req.form("message").as_deref(), Some("<b>disk</b> full"));
    assert_eq!(req.form("html").as_deref(), Some("1"));
    assert_eq!(req.form("priority").as_deref(), Some("1"));

    let bad = Sandbox::new()
        .env("PUSHOVER_TOKEN", "wrongwrongwrongwrong")
        .env("PUSHOVER_USER", "u")
        .env("PUSHOVER_API_URL", mock.url(""));
    let run = bad.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "pushover").contains("rejected: status 0: application token is invalid"),
        "{run:?}"
    );
    let limited = Sandbox::new()
        .env("PUSHOVER_TOKEN", token)
        .env("PUSHOVER_USER", "over-limit")
        .env("PUSHOVER_API_URL", mock.url(""));
    let run = limited.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "pushover").contains("rate limited"),
        "{run:?}"
    );
}

// --- Microsoft Teams ------------------------------------------------------

fn teams() -> Mock {
    Mock::service(mocks::teams::api())
}

#[test]
fn teams_posts_an_adaptive_card() {
    let mock = teams();
    let url =
        mock.url("/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SIGsecretvalue");
    let home = Sandbox::new().env("TEAMS_WEBHOOK_URL", &url);
    send_ok(
        &home,
        &[
            "send",
            "Nightly",
            "3 failures",
            "--link",
            "https://ci.example/9",
        ],
        &["SIGsecretvalue"],
    );
    let card = &mock.requests()[0].json()["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["text"], "Nightly");
    assert_eq!(card["body"][1]["text"], "3 failures");
    assert_eq!(card["actions"][0]["url"], "https://ci.example/9");

    let gone = Sandbox::new().env("TEAMS_WEBHOOK_URL", mock.url("/workflows/zzz"));
    let run = gone.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "teams").contains("rejected: HTTP 404")
            && run.stdout.contains("WorkflowNotFound"),
        "{run:?}"
    );
}

// --- ntfy -----------------------------------------------------------------

/// Publishing: POST `/<topic>`, with `X-Sequence-ID` to update an earlier
/// message (ntfy 2.16; older routers answer 404 for `/<topic>/<id>`).
fn ntfy() -> Mock {
    Mock::service(mocks::ntfy::api())
}

#[test]
fn ntfy_publishes_updates_and_maps_errors() {
    let mock = ntfy();
    let token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";
    let home = Sandbox::new()
        .env("NTFY_TOPIC", "ops")
        .env("NTFY_URL", mock.url(""))
        .env("NTFY_TOKEN", token);
    send_ok(
        &home,
        &[
            "send",
            "Déploiement",
            "**done**",
            "--format",
            "markdown",
            "--tag",
            "rocket",
            "--priority",
            "urgent",
        ],
        &[token],
    );
    let req = &mock.requests()[0];
    assert_eq!(req.path(), "/ops");
    assert_eq!(req.text(), "**done**");
    assert_eq!(req.header("title"), Some("=?UTF-8?B?RMOpcGxvaWVtZW50?="));
    assert_eq!(req.header("priority"), Some("5"));
    assert_eq!(req.header("tags"), Some("rocket"));
    assert_eq!(req.header("markdown"), Some("yes"));

    // A body of 4096 bytes or more is a file to ntfy, refused without an
    // attachment cache (40014): a long message is cut under it.
    let long = "é".repeat(5000);
    send_ok(&home, &["send", "--wait", "0", "Long", &long], &[token]);
    let cut = mock.requests().last().unwrap().text();
    assert!(
        cut.len() < 4096 && cut.ends_with('…'),
        "{} bytes",
        cut.len()
    );

    let run = home.run(&["send", "--wait", "0", "T", "too many"]);
    assert!(failure_of(&run, "ntfy").contains("rate limited"), "{run:?}");
    let wrong = Sandbox::new()
        .env("NTFY_TOPIC", "ops")
        .env("NTFY_URL", mock.url(""))
        .env("NTFY_TOKEN", "tk_wrong");
    let run = wrong.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "ntfy").contains("rejected: HTTP 403: forbidden"),
        "{run:?}"
    );

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
    // The update goes to the topic itself with the sequence id as a header:
    // `/ops/{id}` is a 404 on servers before ntfy 2.16 (the mock's router).
    let last = mock.requests().last().unwrap().clone();
    assert_eq!(last.path(), "/ops");
    assert_eq!(last.header("x-sequence-id"), Some(id.as_str()));
}

// --- Gotify ---------------------------------------------------------------

fn gotify() -> Mock {
    Mock::service(mocks::gotify::api())
}

#[test]
fn gotify_posts_and_maps_errors() {
    let mock = gotify();
    let home = Sandbox::new()
        .env("GOTIFY_URL", mock.url("/gotify/"))
        .env("GOTIFY_TOKEN", "AzX1.token_value")
        .env("GOTIFY_PRIORITY", "7");
    send_ok(
        &home,
        &["send", "Backup", "# ok", "--format", "markdown"],
        &["AzX1.token_value"],
    );
    let b = mock.requests()[0].json();
    assert_eq!(b["title"], "Backup");
    assert_eq!(b["priority"], 7);
    assert_eq!(
        b["extras"]["client::display"]["contentType"],
        "text/markdown"
    );
    let bad = Sandbox::new()
        .env("GOTIFY_URL", mock.url("/gotify"))
        .env("GOTIFY_TOKEN", "nope");
    let run = bad.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "gotify")
            .contains("rejected: HTTP 401: you need to provide a valid access token"),
        "{run:?}"
    );
    let odd = Sandbox::new()
        .env("GOTIFY_URL", mock.url("/gotify"))
        .env("GOTIFY_TOKEN", "AzX1.token_value")
        .env("GOTIFY_PRIORITY", "high");
    let run = odd.run(&["send", "--wait", "0", "T", "B"]);
    assert!(
        failure_of(&run, "gotify").contains("setting `priority` has an invalid value"),
        "{run:?}"
    );
}
