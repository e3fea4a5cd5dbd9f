//! A newcomer's first hour with the command line (issue 15): what a first
//! script, pipe or `--help` runs into.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{Mock, Sandbox};

fn webhook_home(mock: &Mock) -> Sandbox {
    Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"))
}

/// The `ok` line's milliseconds for `channel` in `send`'s output.
fn ok_ms(stdout: &str, channel: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(channel))
        .unwrap_or_else(|| panic!("no line for {channel} in {stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1], "ok", "{line}");
    words[2].parse().unwrap()
}

// --- 1. standard input only when asked ------------------------------------

#[test]
fn send_reads_standard_input_only_when_content_is_a_dash() {
    let mock = Mock::start();
    let home = webhook_home(&mock);
    // `while read h; do mcp-push send "$h is down"; done`: the loop's pipe is
    // not the message.
    let run = home.run_with_stdin(&["send", "web is down"], "db\ncache\n");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests()[0].json()["content"], "");

    let run = home.run_with_stdin(&["send", "T", "-"], "from\na pipe\n");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests()[1].json()["content"], "from\na pipe");

    let run = home.run_with_stdin(&["send", "--stdin", "T"], "flag\n");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests()[2].json()["content"], "flag");
}

#[test]
fn send_never_waits_on_a_standard_input_that_stays_open() {
    let mock = Mock::start();
    let home = webhook_home(&mock);
    let mut child = home
        .command(&["send", "T"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The write end is held open (as a service's or an agent's stdin is).
    let _open = child.stdin.take();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("send waited on an open standard input");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

// --- 2. an event kind alone ------------------------------------------------

#[test]
fn an_event_without_a_message_says_its_kind_in_words() {
    let mock = Mock::start();
    let home = webhook_home(&mock);
    for (kind, words) in [("start", "job started"), ("end", "job finished")] {
        let run = home.run(&["event", "job", kind]);
        assert_eq!(run.code, 0, "{run:?}");
        let got = mock.requests().last().unwrap().json();
        assert!(
            got["content"].as_str().unwrap().contains(words),
            "{kind}: {got}"
        );
    }
}

// --- 3. a reader that goes away ------------------------------------------

#[test]
fn a_closed_pipe_on_stdout_ends_a_command_quietly() {
    let mock = Mock::start();
    let home = webhook_home(&mock);
    for args in [
        &["channels"][..],
        &["plugin", "list"],
        &["channels", "--json"],
    ] {
        let mut child = home
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -0`: the reader is gone before the first line.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

// --- 4. --listen, --json, usage -------------------------------------------

#[test]
fn serve_listens_on_a_host_name() {
    let home = Sandbox::new();
    let mut child = home
        .command(&["serve", "--listen", "localhost:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().map(|l| l.unwrap()).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("listening on http://"), "{first}");
}

#[test]
fn send_json_names_its_list_channels_as_rest_and_mcp_do() {
    let mock = Mock::start();
    let home = webhook_home(&mock);
    let run = home.run(&["send", "--json", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["channels"][0]["channel"], "webhook", "{v}");
    assert!(v.get("outcomes").is_none(), "{v}");
}

#[test]
fn usage_does_not_show_paths_set_in_the_environment_as_required() {
    let home = Sandbox::new().env("MCP_PUSH_DB", "/tmp/never-opened.db");
    let run = home.run(&["event"]);
    assert_eq!(run.code, 2, "{run:?}");
    let usage = run
        .stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_default();
    assert!(usage.contains("<RUN_ID>"), "{}", run.stderr);
    for flag in ["--db", "--cache-dir", "--plugins-dir"] {
        assert!(!usage.contains(flag), "{usage}");
    }
    let help = home.run(&["send", "--help"]);
    for flag in ["--format <FORMAT>", "--priority <PRIORITY>"] {
        let line = help.stdout.lines().find(|l| l.contains(flag)).unwrap();
        assert!(
            !line
                .trim_start()
                .split_once('>')
                .unwrap()
                .1
                .trim()
                .starts_with('['),
            "no help text for {flag}: {line}"
        );
    }
}

// --- 5. each delivery's own time -----------------------------------------

#[test]
fn each_channel_reports_its_own_time() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.fast]\nurl = \"json://{addr}/fast\"\n\n\
         [channels.slow]\nurl = \"json://{addr}/slow/2500\"\n",
        addr = mock.addr
    ));
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(ok_ms(&run.stdout, "slow") >= 2500, "{}", run.stdout);
    assert!(ok_ms(&run.stdout, "fast") < 1500, "{}", run.stdout);
}

// --- 6. a coalesced update ------------------------------------------------

#[test]
fn a_coalesced_update_says_why_and_exits_0() {
    let mock = Mock::start();
    let home = webhook_home(&mock);
    for args in [
        &["event", "r1", "start"][..],
        &["event", "r1", "update", "a"],
    ] {
        let run = home.run(args);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let run = home.run(&["event", "r1", "update", "b"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("queued"), "{}", run.stdout);
    assert!(
        run.stdout.contains("update_interval_secs"),
        "{}",
        run.stdout
    );
}

// --- 7. boolean switches --------------------------------------------------

#[test]
fn console_false_turns_the_console_channel_off() {
    let channels = |value: &str| {
        let home = Sandbox::new().env("CONSOLE", value);
        let run = home.run(&["channels", "--json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v["channels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str().or(c["id"].as_str()).map(String::from))
            .collect::<Vec<_>>()
    };
    for off in ["false", "FALSE", "0", "no", "Off", ""] {
        assert!(channels(off).is_empty(), "CONSOLE={off:?}");
    }
    assert_eq!(channels("true"), ["console"]);
}

// --- 8. plugin new's next steps -------------------------------------------

#[test]
fn plugin_new_prints_paths_that_work_after_the_cd() {
    let home = Sandbox::new();
    let cwd = tempfile::tempdir().unwrap();
    let run = support::run({
        let mut cmd = home.command(&["plugin", "new", "acme-news"]);
        cmd.current_dir(cwd.path());
        cmd
    });
    assert_eq!(run.code, 0, "{run:?}");
    let abs = cwd.path().canonicalize().unwrap().join("acme-news");
    assert!(
        run.stdout.contains(&abs.display().to_string()),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  cd acme-news\n"), "{}", run.stdout);
    // After `cd acme-news`, the component is under target/.
    assert!(
        run.stdout
            .contains("mcp-push plugin install target/wasm32-wasip2/release/acme_news.wasm"),
        "{}",
        run.stdout
    );
    let lib = std::fs::read_to_string(abs.join("src/lib.rs")).unwrap();
    assert!(!lib.contains("{:?}"), "a Debug format in the template");
}

// --- 9. apprise's form ----------------------------------------------------

#[test]
fn send_takes_apprise_style_title_body_and_urls() {
    let mock = Mock::start();
    // A configured channel too: URLs on the command line replace it.
    let home = webhook_home(&mock);
    let url = |path: &str| format!("json://{}{path}", mock.addr);
    let run = home.run(&[
        "send",
        "-t",
        "Deploy",
        "-b",
        "v2 is live",
        &url("/a"),
        &url("/b"),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("json-url  ok"), "{}", run.stdout);
    assert!(run.stdout.contains("json-url-2  ok"), "{}", run.stdout);
    for path in ["/a", "/b"] {
        let got = mock.requests_to(path)[0].json();
        assert_eq!(got["title"], "Deploy");
        assert_eq!(got["message"], "v2 is live");
    }
    assert!(mock.requests_to("/hook").is_empty());

    // TITLE CONTENT URL works too, and the plain form is unchanged.
    let run = home.run(&["send", "T", "B", &url("/c")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests_to("/c")[0].json()["message"], "B");
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests_to("/hook")[0].json()["content"], "B");

    // A word that is not a URL is refused, saying why.
    let run = home.run(&["send", "-t", "T", "-b", "B", "oops"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not a one-line URL"), "{}", run.stderr);
    assert_eq!(mock.requests().len(), 4);
}

// --- the runtime's worker count ---------------------------------------------

/// A bad `TOKIO_WORKER_THREADS` is a usage error that names the variable,
/// not tokio's panic; a good one is used.
#[test]
fn a_bad_worker_count_is_a_usage_error_not_a_panic() {
    let mock = Mock::start();
    for bad in ["abc", "0", "-1", ""] {
        let run = webhook_home(&mock)
            .env("TOKIO_WORKER_THREADS", bad)
            .run(&["send", "hi"]);
        assert_eq!(run.code, 2, "{bad:?}: {run:?}");
        assert!(
            run.stderr.contains("TOKIO_WORKER_THREADS"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("whole number"), "{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert!(mock.requests().is_empty());

    let run = webhook_home(&mock)
        .env("TOKIO_WORKER_THREADS", "3")
        .run(&["send", "hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests().len(), 1);
}

/// So is a bad `MCP_PUSH_PIN_THREADS` (1 or 0); a good one is used.
#[test]
fn a_bad_thread_placement_is_a_usage_error() {
    let mock = Mock::start();
    for bad in ["yes", "2", ""] {
        let run = webhook_home(&mock)
            .env("MCP_PUSH_PIN_THREADS", bad)
            .run(&["send", "hi"]);
        assert_eq!(run.code, 2, "{bad:?}: {run:?}");
        assert!(
            run.stderr.contains("MCP_PUSH_PIN_THREADS must be 1"),
            "{}",
            run.stderr
        );
    }
    assert!(mock.requests().is_empty());
    for good in ["0", "1"] {
        let run = webhook_home(&mock)
            .env("MCP_PUSH_PIN_THREADS", good)
            .run(&["send", "hi"]);
        assert_eq!(run.code, 0, "{good:?}: {run:?}");
    }
    assert_eq!(mock.requests().len(), 2);
}
