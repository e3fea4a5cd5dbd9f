//! Trust in a dropped-in plugin file is the user's: a file with a bundled
//! plugin's id, or one asking for more than the user approved, is not used
//! until approved (`plugin trust ID`, `plugin install --force`); bundled URL
//! schemes stay bundled; a plugin file reads no environment variable until
//! the user approved its names, and `MCP_PUSH_*` is never given to any.
//!
//! Every "evil" host here is a mock on 127.0.0.1 that records what reaches it.

mod support;

use serde_json::Value;
use support::services::{self, TG_TOKEN};
use support::{Mock, Sandbox, grabber_v2_wasm, grabber_wasm, impostor_wasm};

fn telegram() -> Mock {
    Mock::service(services::telegram())
}

fn sends_to_telegram(tg: &Mock) -> usize {
    tg.requests_to(&format!("/bot{TG_TOKEN}/sendMessage")).len()
}

#[test]
fn a_file_with_a_bundled_id_gets_nothing_until_the_user_approves_it() {
    let tg = telegram();
    let evil = Mock::start();
    let home = Sandbox::new()
        .env("TG_BOT_TOKEN", TG_TOKEN)
        .env("TG_USER_ID", "42")
        .env("TG_API_HOST", tg.url(""))
        .env("IMPOSTOR_DROP", evil.url("/stolen"));
    home.install(&impostor_wasm(), "telegram.wasm");

    // The bundled telegram delivers; the impostor is never called.
    let run = home.run(&["send", "Build 7", "passed"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sends_to_telegram(&tg), 1, "{run:?}");
    assert!(evil.requests().is_empty(), "{:?}", evil.requests());
    assert!(
        run.stderr.contains("replaces the bundled `telegram`")
            && run.stderr.contains("mcp-push plugin trust telegram"),
        "{run:?}"
    );
    let channels = home.run(&["channels"]);
    assert!(
        channels
            .stdout
            .contains("not used: awaiting approval: mcp-push plugin trust telegram"),
        "{channels:?}"
    );
    let line = channels
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("telegram  plugin telegram"))
        .unwrap_or_else(|| panic!("{channels:?}"));
    assert!(
        line.contains("the bundled telegram") && line.contains("awaiting approval"),
        "{line}"
    );
    let list = home.run(&["plugin", "list"]);
    assert!(
        list.stdout.lines().any(|l| l.starts_with("telegram")
            && l.contains("9.9.9")
            && l.contains("[not used: awaiting approval")),
        "{list:?}"
    );

    // Approving shows what it gives, and is recorded in the config dir.
    let trust = home.run(&["plugin", "trust", "telegram"]);
    assert_eq!(trust.code, 0, "{trust:?}");
    for want in [
        "approved telegram 9.9.9",
        "replaces the bundled `telegram`",
        "setting:drop",
        "secret settings  token",
        "IMPOSTOR_DROP",
        "TG_BOT_TOKEN",
    ] {
        assert!(trust.stdout.contains(want), "{want:?} in {trust:?}");
    }
    let record = home.dir.path().join("config/mcp-push/trusted-plugins.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains("[plugins.telegram]"), "{text}");

    // From now on it is the user's choice: used, marked, and warned about on
    // every load.
    let run = home.run(&["send", "Build 8", "passed"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(evil.requests().len(), 1);
    assert_eq!(evil.requests()[0].json()["token"], TG_TOKEN);
    assert_eq!(sends_to_telegram(&tg), 1);
    assert!(
        run.stderr
            .contains("replaces the bundled `telegram` (you approved it)"),
        "{run:?}"
    );
    let channels = home.run(&["channels"]);
    assert!(
        channels.stdout.contains("(replaces bundled telegram)"),
        "{channels:?}"
    );
}

#[test]
fn install_asks_before_replacing_a_bundled_plugin_and_remove_forgets_the_approval() {
    let home = Sandbox::new();
    let file = impostor_wasm();
    let file = file.to_str().unwrap();

    let check = home.run(&["plugin", "check", file]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check.stdout.contains("needs approval before it is used")
            && check.stdout.contains("replaces the bundled `telegram`"),
        "{check:?}"
    );
    let json: Value =
        serde_json::from_str(&home.run(&["plugin", "check", "--json", file]).stdout).unwrap();
    assert_eq!(json["approval"]["state"], "awaiting");
    assert_eq!(json["approval"]["would_approve"]["replaces_bundled"], true);

    let refused = home.run(&["plugin", "install", file]);
    assert_eq!(refused.code, 1, "{refused:?}");
    for want in [
        "`telegram` 9.9.9 replaces the bundled `telegram`",
        "setting:drop",
        "TG_BOT_TOKEN",
        "mcp-push plugin install --force",
    ] {
        assert!(refused.stderr.contains(want), "{want:?} in {refused:?}");
    }
    assert!(!home.plugins_dir().join("telegram.wasm").exists());

    let forced = home.run(&["plugin", "install", "--force", file]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(
        forced.stdout.contains("approved (recorded in")
            && forced.stdout.contains("replaces the bundled `telegram`"),
        "{forced:?}"
    );
    let list = home.run(&["plugin", "list"]);
    assert!(
        list.stdout
            .contains("[approved; replaces bundled telegram]"),
        "{list:?}"
    );

    // Removing the file drops the approval: the same file dropped in again
    // is asked about again.
    let removed = home.run(&["plugin", "remove", "telegram"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(
        removed
            .stdout
            .contains("your approval of `telegram` is forgotten"),
        "{removed:?}"
    );
    home.install(&impostor_wasm(), "telegram.wasm");
    let list = home.run(&["plugin", "list"]);
    assert!(
        list.stdout.contains("[not used: awaiting approval"),
        "{list:?}"
    );
}

#[test]
fn bundled_schemes_stay_with_the_bundled_plugin() {
    let tg = telegram();
    let home = Sandbox::new().config(&format!(
        "[channels.tg]\nurl = \"tgram://{TG_TOKEN}/42\"\napi_host = \"{}\"\n",
        tg.url("")
    ));
    home.install(&grabber_wasm(), "grabber.wasm");

    for round in ["before approval", "after approval"] {
        let run = home.run(&["send", "--channel", "tg", "T", round]);
        assert_eq!(run.code, 0, "{round}: {run:?}");
        assert!(tg.requests_to("/grabbed").is_empty(), "{round}: {run:?}");
        assert!(
            run.stderr
                .contains("lists the scheme tgram://, which the bundled `telegram` owns"),
            "{round}: {run:?}"
        );
        let channels = home.run(&["channels"]);
        assert!(
            channels.stdout.contains("tg  plugin telegram,"),
            "{round}: {channels:?}"
        );
        // Approving the grabber's hosts and environment gives it no scheme.
        let trust = home.run(&["plugin", "trust", "grabber"]);
        assert_eq!(trust.code, 0, "{trust:?}");
    }
    assert_eq!(sends_to_telegram(&tg), 2);
}

/// The values the grabber reaches for, by environment name.
const LOOT: [(&str, &str); 4] = [
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-value-1"),
    ("GITHUB_TOKEN", "ghp-value-2"),
    ("MCP_PUSH_TOKEN", "mcp-push-bearer-value-3"),
    ("TG_BOT_TOKEN", "tg-token-value-4"),
];

fn grabber_home(evil: &Mock) -> Sandbox {
    let mut home = Sandbox::new().env("GRABBER_URL", evil.url(""));
    for (k, v) in LOOT {
        home = home.env(k, v);
    }
    home
}

#[test]
fn a_plugin_file_reads_no_environment_until_approved_and_never_mcp_push_own() {
    let evil = Mock::start();
    let home = grabber_home(&evil);
    home.install(&grabber_wasm(), "grabber.wasm");

    // Not approved: the grabber does not turn itself on from the environment.
    let run = home.run(&["send", "T", "B"]);
    assert!(evil.requests().is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("mcp-push plugin trust grabber"),
        "{run:?}"
    );

    // What approving would give, with credential-looking settings secret
    // whatever the plugin said.
    let check = home.run(&["plugin", "check", grabber_wasm().to_str().unwrap()]);
    assert_eq!(check.code, 0, "{check:?}");
    for key in ["aws", "github", "bearer", "tg"] {
        let line = check
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("{key}: {check:?}"));
        assert!(line.contains("secret"), "{line}");
    }
    assert!(
        check
            .stdout
            .contains("MCP_PUSH_TOKEN (mcp-push's own: never given)"),
        "{check:?}"
    );

    // Approved: it reads the names the user approved, but never MCP_PUSH_*.
    let trust = home.run(&["plugin", "trust", "grabber"]);
    assert_eq!(trust.code, 0, "{trust:?}");
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    let got = evil.requests_to("/grabbed");
    assert_eq!(got.len(), 1, "{run:?}");
    let body = got[0].json();
    assert_eq!(body["aws"], "aws-secret-value-1");
    assert_eq!(body["tg"], "tg-token-value-4");
    assert!(body.get("bearer").is_none(), "{body}");
    assert!(!got[0].text().contains("mcp-push-bearer-value-3"));
    for (_, v) in LOOT {
        assert!(!run.all_output().contains(v), "{v} shown: {run:?}");
    }
}

#[test]
fn a_changed_capability_set_is_asked_about_again() {
    let evil = Mock::start();
    let home = grabber_home(&evil);
    let v1 = grabber_wasm();
    let v2 = grabber_v2_wasm();
    let install = home.run(&["plugin", "install", v1.to_str().unwrap()]);
    assert_eq!(install.code, 0, "{install:?}");
    assert!(
        install.stdout.contains("approved (recorded in"),
        "{install:?}"
    );
    assert_eq!(home.run(&["send", "T", "one"]).code, 0);
    assert_eq!(evil.requests_to("/grabbed").len(), 1);

    // The file changes under the user's feet: one more host.
    home.install(&v2, "grabber.wasm");
    let run = home.run(&["send", "T", "two"]);
    assert_eq!(evil.requests_to("/grabbed").len(), 1, "{run:?}");
    assert!(
        run.stderr.contains("asks for what you did not approve")
            && run.stderr.contains("+ allowed host collector.invalid"),
        "{run:?}"
    );
    let channels = home.run(&["channels"]);
    assert!(
        channels.stdout.contains(
            "grabber  not enabled: its plugin is awaiting approval: mcp-push plugin trust grabber"
        ),
        "{channels:?}"
    );

    // install says what changed and how to approve it; --force approves.
    let refused = home.run(&["plugin", "install", v2.to_str().unwrap()]);
    assert_eq!(refused.code, 1, "{refused:?}");
    for want in [
        "`grabber` 2.0.0 asks for what you did not approve",
        "changed since you approved grabber 1.0.0",
        "+ allowed host collector.invalid",
        "mcp-push plugin install --force",
    ] {
        assert!(refused.stderr.contains(want), "{want:?} in {refused:?}");
    }
    let forced = home.run(&["plugin", "install", "--force", v2.to_str().unwrap()]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(
        forced.stdout.contains(
            "changed since you approved grabber 1.0.0:\n  + allowed host collector.invalid"
        ),
        "{forced:?}"
    );
    let run = home.run(&["send", "T", "three"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(evil.requests_to("/grabbed").len(), 2, "{run:?}");
}

#[test]
fn a_running_server_applies_an_approval_without_a_restart() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let home = Sandbox::new()
        .env("TG_BOT_TOKEN", TG_TOKEN)
        .env("TG_USER_ID", "42")
        .env("MCP_PUSH_LOG", "info");
    home.install(&impostor_wasm(), "telegram.wasm");
    let mut child = home
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The log up to the first line that holds `want`; the wait is a hang
    // guard, not a measurement.
    let mut log = String::new();
    let mut until = |want: &str| -> bool {
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
            log.push_str(&line);
            log.push('\n');
            if line.contains(want) {
                return true;
            }
        }
        false
    };
    assert!(until("listening on http://"));
    let trust = home.run(&["plugin", "trust", "telegram"]);
    assert_eq!(trust.code, 0, "{trust:?}");
    let approved = Instant::now();
    let reloaded = until("plugins reloaded: replaced telegram 0.1.0 with 9.9.9");
    eprintln!(
        "[measure] approval live in a running server {} ms after `plugin trust` returned",
        approved.elapsed().as_millis()
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(reloaded, "{log}");
    assert!(
        log.contains("it is not used until you approve it") && log.contains("(you approved it)"),
        "{log}"
    );
}

/// A host a plugin file reaches through a setting's default is one the user
/// never wrote, which `setting:report` alone does not show: approving names
/// it, and a record approved before it was named holds the plugin until the
/// user approves again.
#[test]
fn a_host_reached_by_a_default_is_named_for_approval() {
    let home = Sandbox::new();
    let file = support::hostile_wasm();
    let named = "127.0.0.1:9 (default of setting:report)";
    let check = home.run(&["plugin", "check", file.to_str().unwrap()]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(check.stdout.contains(named), "{check:?}");

    home.install(&file, "hostile.wasm");
    let trust = home.run(&["plugin", "trust", "hostile"]);
    assert_eq!(trust.code, 0, "{trust:?}");
    assert!(trust.stdout.contains(named), "{trust:?}");
    let list = home.run(&["plugin", "list"]);
    assert!(!list.stdout.contains("awaiting approval"), "{list:?}");

    let record = home.dir.path().join("config/mcp-push/trusted-plugins.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    let before: String = text
        .lines()
        .filter(|l| !l.contains(named))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(before, text, "{text}");
    std::fs::write(&record, before).unwrap();
    let list = home.run(&["plugin", "list"]);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("hostile") && l.contains("awaiting approval")),
        "{list:?}"
    );
    let trust = home.run(&["plugin", "trust", "hostile"]);
    assert!(trust.all_output().contains(named), "{trust:?}");
}
