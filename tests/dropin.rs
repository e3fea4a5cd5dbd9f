//! The drop-ins for qinglong's notify.py and sendNotify.js (dropin/): real
//! python3 and node scripts, written as scripts call them today, deliver
//! through the built `mcp-push` (or a running `mcp-push serve`) to mocks of
//! DingTalk and a webhook on 127.0.0.1.
//!
//! Needs python3 and node. Without one, its tests say so and pass, except
//! under CI=true, where they fail.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::services::{self, DD_SECRET, DD_TOKEN};
use support::{Mock, Run, Sandbox, mcp_client};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn binary_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mcp-push"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// python3 (the interpreter itself, not a shim that needs PATH) or node, or
/// None after saying why the test is skipped.
fn interpreter(name: &str) -> Option<PathBuf> {
    let found = match name {
        "python3" => Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())),
        _ => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|p| p.is_file()),
    };
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "the drop-in tests need {name}: .ci/run installs it");
        eprintln!("skipped: the drop-in tests need {name}");
    }
    found
}

/// The two channels of these tests, as a user's environment configures them.
struct Channels {
    dingtalk: Mock,
    sink: Mock,
}

impl Channels {
    fn start() -> Channels {
        Channels {
            dingtalk: Mock::service(services::dingtalk()),
            sink: Mock::start(),
        }
    }

    fn home(&self) -> Sandbox {
        Sandbox::new()
            .env("DD_BOT_TOKEN", DD_TOKEN)
            .env("DD_BOT_SECRET", DD_SECRET)
            .env("DD_BOT_API_URL", self.dingtalk.url(""))
            .env("WEBHOOK_URL", self.sink.url("/hook"))
    }

    /// What DingTalk showed, one entry per message.
    fn dingtalk_texts(&self) -> Vec<String> {
        self.dingtalk
            .requests()
            .iter()
            .map(|r| r.json()["text"]["content"].as_str().unwrap().to_string())
            .collect()
    }

    /// The webhook bodies posted to `path`.
    fn hooks(&self, path: &str) -> Vec<Value> {
        self.sink
            .requests()
            .iter()
            .filter(|r| r.path() == path)
            .map(|r| r.json())
            .collect()
    }
}

/// A script run the way a panel runs it: the sandbox's environment, `mcp-push`
/// on PATH (or PATH as given), python importing from dropin/python, node
/// requiring from dropin/js.
struct Script<'a> {
    home: &'a Sandbox,
    path: Option<PathBuf>,
    env: Vec<(String, String)>,
}

impl<'a> Script<'a> {
    fn new(home: &'a Sandbox) -> Script<'a> {
        Script {
            home,
            path: Some(binary_dir()),
            env: Vec::new(),
        }
    }

    /// PATH without mcp-push on it.
    fn without_mcp_push(mut self) -> Self {
        let empty = self.home.dir.path().join("empty-bin");
        std::fs::create_dir_all(&empty).unwrap();
        self.path = Some(empty);
        self
    }

    fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = self.home.command_of(program, args);
        if let Some(p) = &self.path {
            cmd.env("PATH", p);
        }
        // No __pycache__ written into the source tree.
        cmd.env("PYTHONPATH", root().join("dropin/python"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .current_dir(root().join("dropin/js"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn python(&self, py: &Path, code: &str) -> Run {
        support::run(self.command(py, &["-c", code]))
    }

    fn node(&self, node: &Path, code: &str) -> Run {
        support::run(self.command(node, &["-e", code]))
    }
}

/// The script ran to its end (it prints `script goes on` last) and exited 0.
fn ran_through(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.trim_end().ends_with("script goes on"), "{run:?}");
}

// --- notify.py -------------------------------------------------------------

#[test]
fn py_send_reaches_every_configured_channel() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    let run = Script::new(&home).python(
        &py,
        r#"
from notify import send
send("备份完成", "3 files\n12 MB\n")
print("script goes on")
"#,
    );
    ran_through(&run);
    assert!(run.stdout.contains("钉钉机器人 推送成功！"), "{run:?}");
    assert!(run.stdout.contains("自定义通知 推送成功！"), "{run:?}");
    assert_eq!(ch.dingtalk_texts(), ["备份完成\n\n3 files\n12 MB"]);
    let hooks = ch.hooks("/hook");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["title"], "备份完成");
    assert_eq!(hooks[0]["content"], "3 files\n12 MB");

    // notify.py's empty message: a line, nothing sent.
    let run = Script::new(&home).python(
        &py,
        "from notify import send\nsend('T', '')\nprint('script goes on')",
    );
    ran_through(&run);
    assert!(run.stdout.contains("T 推送内容为空！"), "{run:?}");
    assert_eq!(ch.dingtalk.requests().len(), 1);
}

#[test]
fn py_a_channel_function_reaches_only_its_channel() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    let run = Script::new(&home).python(
        &py,
        r#"
from notify import dingding_bot, custom_notify, console, wecom_bot
dingding_bot("D", "to DingTalk")
custom_notify("W", "to the webhook")
console("C", "printed here")
wecom_bot("Q", "no QYWX_KEY here")
print("script goes on")
"#,
    );
    ran_through(&run);
    assert_eq!(ch.dingtalk_texts(), ["D\n\nto DingTalk"]);
    let hooks = ch.hooks("/hook");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["content"], "to the webhook");
    assert!(run.stdout.contains("C\n\nprinted here"), "{run:?}");
    // A channel that is not configured: mcp-push says which ones are.
    assert!(
        run.stdout.contains(
            "企业微信机器人 推送失败！mcp-push: error: unknown channel `wecom-bot` (channels: dingtalk, webhook)"
        ),
        "{run:?}"
    );
}

