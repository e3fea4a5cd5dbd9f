//! `mcp-push watch` and the config file's `[watchers.NAME]` tables (issue
//! 18), through the real binary in a private home.

mod support;

use serde_json::Value;
use support::mcp_client::start_server;
use support::{Mock, Run, Sandbox};

fn json_of(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

fn names(home: &Sandbox) -> Vec<(String, String)> {
    home.json_list(&["watch", "list", "--json"])
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_string(),
                w["origin"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_watcher_is_added_listed_paused_resumed_and_removed() {
    let home = Sandbox::new();
    let added = json_of(&home.run(&[
        "watch",
        "add",
        "standup",
        "--schedule",
        "weekdays 09:00",
        "--title",
        "Check the project status",
        "--json",
    ]));
    assert_eq!(added["kind"], "schedule");
    assert_eq!(added["state"], "active");
    assert_eq!(added["origin"], "api");
    assert_eq!(names(&home), [("standup".into(), "api".into())]);

    let shown = home.run(&["watch", "show", "standup"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(shown.stdout.contains("weekdays 09:00"), "{shown:?}");

    let paused = json_of(&home.run(&["watch", "pause", "standup", "--json"]));
    assert_eq!(paused["state"], "paused");
    let id = paused["id"].to_string();
    let resumed = json_of(&home.run(&["watch", "resume", &id, "--json"]));
    assert_eq!(resumed["state"], "active");

    let removed = home.run(&["watch", "rm", "standup"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(names(&home).is_empty());
    let gone = home.run(&["watch", "show", "standup"]);
    assert_eq!(gone.code, 2, "{gone:?}");
    assert!(gone.stderr.contains("no watcher \"standup\""), "{gone:?}");
}

#[test]
fn add_takes_each_kind_by_its_options_or_a_json_spec() {
    let home = Sandbox::new();
    for args in [
        &[
            "ai-news",
            "--web",
            "https://techcrunch.com/",
            "--every",
            "30m",
            "--keyword",
            "AI",
        ][..],
        &[
            "morning",
            "--feed",
            "https://example.com/feed.xml",
            "--every",
            "1h",
            "--digest",
            "daily 08:00",
        ],
        &[
            "btc",
            "--threshold",
            "https://api.example.com/price?key=hunter2",
            "--pointer",
            "/bitcoin/usd",
            "--above",
            "50000",
            "--every",
            "5m",
        ],
    ] {
        let run = home.run(&[&["watch", "add"][..], args].concat());
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
    }
    let spec = r#"{"kind": "schedule", "schedule": "0 9 * * 1-5", "timezone": "Europe/Paris", "title": "Hello"}"#;
    let run = home.run_with_stdin(&["watch", "add", "hello", "--spec", "-"], spec);
    assert_eq!(run.code, 0, "{run:?}");
    let all = home.json_list(&["watch", "list", "--json"]);
    let kinds: Vec<_> = all.iter().map(|w| w["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["web", "feed", "threshold", "schedule"]);
    assert_eq!(all[1]["spec"]["digest"], "daily 08:00");
    assert_eq!(all[2]["spec"]["pointer"], "/bitcoin/usd");
    // The key in the threshold's URL is never shown.
    let listed = home.run(&["watch", "list", "--json"]);
    assert!(!listed.stdout.contains("hunter2"), "{listed:?}");

    // edit changes fields and keeps the rest.
    let edited = json_of(&home.run(&["watch", "edit", "btc", "--above", "60000", "--json"]));
    assert_eq!(edited["spec"]["above"], 60000.0);
    assert_eq!(edited["spec"]["pointer"], "/bitcoin/usd");
}

#[test]
fn a_bad_field_is_named() {
    let home = Sandbox::new();
    let run = home.run(&[
        "watch",
        "add",
        "news",
        "--web",
        "https://example.com/",
        "--every",
        "soon",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("every"), "{run:?}");
    let run = home.run(&[
        "watch",
        "add",
        "x",
        "--web",
        "https://a.example/",
        "--feed",
        "https://b.example/",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("one kind"), "{run:?}");
    let run = home.run(&["watch", "add", "x", "--spec", "[1]"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--spec"), "{run:?}");
}

#[test]
fn run_says_what_would_be_sent_and_sends_only_when_asked() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let run = home.run(&[
        "watch",
        "add",
        "standup",
        "--schedule",
        "weekdays 09:00",
        "--title",
        "Check the project status",
    ]);
    assert_eq!(run.code, 0, "{run:?}");

    let dry = home.run(&["watch", "run", "standup"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains("would send: Check the project status"),
        "{dry:?}"
    );
    assert!(mock.requests().is_empty());

    let sent = json_of(&home.run(&["watch", "run", "standup", "--send", "--json"]));
    assert_eq!(sent["sent"], true);
    assert_eq!(sent["events"].as_array().unwrap().len(), 1, "{sent}");
    let got = mock.requests();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].text().contains("Check the project status"),
        "{}",
        got[0].text()
    );
}

const FILE: &str = r#"
[watchers]
min_interval = "1m"

[watchers.standup]
kind = "schedule"
schedule = "weekdays 09:00"
title = "Stand-up"
"#;

#[test]
fn the_config_files_watchers_are_in_the_store_after_start_and_leave_with_their_table() {
    let home = Sandbox::new().config(FILE);
    // The CLI shows a file's watcher once `serve` has started with it.
    {
        let _server = start_server(&home, "127.0.0.1:0");
    }
    assert_eq!(names(&home), [("standup".into(), "file".into())]);
    let rm = home.run(&["watch", "rm", "standup"]);
    assert_eq!(rm.code, 2, "{rm:?}");
    assert!(rm.stderr.contains("[watchers.standup]"), "{rm:?}");

    std::fs::write(home.dir.path().join("config.toml"), "").unwrap();
    {
        let _server = start_server(&home, "127.0.0.1:0");
    }
    assert!(names(&home).is_empty());
}

#[test]
fn a_bad_field_in_the_config_file_is_named_with_its_table() {
    let home = Sandbox::new().config(&FILE.replace("weekdays 09:00", "someday"));
    let run = home.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("watchers.standup.schedule"), "{run:?}");
}
