//! Agent hooks end to end: payloads in each agent's documented format (see
//! host/src/hook/payload.rs for the sources) go to the real binary, and a
//! webhook mock counts what is delivered. `setup` is run on temporary
//! agent configuration files, and the hook command it registers is then run
//! the way the agent runs it (through `sh -c`).

mod support;

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Mock, Recorded, Reply, Run, Sandbox};

fn home(mock: &Mock) -> Sandbox {
    Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"))
}

fn claude(event: &str, extra: Value) -> String {
    let mut v = json!({
        "session_id": "3f2a9c1e-58d4-4b8e-9d0b-7f8e6a1b2c3d",
        "transcript_path": "/nonexistent/transcript.jsonl",
        "cwd": "/home/me/shop",
        "permission_mode": "default",
        "hook_event_name": event,
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v.to_string()
}

fn hook(home: &Sandbox, args: &[&str], input: &str) -> Run {
    let mut all = vec!["hook"];
    all.extend_from_slice(args);
    let run = home.run_with_stdin(&all, input);
    assert_eq!(run.code, 0, "a hook always exits 0: {run:?}");
    run
}

fn sent(mock: &Mock) -> Vec<(String, String)> {
    mock.requests()
        .iter()
        .map(|r| {
            let v = r.json();
            (
                v["title"].as_str().unwrap_or("").to_string(),
                v["content"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn runs(home: &Sandbox) -> Vec<Value> {
    home.json_list(&["runs", "--json"])
}

#[test]
fn a_claude_code_turn_is_a_run_from_the_prompt_to_the_stop() {
    let mock = Mock::start();
    let home = home(&mock);
    let prompt = hook(
        &home,
        &["claude-code"],
        &claude("UserPromptSubmit", json!({"prompt": "fix the login bug"})),
    );
    // Claude Code adds a prompt hook's output to the model's context.
    assert_eq!(prompt.stdout, "", "{prompt:?}");
    assert_eq!(prompt.stderr, "", "{prompt:?}");
    // Older Stop payloads carry no reply: it comes from the transcript.
    let transcript = home.dir.path().join("t.jsonl");
    std::fs::write(
        &transcript,
        concat!(
            r#"{"type":"user","message":{"role":"user","content":"fix the login bug"}}"#,
            "\n",
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Fixed: the session cookie expired too early."}]}}"#,
            "\n"
        ),
    )
    .unwrap();
    let stop = hook(
        &home,
        &["claude-code"],
        &claude(
            "Stop",
            json!({"stop_hook_active": false, "transcript_path": transcript}),
        ),
    );
    assert_eq!((stop.stdout.as_str(), stop.stderr.as_str()), ("", ""));
    let got = sent(&mock);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "Claude Code is working · shop");
    assert_eq!(got[0].1, "Working on: fix the login bug");
    assert_eq!(got[1].0, "Claude Code finished · shop");
    // The store adds the run's duration, measured from the prompt.
    assert!(
        got[1]
            .1
            .starts_with("Fixed: the session cookie expired too early.\nDuration: "),
        "{got:?}"
    );
    let runs = runs(&home);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["run_id"], "claude-code/shop/3f2a9c1e/1");
    assert_eq!(runs[0]["status"], "succeeded");

    // The next prompt is the next turn, a run of its own.
    hook(
        &home,
        &["claude-code"],
        &claude("UserPromptSubmit", json!({"prompt": "now the tests"})),
    );
    let runs = self::runs(&home);
    assert!(
        runs.iter()
            .any(|r| r["run_id"] == "claude-code/shop/3f2a9c1e/2" && r["status"] == "running"),
        "{runs:?}"
    );
}

#[test]
fn a_short_turn_under_min_duration_is_recorded_but_not_sent() {
    let mock = Mock::start();
    let home = home(&mock);
    let args = ["claude-code", "--min-duration", "1m"];
    hook(
        &home,
        &args,
        &claude("UserPromptSubmit", json!({"prompt": "quick one"})),
    );
    hook(
        &home,
        &args,
        &claude("Stop", json!({"last_assistant_message": "Done."})),
    );
    assert!(mock.requests().is_empty(), "{:?}", sent(&mock));
    let runs = runs(&home);
    assert_eq!(
        runs[0]["status"], "succeeded",
        "the run is recorded: {runs:?}"
    );
    let rows = home.json_list(&["deliveries", "--json"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|d| d["state"] == "skipped"), "{rows:?}");
    assert!(
        rows[0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("--min-duration 1m 00s"),
        "the reason is kept: {rows:?}"
    );
}

#[test]
fn claude_needs_you_goes_out_at_once() {
    let mock = Mock::start();
    let home = home(&mock);
    hook(
        &home,
        &["claude-code", "--min-duration", "10m"],
        &claude(
            "Notification",
            json!({"message": "Claude needs your permission to use Bash", "notification_type": "permission_prompt"}),
        ),
    );
    assert_eq!(
        sent(&mock),
        [(
            "Claude Code needs you · shop".to_string(),
            "Claude needs your permission to use Bash".to_string()
        )]
    );
}

#[test]
fn codex_passes_its_turn_as_an_argument() {
    let mock = Mock::start();
    let home = home(&mock);
    let payload = r#"{"type":"agent-turn-complete","thread-id":"b5f6c1c2-1111-2222-3333-444455556666","turn-id":"12345","cwd":"/Users/me/api","input-messages":["Rename `foo` to `bar`."],"last-assistant-message":"Rename complete and verified `cargo build` succeeds."}"#;
    let run = home.run(&["hook", "codex", payload]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    assert_eq!(
        sent(&mock),
        [(
            "Codex finished · api".to_string(),
            "Rename complete and verified `cargo build` succeeds.".to_string()
        )]
    );
}

#[test]
fn gemini_gets_json_on_standard_output() {
    let mock = Mock::start();
    let home = home(&mock);
    let base = json!({"session_id": "g1", "transcript_path": "/g.json", "cwd": "/w/site", "timestamp": "2026-12-02T10:00:00Z"});
    let with = |extra: Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v.to_string()
    };
    let before = hook(
        &home,
        &["gemini"],
        &with(json!({"hook_event_name": "BeforeAgent", "prompt": "centre the header"})),
    );
    assert_eq!(before.stdout.trim(), "{}", "{before:?}");
    let after = hook(
        &home,
        &["gemini"],
        &with(
            json!({"hook_event_name": "AfterAgent", "prompt": "centre the header", "prompt_response": "Done: the header is centred.", "stop_hook_active": false}),
        ),
    );
    assert_eq!(after.stdout.trim(), "{}");
    let got = sent(&mock);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].0, "Gemini CLI finished · site");
    assert!(
        got[1]
            .1
            .starts_with("Done: the header is centred.\nDuration: "),
        "{got:?}"
    );
}

#[test]
fn a_hook_never_breaks_its_agent() {
    // Input that is not the agent's format.
    let mock = Mock::start();
    let run = hook(&home(&mock), &["claude-code"], "not json at all");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("mcp-push hook claude-code: the Claude Code hook input is not JSON"),
        "{run:?}"
    );
    // No channel configured.
    let bare = Sandbox::new();
    let run = hook(
        &bare,
        &["claude-code"],
        &claude("Stop", json!({"last_assistant_message": "ok"})),
    );
    assert!(run.stderr.contains("no channel is configured"), "{run:?}");
    assert_eq!(run.stdout, "");

    // A channel that is down: one attempt, the retry is the next process's.
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    let flaky = Mock::service(move |_: &Recorded| {
        if flag.load(Ordering::SeqCst) {
            Reply::text(503, "Service Unavailable")
        } else {
            Reply::text(200, "ok")
        }
    });
    let home = Sandbox::new()
        .env("WEBHOOK_URL", flaky.url("/hook"))
        .config("[retry]\nbase_delay_secs = 0.2\n");
    let run = hook(
        &home,
        &["claude-code"],
        &claude("Stop", json!({"last_assistant_message": "ok"})),
    );
    assert!(run.stderr.contains("waits in the outbox"), "{run:?}");
    assert_eq!(flaky.requests().len(), 1);
    down.store(false, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let flush = home.run(&["flush"]);
    assert_eq!(flush.code, 0, "{flush:?}");
    assert_eq!(flaky.requests().len(), 2);
}

#[test]
fn a_hung_channel_costs_the_agent_no_more_than_the_budget() {
    let hung = Mock::service(|_: &Recorded| {
        std::thread::sleep(std::time::Duration::from_secs(20));
        Reply::text(200, "ok")
    });
    let home = Sandbox::new().env("WEBHOOK_URL", hung.url("/hook"));
    let run = hook(
        &home,
        &["claude-code", "--budget", "1s"],
        &claude("Stop", json!({"last_assistant_message": "ok"})),
    );
    assert!(
        run.stderr.contains("not delivered within --budget"),
        "{run:?}"
    );
    let rows = home.json_list(&["deliveries", "--pending", "--json"]);
    assert_eq!(rows.len(), 1, "it waits in the outbox: {rows:?}");
}

/// The command a Claude Code settings file runs for `event`.
fn registered(settings: &Value, event: &str) -> String {
    settings["hooks"][event][0]["hooks"][0]["command"]
        .as_str()
        .unwrap_or_else(|| panic!("no {event} hook in {settings}"))
        .to_string()
}

#[test]
fn setup_registers_claude_code_keeps_the_users_settings_and_uninstalls_exactly() {
    let mock = Mock::start();
    let home = home(&mock);
    let dir = home.dir.path();
    let claude_dir = dir.join(".claude");
    std::fs::create_dir_all(&claude_dir).unwrap();
    let mine = "{\n  \"model\": \"opus\",\n  \"hooks\": {\n    \"Stop\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"echo done >> /tmp/mine\"\n          }\n        ]\n      }\n    ]\n  }\n}\n";
    std::fs::write(claude_dir.join("settings.json"), mine).unwrap();

    // The README's three lines.
    let first = home.run(&["setup", "claude-code"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(
        first.stdout.contains(
            "~/.claude/settings.json: hooks UserPromptSubmit, Stop, SubagentStop, Notification run"
        ),
        "{first:?}"
    );
    assert!(
        first
            .stdout
            .contains("~/.claude.json: added the MCP server \"mcp-push\""),
        "{first:?}"
    );
    assert!(
        first
            .stdout
            .contains("the old file is kept as ~/.claude/settings.json."),
        "{first:?}"
    );
    let backups: Vec<_> = std::fs::read_dir(&claude_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".mcp-push.bak"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), mine);

    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(claude_dir.join("settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings["model"], "opus");
    assert_eq!(
        settings["hooks"]["Stop"][0]["hooks"][0]["command"],
        "echo done >> /tmp/mine"
    );
    let servers: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".claude.json")).unwrap()).unwrap();
    let exe = env!("CARGO_BIN_EXE_mcp-push");
    assert_eq!(servers["mcpServers"]["mcp-push"]["command"], exe);
    assert_eq!(servers["mcpServers"]["mcp-push"]["args"], json!(["mcp"]));

    // The registered command works as Claude Code runs it: through a shell,
    // the payload on standard input.
    let stop = settings["hooks"]["Stop"][1]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(stop, format!("{exe} hook claude-code"));
    assert_eq!(registered(&settings, "UserPromptSubmit"), stop);
    let sh = home.command_of(std::path::Path::new("/bin/sh"), &["-c", &stop]);
    let run = support::run_with_input(
        sh,
        &claude("Stop", json!({"last_assistant_message": "All green."})),
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    assert_eq!(sent(&mock).len(), 1, "{:?}", sent(&mock));

    let second = home.run(&["setup", "claude-code"]);
    assert_eq!(second.code, 0);
    assert!(
        second.stdout.contains("Claude Code was set up already."),
        "{second:?}"
    );

    let longer = home.run(&["setup", "claude-code", "--min-duration", "2m"]);
    assert!(
        longer
            .stdout
            .contains("hook claude-code --min-duration 2m`"),
        "{longer:?}"
    );
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(claude_dir.join("settings.json")).unwrap())
            .unwrap();
    assert_eq!(
        settings["hooks"]["Stop"].as_array().unwrap().len(),
        2,
        "replaced, not added: {settings}"
    );

    let out = home.run(&["setup", "claude-code", "--uninstall"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(claude_dir.join("settings.json")).unwrap(),
        mine
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".claude.json")).unwrap(),
        "{}\n"
    );
}

#[test]
fn setup_codex_and_gemini_in_their_own_files() {
    let scratch = tempfile::tempdir().unwrap();
    let codex_home = scratch.path().join("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = "# mine\nmodel = \"gpt-5-codex\"\n";
    std::fs::write(codex_home.join("config.toml"), config).unwrap();
    let home = Sandbox::new().env("CODEX_HOME", codex_home.display().to_string());
    let dir = home.dir.path();

    let run = home.run(&["setup", "codex", "--command", "uvx mcp-push"]);
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    assert!(
        text.starts_with("# mine\nmodel = \"gpt-5-codex\"\nnotify = [\"uvx\", \"mcp-push\", \"hook\", \"codex\"]\n"),
        "{text}"
    );
    assert!(
        text.contains("[mcp_servers.mcp-push]\ncommand = \"uvx\"\nargs = [\"mcp-push\", \"mcp\"]"),
        "{text}"
    );
    let dry = home.run(&[
        "setup",
        "codex",
        "--command",
        "uvx mcp-push",
        "--uninstall",
        "--dry-run",
    ]);
    assert!(
        dry.stdout.contains("removed notify") && dry.stdout.contains("nothing was written"),
        "{dry:?}"
    );
    assert_eq!(
        std::fs::read_to_string(codex_home.join("config.toml")).unwrap(),
        text
    );
    home.run(&["setup", "codex", "--uninstall"]);
    assert_eq!(
        std::fs::read_to_string(codex_home.join("config.toml")).unwrap(),
        config
    );

    let run = home.run(&["setup", "gemini", "--cooldown", "5m"]);
    assert_eq!(run.code, 0, "{run:?}");
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".gemini/settings.json")).unwrap())
            .unwrap();
    assert_eq!(
        registered(&settings, "AfterAgent"),
        format!(
            "{} hook gemini --cooldown 5m",
            env!("CARGO_BIN_EXE_mcp-push")
        )
    );
    assert_eq!(settings["mcpServers"]["mcp-push"]["args"], json!(["mcp"]));

    let broken = Sandbox::new();
    std::fs::create_dir_all(broken.dir.path().join(".gemini")).unwrap();
    std::fs::write(broken.dir.path().join(".gemini/settings.json"), "{ oops").unwrap();
    let run = broken.run(&["setup", "gemini"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("settings.json: not a JSON object")
            && run.stderr.contains("nothing was changed"),
        "{run:?}"
    );
}