#[test]
fn py_kwargs_override_the_environment_for_that_call() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    let other = ch.sink.url("/kwargs");
    let run = Script::new(&home).python(
        &py,
        &format!(
            r#"
import notify
notify.send("K", "kwargs", WEBHOOK_URL="{other}")
notify.custom_notify("F", "function kwargs", WEBHOOK_URL="{other}")
notify.push_config["WEBHOOK_URL"] = "{other}"
notify.custom_notify("P", "push_config")
print("script goes on")
"#
        ),
    );
    ran_through(&run);
    assert_eq!(ch.dingtalk_texts(), ["K\n\nkwargs"]);
    assert!(ch.hooks("/hook").is_empty(), "{:?}", ch.sink.requests());
    let titles: Vec<Value> = ch
        .hooks("/kwargs")
        .iter()
        .map(|b| b["title"].clone())
        .collect();
    assert_eq!(titles, ["K", "F", "P"]);
}

#[test]
fn py_ignore_default_config_sends_with_the_kwargs_alone() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    let db = home.dir.path().join("own.db");
    let home = home.env("MCP_PUSH_DB", db.to_str().unwrap());
    let only = ch.sink.url("/only");
    let run = Script::new(&home).python(
        &py,
        &format!(
            r#"
from notify import send
send("I", "kwargs only", ignore_default_config=True, WEBHOOK_URL="{only}")
send("E", "no kwargs: the environment", ignore_default_config=True)
print("script goes on")
"#
        ),
    );
    ran_through(&run);
    // DingTalk's names were left out of the first send; without kwargs
    // there is nothing to replace them with, as in notify.py.
    assert_eq!(ch.dingtalk_texts(), ["E\n\nno kwargs: the environment"]);
    let only: Vec<Value> = ch
        .hooks("/only")
        .iter()
        .map(|b| b["title"].clone())
        .collect();
    assert_eq!(only, ["I"]);
    assert_eq!(ch.hooks("/hook").len(), 1);
    // mcp-push's own MCP_PUSH_* were kept: the event went to that store.
    assert!(db.is_file(), "MCP_PUSH_DB was not used: {run:?}");
}

#[test]
fn py_skip_push_title_is_honoured() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home().env("SKIP_PUSH_TITLE", "每日签到\n其他");
    let run = Script::new(&home).python(
        &py,
        "from notify import send\nsend('每日签到', 'ok')\nsend('签到失败', 'sent')\nprint('script goes on')",
    );
    ran_through(&run);
    assert!(
        run.stdout
            .contains("每日签到 在SKIP_PUSH_TITLE环境变量内，跳过推送！"),
        "{run:?}"
    );
    assert_eq!(ch.dingtalk_texts(), ["签到失败\n\nsent"]);
}

