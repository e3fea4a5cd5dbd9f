//! The sandbox: a test-only hostile component misbehaves in every way we know,
//! and each time only its own delivery fails while a webhook channel in the
//! same send still delivers.

mod support;

use mcp_push::notification::Notification;
use mcp_push::plugin::{
    Compiler, DeliveryError, Limits, PluginSource, Runtime, RuntimeOptions, SettingValue,
};
use std::time::{Duration, Instant};
use support::{Mock, Run, Sandbox, hostile_wasm, shared_cache_dir};

const SECRET: &str = "tok-9f8e7d6c5b4a";

/// A send to a hostile channel in `mode` plus a healthy webhook channel.
fn send_with(mode: &str, mock: &Mock, url_path: &str, extra: &str) -> Run {
    let home = Sandbox::new().config(&format!(
        "from_env = false\n\
         [sandbox]\ntimeout_secs = 2\nmemory_mib = 16\n\
         [channels.bad]\nplugin = \"hostile\"\nmode = \"{mode}\"\nurl = \"{}\"\ntoken = \"{SECRET}\"\n{extra}\n\
         [channels.good]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        mock.url(url_path),
        mock.url("/good"),
    ));
    home.install(&hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "-vv", "Title", "Body"]);
    assert_eq!(
        mock.requests_to("/good").len(),
        1,
        "the healthy channel must deliver whatever the other does: {run:?}"
    );
    assert!(run.stdout.contains("good  ok"), "{}", run.stdout);
    assert!(
        !run.all_output().contains(SECRET),
        "secret leaked: {}",
        run.all_output()
    );
    run
}

/// The hostile plugin's settings, none of them secret.
fn hostile_settings(pairs: &[(&str, &str)]) -> Vec<SettingValue> {
    pairs
        .iter()
        .map(|(key, value)| SettingValue {
            key: (*key).into(),
            value: (*value).into(),
            secret: false,
        })
        .collect()
}