#[test]
fn py_a_huge_message_and_a_title_like_an_option_arrive_whole() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = Sandbox::new().env("WEBHOOK_URL", ch.sink.url("/hook"));
    // 300 KB in 10,000 lines: past any single argument's limit (128 KiB).
    let run = Script::new(&home).python(
        &py,
        r#"
from notify import send
body = "\n".join("line %05d %s" % (i, "x" * 20) for i in range(10000))
send("--help -c webhook", body)
print("script goes on")
"#,
    );
    ran_through(&run);
    let hooks = ch.hooks("/hook");
    assert_eq!(hooks[0]["title"], "--help -c webhook");
    let content = hooks[0]["content"].as_str().unwrap();
    assert_eq!(content.lines().count(), 10_000);
    assert!(content.ends_with(&format!("line 09999 {}", "x".repeat(20))));
}

#[test]
fn py_through_a_running_serve() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let token = "drop-in-serve-token-0123456789";
    let server_home = ch.home().env("MCP_PUSH_TOKEN", token);
    let server = mcp_client::start_server(&server_home, "127.0.0.1:0");
    let url = format!("http://{}", server.addr);

    // The script's own environment configures nothing and has no mcp-push.
    let script_home = Sandbox::new().env("SKIP_PUSH_TITLE", "skip me");
    let script = Script::new(&script_home)
        .without_mcp_push()
        .env("MCP_PUSH_URL", &url)
        .env("MCP_PUSH_TOKEN", token);
    let run = script.python(
        &py,
        r#"
from notify import send, dingding_bot
send("S", "to the server's channels")
dingding_bot("D", "DingTalk only")
send("K", "kwargs", TG_USER_ID="42")
send("I", "kwargs only", ignore_default_config=True, WEBHOOK_URL="http://127.0.0.1:9/x")
send("skip me", "never")
print("script goes on")
"#,
    );
    ran_through(&run);
    assert!(run.stdout.contains("钉钉机器人 推送成功！"), "{run:?}");
    assert!(run.stdout.contains("自定义通知 推送成功！"), "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "注意：TG_USER_ID not applied: the mcp-push server at {url} sends with its own channels"
        )),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "mcp-push 未推送：ignore_default_config=True asks for the channels in kwargs only"
        ),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("skip me 在SKIP_PUSH_TITLE环境变量内，跳过推送！"),
        "{run:?}"
    );
    assert_eq!(
        ch.dingtalk_texts(),
        [
            "S\n\nto the server's channels",
            "D\n\nDingTalk only",
            "K\n\nkwargs"
        ]
    );
    let titles: Vec<Value> = ch
        .hooks("/hook")
        .iter()
        .map(|b| b["title"].clone())
        .collect();
    assert_eq!(titles, ["S", "K"]);

    // The server wants its token: without it, the line says what it answered.
    let run = Script::new(&script_home)
        .without_mcp_push()
        .env("MCP_PUSH_URL", &url)
        .python(
            &py,
            "from notify import send\nsend('T', 'B')\nprint('script goes on')",
        );
    ran_through(&run);
    assert!(
        run.stdout.contains(&format!(
            "mcp-push 推送失败！mcp-push serve at {url} answered 401"
        )),
        "{run:?}"
    );
    drop(server);
}

#[test]
fn py_without_mcp_push_the_script_goes_on() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    let code = "from notify import send, dingding_bot\nsend('T', 'B')\ndingding_bot('T', 'B')\nprint('script goes on')";

    let run = Script::new(&home).without_mcp_push().python(&py, code);
    ran_through(&run);
    assert!(
        run.stdout.contains(
            "mcp-push 推送失败！mcp-push is not installed: there is no `mcp-push` on PATH"
        ),
        "{run:?}"
    );
    assert!(run.stdout.contains("pip install mcp-push"), "{run:?}");
    assert!(
        run.stdout
            .contains("钉钉机器人 推送失败！mcp-push is not installed"),
        "{run:?}"
    );

    let gone = home.dir.path().join("no-such-mcp-push");
    let run = Script::new(&home)
        .without_mcp_push()
        .env("MCP_PUSH_BIN", gone.to_str().unwrap())
        .python(&py, code);
    ran_through(&run);
    assert!(
        run.stdout
            .contains(&format!("mcp-push 推送失败！cannot run {}", gone.display())),
        "{run:?}"
    );

    // A server that is not there.
    let run = Script::new(&home)
        .env("MCP_PUSH_URL", "http://127.0.0.1:9")
        .python(&py, code);
    ran_through(&run);
    assert!(
        run.stdout
            .contains("mcp-push 推送失败！cannot reach mcp-push serve at http://127.0.0.1:9"),
        "{run:?}"
    );
    assert!(ch.dingtalk.requests().is_empty());
    assert!(ch.sink.requests().is_empty());
}

#[test]
fn py_the_package_and_the_single_file_are_one_file() {
    let package = std::fs::read(root().join("dropin/python/mcp_push/__init__.py")).unwrap();
    let single = std::fs::read(root().join("dropin/python/notify.py")).unwrap();
    assert!(
        package == single,
        "dropin/python/notify.py must be a copy of dropin/python/mcp_push/__init__.py: \
         cp dropin/python/mcp_push/__init__.py dropin/python/notify.py"
    );
}

/// The bundled plugins' environment names, by plugin id, as `mcp-push
/// channels --json` lists them.
fn plugin_env_names() -> BTreeMap<String, BTreeSet<String>> {
    let run = Sandbox::new().run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let listing: Value = serde_json::from_str(&run.stdout).unwrap();
    listing["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let names = p["settings"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["env"].as_array().unwrap())
                .map(|n| n.as_str().unwrap().to_string())
                .collect();
            (p["id"].as_str().unwrap().to_string(), names)
        })
        .collect()
}

#[test]
fn py_channel_table_agrees_with_the_plugins() {
    let Some(py) = interpreter("python3") else {
        return;
    };
    let home = Sandbox::new();
    let run = Script::new(&home).python(
        &py,
        r#"
import json, notify
print(json.dumps({
    "channels": {k: sorted(v[1]) for k, v in notify._CHANNELS.items()},
    "functions": notify._FUNCTIONS,
}))
"#,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let table: Value = serde_json::from_str(&run.stdout).unwrap();
    let drop_in: BTreeMap<String, BTreeSet<String>> =
        serde_json::from_value(table["channels"].clone()).unwrap();
    // Both ways: every plugin with every name it reads, and nothing more.
    assert_eq!(drop_in, plugin_env_names());
    for (function, channel) in table["functions"].as_object().unwrap() {
        assert!(
            drop_in.contains_key(channel.as_str().unwrap()),
            "{function} sends to {channel}, which is no plugin"
        );
    }
}

// --- sendNotify.js ---------------------------------------------------------

#[test]
fn js_send_notify_reaches_every_configured_channel() {
    let Some(node) = interpreter("node") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    let run = Script::new(&home).node(
        &node,
        r#"
const notify = require('./sendNotify');
notify
  .sendNotify('签到结果', '账号1 成功\n账号2 成功', { url: 'https://example.com/log' }, '\n\nby me')
  .then(() => console.log('script goes on'));
"#,
    );
    ran_through(&run);
    assert!(run.stdout.contains("钉钉 发送通知消息成功🎉"), "{run:?}");
    assert!(
        run.stdout.contains("自定义通知 发送通知消息成功🎉"),
        "{run:?}"
    );
    // params.url is the message's link, which DingTalk's text writes out.
    assert_eq!(
        ch.dingtalk_texts(),
        ["签到结果\n\n账号1 成功\n账号2 成功\n\nby me\n\nhttps://example.com/log"]
    );
    assert_eq!(
        ch.hooks("/hook")[0]["content"],
        "账号1 成功\n账号2 成功\n\nby me"
    );
}

#[test]
fn js_skip_push_title_and_a_missing_mcp_push() {
    let Some(node) = interpreter("node") else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home().env("SKIP_PUSH_TITLE", "每日签到");
    let code = r#"
const { sendNotify } = require('./sendNotify');
(async () => {
  await sendNotify('每日签到', 'skipped');
  await sendNotify('T', 'B');
  console.log('script goes on');
})();
"#;
    let run = Script::new(&home).node(&node, code);
    ran_through(&run);
    assert!(
        run.stdout
            .contains("每日签到在 SKIP_PUSH_TITLE 环境变量内，跳过推送"),
        "{run:?}"
    );
    assert_eq!(ch.dingtalk_texts(), ["T\n\nB"]);

    let run = Script::new(&home).without_mcp_push().node(&node, code);
    ran_through(&run);
    assert!(
        run.stdout.contains(
            "mcp-push 发送通知消息失败😞 mcp-push is not installed: there is no `mcp-push` on PATH"
        ),
        "{run:?}"
    );
    assert!(run.stdout.contains("npm install -g mcp-push"), "{run:?}");
    assert_eq!(ch.dingtalk.requests().len(), 1);
}

#[test]
fn js_through_a_running_serve() {
    let Some(node) = interpreter("node") else {
        return;
    };
    let ch = Channels::start();
    let token = "drop-in-serve-token-0123456789";
    let server_home = ch.home().env("MCP_PUSH_TOKEN", token);
    let server = mcp_client::start_server(&server_home, "127.0.0.1:0");
    let url = format!("http://{}/", server.addr);
    let script_home = Sandbox::new().env("SKIP_PUSH_TITLE", "skip me");
    let run = Script::new(&script_home)
        .without_mcp_push()
        .env("MCP_PUSH_URL", &url)
        .env("MCP_PUSH_TOKEN", token)
        .node(
            &node,
            r#"
const { sendNotify } = require('./sendNotify');
(async () => {
  await sendNotify('S', 'through serve', { url: 'https://example.com/run/7' });
  await sendNotify('skip me', 'never');
  console.log('script goes on');
})();
"#,
        );
    ran_through(&run);
    assert!(run.stdout.contains("钉钉 发送通知消息成功🎉"), "{run:?}");
    assert!(
        run.stdout.contains("自定义通知 发送通知消息成功🎉"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("skip me在 SKIP_PUSH_TITLE 环境变量内，跳过推送"),
        "{run:?}"
    );
    assert_eq!(
        ch.dingtalk_texts(),
        ["S\n\nthrough serve\n\nhttps://example.com/run/7"]
    );
    assert_eq!(ch.hooks("/hook").len(), 1);

    // Nothing listens there: the line says so and the script goes on.
    let run = Script::new(&script_home)
        .without_mcp_push()
        .env("MCP_PUSH_URL", "http://127.0.0.1:9")
        .node(
            &node,
            "require('./sendNotify').sendNotify('T', 'B').then(() => console.log('script goes on'))",
        );
    ran_through(&run);
    assert!(
        run.stdout.contains(
            "mcp-push 发送通知消息失败😞 cannot reach mcp-push serve at http://127.0.0.1:9"
        ),
        "{run:?}"
    );
    drop(server);
}

#[test]
fn js_labels_name_real_channels() {
    let source = std::fs::read_to_string(root().join("dropin/js/sendNotify.js")).unwrap();
    let table = source
        .split("const LABELS = {")
        .nth(1)
        .and_then(|rest| rest.split("};").next())
        .expect("sendNotify.js has its LABELS table");
    let plugins = plugin_env_names();
    let keys: Vec<&str> = table
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, _)| k.trim().trim_matches('\''))
        .collect();
    assert!(keys.len() > 20, "{keys:?}");
    for key in keys {
        assert!(
            plugins.contains_key(key),
            "LABELS names {key}, which is no plugin"
        );
    }
}