fn bad_line(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.starts_with("bad"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_endless_loop_is_stopped_at_the_deadline() {
    let mock = Mock::start();
    let run = send_with("loop", &mock, "/x", "");
    // A timeout may pass: it is retried later; the good channel delivered (partial, exit 1).
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        bad_line(&run).contains("retrying  timed out: the channel did not finish within 2 s"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_memory_bomb_traps() {
    let mock = Mock::start();
    let run = send_with("membomb", &mock, "/x", "");
    assert_eq!(run.code, 1);
    assert!(
        bad_line(&run).contains("failed  plugin failed: it ran out of memory (limit 16 MiB)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_fetch_to_an_undeclared_host_is_denied() {
    let mock = Mock::start();
    let target = mock.undeclared_url("/stolen");
    let run = send_with("undeclared", &mock, "/x", &format!("target = \"{target}\""));
    assert_eq!(run.code, 1);
    assert!(
        bad_line(&run).contains("configuration: request denied: localhost:")
            && bad_line(&run)
                .contains("is not an allowed host of this channel (allowed: 127.0.0.1:"),
        "{}",
        run.stdout
    );
    assert!(mock.requests_to("/stolen").is_empty());
}

#[test]
fn a_redirect_to_an_undeclared_host_is_denied() {
    let mock = Mock::start();
    let to = mock.undeclared_url("/stolen");
    let run = send_with("redirect", &mock, &format!("/redirect?to={to}"), "");
    assert_eq!(run.code, 1);
    assert!(
        bad_line(&run).contains("request denied: redirect to localhost:"),
        "{}",
        run.stdout
    );
    assert_eq!(mock.requests_to("/redirect").len(), 1);
    assert!(mock.requests_to("/stolen").is_empty());
}

#[test]
fn an_oversized_response_is_cut_at_the_cap() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.bad]\nplugin = \"hostile\"\nmode = \"bigbody\"\nurl = \"{}\"\n",
        mock.url("/big")
    ));
    home.install(&hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "--json", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // 1 MiB of the 5 MiB body, flagged as cut.
    assert_eq!(v["channels"][0]["remote_id"], "1048576:true");
}

#[test]
fn a_component_sees_only_placeholders_of_secrets() {
    let mock = Mock::start();
    let target = mock.undeclared_url("/exfil");
    let run = send_with("leak", &mock, "/leak", &format!("target = \"{target}\""));
    assert_eq!(run.code, 0, "{run:?}");
    // What it logged and reported says where the secret is, not what it is.
    assert!(run.stderr.contains("my settings:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("token=<secret:token>"),
        "{}",
        run.stderr
    );
    assert!(bad_line(&run).contains("ok"), "{}", run.stdout);
    // What it posted (encoded, so the host could not swap anything in) holds a
    // placeholder, never the value.
    use base64::Engine as _;
    let posted = mock.requests_to("/leak");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&posted[0].body)
        .unwrap();
    let decoded = String::from_utf8(decoded).unwrap();
    assert!(decoded.contains("token=MCPPUSHSECRET_"), "{decoded}");
    assert!(!decoded.contains(SECRET));
    // And the secret went nowhere it was not declared for.
    assert!(mock.requests_to("/exfil").is_empty());
}

#[test]
fn a_panic_fails_only_its_delivery_and_says_why() {
    let mock = Mock::start();
    let run = send_with("panic", &mock, "/x", "");
    assert_eq!(run.code, 1);
    let line = bad_line(&run);
    assert!(line.contains("failed  plugin failed:"), "{line}");
    assert!(line.contains("panicked at"), "{line}");
    assert!(
        line.contains("hostile plugin panicked on purpose"),
        "{line}"
    );
}

#[test]
fn the_request_budget_is_enforced() {
    let mock = Mock::start();
    let run = send_with("fetches", &mock, "/count", "");
    assert_eq!(run.code, 1);
    assert!(
        bad_line(&run).contains("request 9 failed:")
            && bad_line(&run).contains("request denied: a send may make at most 8 requests"),
        "{}",
        run.stdout
    );
    assert_eq!(mock.requests_to("/count").len(), 8);
}

/// The legacy `split` at a separator the plugin declared no shape for
/// answers the value as opaque (one part, the placeholder itself), and the
/// placeholder named in an error is described, not shown.
#[test]
fn an_undeclared_split_is_opaque_and_its_placeholder_is_named_not_shown() {
    let mock = Mock::start();
    let run = send_with("split", &mock, "/x", "");
    assert_eq!(run.code, 1);
    let line = bad_line(&run);
    assert!(
        line.contains("rejected: bad part <secret:token>"),
        "{}",
        run.stdout
    );
    assert!(!run.all_output().contains("MCPPUSHSECRET_"), "{run:?}");
}

/// Sends in a long-running process take a sandbox instantiated ahead of time
/// (and leave theirs to be torn down after they answer). Each must still be
/// a store no call has used: the component counts its calls in a static, so
/// a reused store would answer "call 2". A crash or an out-of-memory in
/// between changes nothing for the next send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_send_runs_in_a_store_no_call_used_before() {
    let mock = Mock::start();
    let runtime = Runtime::new(RuntimeOptions {
        limits: Limits {
            memory_bytes: 16 << 20,
            deadline: Duration::from_secs(5),
            ..Limits::default()
        },
        cache_dir: Some(shared_cache_dir()),
        ..Default::default()
    })
    .unwrap();
    let path = hostile_wasm();
    let plugin = runtime
        .load(
            &std::fs::read(&path).unwrap(),
            None,
            PluginSource::File(path),
        )
        .await
        .unwrap();
    assert!(!plugin.spare_ready(), "loading makes no spare");
    let settings = |mode: &str| hostile_settings(&[("mode", mode), ("url", &mock.url("/x"))]);
    let msg = Notification::new("T", "B");
    let wait_for_spare = async || {
        let until = Instant::now() + Duration::from_secs(10);
        while !plugin.spare_ready() {
            assert!(Instant::now() < until, "no spare was made after a send");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    for round in 0..3 {
        for _ in 0..3 {
            let receipt = plugin
                .send("c", &settings("count"), &msg, None)
                .await
                .unwrap();
            assert_eq!(
                receipt.remote_id.as_deref(),
                Some("call 1"),
                "round {round}"
            );
            wait_for_spare().await;
        }
        let crash = plugin.send("c", &settings("panic"), &msg, None).await;
        assert!(
            matches!(&crash, Err(DeliveryError::Crashed(m)) if m.contains("panicked on purpose")),
            "{crash:?}"
        );
        wait_for_spare().await;
        let bomb = plugin.send("c", &settings("membomb"), &msg, None).await;
        assert!(
            matches!(&bomb, Err(DeliveryError::Crashed(m)) if m.contains("out of memory")),
            "{bomb:?}"
        );
        wait_for_spare().await;
    }
    // Sends at once: one may take the spare, the others instantiate their own.
    let plugin = std::sync::Arc::new(plugin);
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (plugin, settings, msg) = (plugin.clone(), settings("count"), msg.clone());
        sends.spawn(async move { plugin.send("c", &settings, &msg, None).await });
    }
    while let Some(receipt) = sends.join_next().await {
        let receipt = receipt.unwrap().unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("call 1"));
    }
}

/// One-shot commands compile with Winch, servers with Cranelift: the
/// sandbox is the engine's, and each compiler's code must keep it. A loop
/// ends at the deadline (the epoch checks are in the compiled code), a
/// memory bomb traps at the limit, a fetch to an undeclared host is refused,
/// and the next send still runs in a fresh store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_compiler_keeps_the_sandbox() {
    let mock = Mock::start();
    let path = hostile_wasm();
    let wasm = std::fs::read(&path).unwrap();
    for compiler in [Compiler::Optimizing, Compiler::Baseline] {
        let runtime = Runtime::new(RuntimeOptions {
            limits: Limits {
                memory_bytes: 16 << 20,
                deadline: Duration::from_secs(1),
                ..Limits::default()
            },
            cache_dir: Some(shared_cache_dir()),
            compiler,
        })
        .unwrap();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(runtime.compiler(), compiler, "Winch compiles for x86_64");
        let plugin = runtime
            .load(&wasm, None, PluginSource::File(path.clone()))
            .await
            .unwrap();
        let (url, target) = (mock.url("/x"), mock.undeclared_url("/stolen"));
        let settings =
            |mode: &str| hostile_settings(&[("mode", mode), ("url", &url), ("target", &target)]);
        let msg = Notification::new("T", "B");
        let started = Instant::now();
        let looped = plugin.send("c", &settings("loop"), &msg, None).await;
        let took = started.elapsed();
        assert!(
            matches!(looped, Err(DeliveryError::Timeout(_))),
            "{compiler:?}: {looped:?}"
        );
        assert!(
            took < Duration::from_secs(5),
            "{compiler:?}: loop ran {took:?}"
        );
        let bomb = plugin.send("c", &settings("membomb"), &msg, None).await;
        assert!(
            matches!(&bomb, Err(DeliveryError::Crashed(m)) if m.contains("out of memory")),
            "{compiler:?}: {bomb:?}"
        );
        let stolen = plugin.send("c", &settings("undeclared"), &msg, None).await;
        assert!(
            matches!(&stolen, Err(e) if e.to_string().contains("is not an allowed host")),
            "{compiler:?}: {stolen:?}"
        );
        let receipt = plugin.send("c", &settings("count"), &msg, None).await;
        assert_eq!(
            receipt.unwrap().remote_id.as_deref(),
            Some("call 1"),
            "{compiler:?}"
        );
    }
    assert!(mock.requests_to("/stolen").is_empty());
}