// --- README -----------------------------------------------------------------

/// The fenced `language` blocks of the README's drop-in section.
fn readme_blocks(language: &str) -> Vec<String> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("\n## Switching from notify.py / sendNotify.js\n")
        .nth(1)
        .expect("README.md has its drop-in section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match &mut current {
            None if line.trim() == format!("```{language}") => current = Some(String::new()),
            Some(_) if line.trim() == "```" => out.extend(current.take()),
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn the_readme_examples_run() {
    let (Some(py), Some(node)) = (interpreter("python3"), interpreter("node")) else {
        return;
    };
    let ch = Channels::start();
    let home = ch.home();
    // The README's endpoint is a local one; the test's mock stands in for it.
    let here = |code: &str| code.replace("http://127.0.0.1:8080", &ch.sink.url(""));
    let python = readme_blocks("python");
    let js = readme_blocks("js");
    assert_eq!((python.len(), js.len()), (1, 1), "{python:?} {js:?}");

    let run = Script::new(&home).python(&py, &here(&python[0]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("失败"), "{run:?}");
    assert_eq!(ch.dingtalk.requests().len(), 2, "{run:?}");
    assert_eq!(ch.hooks("/hook").len(), 2, "{run:?}");

    let run = Script::new(&home).node(&node, &here(&js[0]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("钉钉 发送通知消息成功🎉"), "{run:?}");
    assert!(!run.stdout.contains("失败"), "{run:?}");
}
