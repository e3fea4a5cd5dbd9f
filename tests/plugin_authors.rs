//! A third-party channel author's path, end to end with the real binary:
//! `plugin new` scaffolds a crate that builds out of tree and tests natively,
//! `plugin check` tells a usable component from everything else, `plugin
//! install`/`remove` manage the plugins directory, and a running `serve`
//! picks up, replaces and drops plugins without a restart.

mod support;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::mcp_client::rt;
use support::{Mock, Reply, Run, Sandbox, minor_wasm, webhook_wasm};

/// The token the end-to-end channel is configured with: must reach the mock
/// and never show in any output.
const TOKEN: &str = "tok-e2e-7f3a9c21";

// ---------------------------------------------------------------------------
// Building scaffolded crates out of tree.

/// Shared by every scaffolded crate of every run, so only the first build
/// compiles the SDK and its dependencies.
fn author_target_dir() -> PathBuf {
    support::target_dir().join("author-test")
}

/// `plugin new NAME` into a fresh directory under the author target dir.
fn scaffold(name: &str) -> PathBuf {
    let dir = author_target_dir().join("crates").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let home = Sandbox::new();
    let run = home.run(&["plugin", "new", name, "--path", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("cargo build --target wasm32-wasip2 --release")
    );
    dir
}

/// `cargo ARGS` in `dir`, offline (everything the crate needs is in the
/// workspace's lock file and so in the local registry cache), with the
/// shared target dir and none of the outer build's flags.
fn cargo(dir: &Path, args: &[&str]) -> (Run, Duration) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir)
        .args(args)
        .arg("--offline")
        .env("CARGO_TARGET_DIR", author_target_dir());
    support::wasm_build::without_outer_build(&mut cmd);
    cmd.env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PKG_NAME");
    let started = Instant::now();
    let run = support::run(cmd);
    (run, started.elapsed())
}

/// Build the crate in `dir` the way its README says, and return the component.
fn build_component(dir: &Path, name: &str) -> PathBuf {
    let (run, took) = cargo(dir, &["build", "--target", "wasm32-wasip2", "--release"]);
    assert_eq!(run.code, 0, "building {name} out of tree failed: {run:?}");
    let wasm = author_target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    let size = std::fs::metadata(&wasm).unwrap().len();
    eprintln!(
        "[measure] {name}: cargo build --target wasm32-wasip2 --release took {:.1} s; {} is {:.1} KiB",
        took.as_secs_f64(),
        wasm.display(),
        size as f64 / 1024.0
    );
    wasm
}

/// The scaffolded `acme-alerts` channel, version 0.1.0 and a 0.2.0 build of
/// the same crate (built once per test run).
struct Acme {
    v1: PathBuf,
    v2: PathBuf,
}

fn acme() -> &'static Acme {
    static BUILT: OnceLock<Acme> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = scaffold("acme-alerts");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("\n[workspace]"), "{manifest}");
        assert!(manifest.contains("mcp-push-sdk = { path = "), "{manifest}");
        assert!(dir.join("README.md").is_file() && dir.join(".gitignore").is_file());

        let built = build_component(&dir, "acme-alerts");
        let v1 = dir.join("acme-alerts-0.1.0.wasm");
        std::fs::copy(&built, &v1).unwrap();

        std::fs::write(
            dir.join("Cargo.toml"),
            manifest.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1),
        )
        .unwrap();
        let built = build_component(&dir, "acme-alerts");
        let v2 = dir.join("acme-alerts-0.2.0.wasm");
        std::fs::copy(&built, &v2).unwrap();
        Acme { v1, v2 }
    })
}

// ---------------------------------------------------------------------------
// `mcp-push serve` and an MCP client.

/// `mcp-push serve` on a free loopback port; its stderr is kept; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(home: &Sandbox) -> Server {
        let mut child = home
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let addr = loop {
            let line = lines
                .next()
                .expect("serve exited before listening")
                .unwrap();
            stderr.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Server {
            child,
            addr,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

type Client = RunningService<RoleClient, ()>;
type Peer = rmcp::service::Peer<RoleClient>;

async fn client(addr: SocketAddr) -> Client {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("http://{addr}/mcp"));
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("MCP handshake over HTTP")
}

async fn call(client: &Peer, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn all_text(r: &CallToolResult) -> String {
    let mut out: Vec<String> = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    if let Some(s) = &r.structured_content {
        out.push(s.to_string());
    }
    out.join("\n")
}

/// The version of the configured channel `name`, if it is configured.
async fn channel_version(client: &Peer, name: &str) -> Option<String> {
    let r = call(client, "list_channels", json!({})).await;
    let v = r.structured_content.expect("structured content");
    v["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["version"].as_str().unwrap().to_string())
}

/// Poll `list_channels` until channel `name` has `version` (`None`: is
/// gone); returns how long that took.
async fn until_channel(client: &Peer, name: &str, version: Option<&str>) -> Duration {
    let started = Instant::now();
    loop {
        if channel_version(client, name).await.as_deref() == version {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "channel {name} never became {version:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn send_to_acme(client: &Peer, title: &str) -> CallToolResult {
    call(
        client,
        "notify_send",
        json!({"title": title, "content": "from a hot-loaded plugin", "channels": ["acme-alerts"]}),
    )
    .await
}

// ---------------------------------------------------------------------------

#[test]
fn the_scaffold_passes_its_own_native_tests() {
    let dir = acme().v1.parent().unwrap().to_path_buf();
    let (run, took) = cargo(&dir, &["test"]);
    eprintln!(
        "[measure] acme-alerts: cargo test (native) took {:.1} s",
        took.as_secs_f64()
    );
    assert_eq!(run.code, 0, "{run:?}");
    let out = run.all_output();
    assert!(out.contains("test result: ok. 5 passed"), "{out}");
    assert!(out.contains("info_holds_its_invariants ... ok"), "{out}");
}

#[test]
fn a_scaffolded_plugin_is_checked_installed_and_hot_loaded_by_a_running_server() {
    let acme = acme();
    // The mock holds a request titled "slow" for a while, so a send can be
    // in flight while the plugin is removed.
    let mock = Mock::service(|r| {
        if r.json()["title"] == "slow" {
            std::thread::sleep(Duration::from_millis(2500));
        }
        Reply::ok(json!({"id": format!("acme-{}", r.json()["title"].as_str().unwrap_or(""))}))
    });
    // A webhook channel too, so that before the install `acme-alerts` is an
    // unknown channel rather than "no channel configured".
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/webhook"))
        .env("ACME_ALERTS_TOKEN", TOKEN)
        .env("ACME_ALERTS_API_URL", mock.url(""))
        .env("MCP_PUSH_LOG", "mcp_push=info");
    let dir = home.plugins_dir();

    // check: what the author sees before installing.
    let check = home.run(&["plugin", "check", acme.v1.to_str().unwrap()]);
    assert_eq!(check.code, 0, "{check:?}");
    for want in [
        "acme-alerts",
        "0.1.0",
        "mcp-push:channel@0.1.0",
        "api.example.com, setting:api_url",
        "ACME_ALERTS_TOKEN",
        "required, secret",
        "can edit       no",
        "KiB",
    ] {
        assert!(check.stdout.contains(want), "{want:?} in {}", check.stdout);
    }

    let server = Server::start(&home);
    let rt = rt();
    rt.block_on(async {
        let client = client(server.addr).await;
        // Not there yet.
        let r = send_to_acme(&client, "too early").await;
        assert_eq!(r.is_error, Some(true));
        assert!(all_text(&r).contains("unknown channel `acme-alerts`"), "{}", all_text(&r));

        // Install: the running server picks it up, and its channel turns on
        // from the environment it was started with.
        let install = home.run(&["plugin", "install", acme.v1.to_str().unwrap()]);
        assert_eq!(install.code, 0, "{install:?}");
        assert!(install.stdout.contains("installed acme-alerts 0.1.0 as"), "{install:?}");
        assert!(dir.join("acme-alerts.wasm").is_file());
        let latency = until_channel(&client, "acme-alerts", Some("0.1.0")).await;
        eprintln!(
            "[measure] hot load: new plugin usable {} ms after `plugin install` returned",
            latency.as_millis()
        );
        let r = send_to_acme(&client, "hello").await;
        assert_ne!(r.is_error, Some(true), "{}", all_text(&r));
        let out = all_text(&r);
        assert!(out.contains("acme-hello"), "the receipt's id: {out}");
        assert!(!out.contains(TOKEN), "the token leaked: {out}");
        let got = &mock.requests()[0];
        assert_eq!(got.method, "POST");
        assert_eq!(got.uri, "/v1/messages");
        assert_eq!(got.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        assert_eq!(got.json()["title"], "hello");
        assert_eq!(got.json()["text"], "from a hot-loaded plugin");
        // The scaffold's own word for the level, not a Debug format.
        assert_eq!(got.json()["priority"], "normal");

        // Installing the same build again changes nothing; a different build
        // of the same id needs --force, and says what it replaced.
        let again = home.run(&["plugin", "install", acme.v1.to_str().unwrap()]);
        assert_eq!(again.code, 0, "{again:?}");
        assert!(again.stdout.contains("already installed"), "{again:?}");
        let refused = home.run(&["plugin", "install", acme.v2.to_str().unwrap()]);
        assert_eq!(refused.code, 1, "{refused:?}");
        assert!(
            refused.stderr.contains("already has `acme-alerts` 0.1.0")
                && refused.stderr.contains("--force"),
            "{refused:?}"
        );
        let forced = home.run(&["plugin", "install", "--force", acme.v2.to_str().unwrap()]);
        assert_eq!(forced.code, 0, "{forced:?}");
        assert!(forced.stdout.contains("replaced acme-alerts 0.1.0"), "{forced:?}");
        let latency = until_channel(&client, "acme-alerts", Some("0.2.0")).await;
        eprintln!(
            "[measure] hot load: replaced plugin live {} ms after `plugin install --force` returned",
            latency.as_millis()
        );
        let r = send_to_acme(&client, "second").await;
        assert_ne!(r.is_error, Some(true), "{}", all_text(&r));

        // A send in flight keeps the plugin it started with while the file
        // is removed under it.
        let in_flight = {
            let client = client.clone();
            tokio::spawn(async move { send_to_acme(&client, "slow").await })
        };
        let started = Instant::now();
        while !mock.requests().iter().any(|r| r.json()["title"] == "slow") {
            assert!(started.elapsed() < Duration::from_secs(10), "the slow send never arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let removed = home.run(&["plugin", "remove", "acme-alerts"]);
        assert_eq!(removed.code, 0, "{removed:?}");
        assert!(removed.stdout.contains("removed acme-alerts 0.2.0"), "{removed:?}");
        until_channel(&client, "acme-alerts", None).await;
        assert!(
            !in_flight.is_finished(),
            "the slow send should still be running when the plugin is gone"
        );
        let r = in_flight.await.unwrap();
        assert_ne!(r.is_error, Some(true), "the in-flight send: {}", all_text(&r));
        assert!(all_text(&r).contains("acme-slow"), "{}", all_text(&r));
        let r = send_to_acme(&client, "after removal").await;
        assert!(all_text(&r).contains("unknown channel `acme-alerts`"), "{}", all_text(&r));

        // A broken file is reported and skipped; the server keeps serving.
        std::fs::write(dir.join("broken.wasm"), b"\0asm\x0d\0\x01\0 not really").unwrap();
        let started = Instant::now();
        while !server.stderr().contains("broken.wasm") {
            assert!(started.elapsed() < Duration::from_secs(20), "{}", server.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let r = call(&client, "list_channels", json!({})).await;
        assert_ne!(r.is_error, Some(true));
    });
    let log = server.stderr();
    assert!(
        log.contains("plugins reloaded: added acme-alerts 0.1.0"),
        "{log}"
    );
    assert!(
        log.contains("replaced acme-alerts 0.1.0 with 0.2.0"),
        "{log}"
    );
    assert!(log.contains("removed acme-alerts"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("broken.wasm")),
        "{log}"
    );
    assert!(!log.contains(TOKEN), "the token leaked into the log: {log}");
}

/// A component whose `info()` declares a bare `*` host: the scaffold with
/// its allowed host changed.
fn wildcard_wasm() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = scaffold("wild-card");
            let lib = dir.join("src/lib.rs");
            let source = std::fs::read_to_string(&lib).unwrap();
            assert!(source.contains(".allow_host(\"api.example.com\")"));
            std::fs::write(
                &lib,
                source.replace(".allow_host(\"api.example.com\")", ".allow_host(\"*\")"),
            )
            .unwrap();
            build_component(&dir, "wild-card")
        })
        .clone()
}

#[test]
fn check_rejects_what_the_host_cannot_use_with_the_reason() {
    let home = Sandbox::new();
    let files = home.dir.path();
    let write = |name: &str, bytes: &[u8]| {
        let p = files.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let whole = std::fs::read(webhook_wasm()).unwrap();
    let other_world = r#"(component
        (core module $m (func (export "run")))
        (core instance $i (instantiate $m))
        (func $run (canon lift (core func $i "run")))
        (instance $api (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $api)))"#;
    let future = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func $f (canon lift (core func $i "f")))
        (instance $api (export "info" (func $f)))
        (export "mcp-push:channel/channel@0.2.0" (instance $api)))"#;
    // Exports the channel interface by name, but needs a file API no host
    // supplies.
    let foreign_import = r#"(component
        (import "acme:evil/files@1.0.0" (instance (export "read" (func))))
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func $f (canon lift (core func $i "f")))
        (instance $api (export "info" (func $f)))
        (export "mcp-push:channel/channel@0.1.0" (instance $api)))"#;
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write(
                "foreign-import.wasm",
                &wat::parse_str(foreign_import).unwrap(),
            ),
            "imports something this host does not supply",
        ),
        (
            write("core.wasm", &wat::parse_str("(module)").unwrap()),
            "a core WebAssembly module, not a component",
        ),
        (
            write("other-world.wasm", &wat::parse_str(other_world).unwrap()),
            "does not export mcp-push:channel/channel",
        ),
        (
            write("future.wasm", &wat::parse_str(future).unwrap()),
            "built for mcp-push:channel@0.2.0; this mcp-push supports mcp-push:channel@0.1.x",
        ),
        (
            write("truncated.wasm", &whole[..whole.len() / 2]),
            "the file is cut short",
        ),
        (write("text.wasm", b"hello"), "not a WebAssembly file"),
        (files.join("missing.wasm"), "cannot read it"),
        (
            wildcard_wasm(),
            "allowed host \"*\" is refused: name the hosts, or `setting:KEY` for a user's URL",
        ),
    ];
    for (path, why) in &cases {
        let run = home.run(&["plugin", "check", path.to_str().unwrap()]);
        assert_eq!(run.code, 1, "{}: {run:?}", path.display());
        assert!(
            run.stderr.contains("cannot be used as a channel") && run.stderr.contains(why),
            "{}: expected {why:?} in {}",
            path.display(),
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{run:?}");

        let json = home.run(&["plugin", "check", "--json", path.to_str().unwrap()]);
        assert_eq!(json.code, 1, "{json:?}");
        let v: Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(v["ok"], false);
        assert!(v["error"].as_str().unwrap().contains(why), "{v}");

        // install refuses the same files for the same reason.
        let install = home.run(&["plugin", "install", path.to_str().unwrap()]);
        assert_eq!(install.code, 1, "{install:?}");
        assert!(install.stderr.contains(why), "{install:?}");
    }
    assert_eq!(
        std::fs::read_dir(home.plugins_dir()).unwrap().count(),
        0,
        "nothing refused may land in the plugins dir"
    );

    // A good one passes, as JSON too.
    let ok = home.run(&[
        "plugin",
        "check",
        "--json",
        webhook_wasm().to_str().unwrap(),
    ]);
    assert_eq!(ok.code, 0, "{ok:?}");
    let v: Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["id"], "webhook");
    assert_eq!(v["wit"], "mcp-push:channel@0.1.0");
    assert!(v["size"].as_u64().unwrap() > 1000);
    assert!(
        v["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["key"] == "url")
    );
}

#[test]
fn a_running_stdio_server_picks_up_an_installed_plugin() {
    let mock = Mock::start();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/webhook"))
        .env("MINOR_URL", mock.url("/minor-stdio"));
    let rt = rt();
    rt.block_on(async {
        let cmd = tokio::process::Command::from(home.command(&["mcp"]));
        let (transport, _stderr) = rmcp::transport::TokioChildProcess::builder(cmd)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let client = ().serve(transport).await.expect("MCP handshake over stdio");
        assert_eq!(channel_version(&client, "minor").await, None);
        let install = home.run(&["plugin", "install", minor_wasm().to_str().unwrap()]);
        assert_eq!(install.code, 0, "{install:?}");
        until_channel(&client, "minor", Some("0.0.1")).await;
        let r = call(
            &client,
            "notify_send",
            json!({"title": "T", "content": "over stdio", "channels": ["minor"]}),
        )
        .await;
        assert_ne!(r.is_error, Some(true), "{}", all_text(&r));
        assert_eq!(
            mock.requests_to("/minor-stdio")[0].json()["body"],
            "over stdio"
        );
        let _ = client.cancel().await;
    });
}

#[test]
fn malformed_components_are_errors_never_panics() {
    let whole = std::fs::read(webhook_wasm()).unwrap();
    let rt = rt();
    let runtime = mcp_push::plugin::Runtime::new(Default::default()).unwrap();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // Cut at many places, and with bytes flipped in the header, the section
    // table and the middle.
    for i in 0..24 {
        inputs.push(whole[..whole.len() * i / 24].to_vec());
    }
    for at in [
        4,
        8,
        9,
        10,
        12,
        16,
        20,
        64,
        200,
        whole.len() / 3,
        whole.len() / 2,
    ] {
        let mut bad = whole.clone();
        bad[at] ^= 0xff;
        inputs.push(bad);
    }
    let mut rejected = 0;
    rt.block_on(async {
        for bytes in &inputs {
            let source = mcp_push::plugin::PluginSource::File("fuzzed.wasm".into());
            if runtime.load(bytes, None, source).await.is_err() {
                rejected += 1;
            }
        }
    });
    assert!(
        rejected >= 24,
        "only {rejected} of {} were refused",
        inputs.len()
    );
}

#[test]
fn a_component_built_for_a_later_0_1_loads_and_delivers() {
    // The test plugin's WIT is the contract with only the version changed.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // One file per interface: the same names, each with the version bumped.
    let wit_files = |dir: &str| -> Vec<(String, String)> {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let ours = wit_files("wit");
    let theirs = wit_files("tests/plugins/minor/wit");
    assert!(ours.len() > 1, "{ours:?}");
    let unbumped: Vec<_> = theirs
        .iter()
        .map(|(name, text)| {
            let text = text.replace("mcp-push:channel@0.1.1;", "mcp-push:channel@0.1.0;");
            (name.clone(), text)
        })
        .collect();
    assert_eq!(
        unbumped, ours,
        "tests/plugins/minor/wit/ must be wit/ with the version bumped"
    );
    assert!(
        theirs
            .iter()
            .all(|(_, text)| text.contains("package mcp-push:channel@0.1.1;"))
    );

    let mock = Mock::start();
    let home = Sandbox::new().env("MINOR_URL", mock.url("/minor"));
    let wasm = minor_wasm();
    let check = home.run(&["plugin", "check", wasm.to_str().unwrap()]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check
            .stdout
            .contains("built for      mcp-push:channel@0.1.1"),
        "{check:?}"
    );

    let install = home.run(&["plugin", "install", wasm.to_str().unwrap()]);
    assert_eq!(install.code, 0, "{install:?}");
    let run = home.run(&["send", "--channel", "minor", "Minor", "built for 0.1.1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let got = &mock.requests_to("/minor")[0];
    assert_eq!(got.json()["body"], "built for 0.1.1");
    assert_eq!(got.json()["wit"], "0.1.1");
}

#[test]
fn install_and_remove_touch_only_the_plugins_dir_and_never_a_bundled_plugin() {
    let home = Sandbox::new();
    let dir = home.plugins_dir();

    // A file with a bundled id replaces the bundled plugin; removing it
    // brings that back; the bundled plugin itself cannot be removed.
    let install = home.run(&["plugin", "install", webhook_wasm().to_str().unwrap()]);
    assert_eq!(install.code, 0, "{install:?}");
    assert!(
        install.stdout.contains("replaces the bundled `webhook`"),
        "{install:?}"
    );
    let list = home.run(&["plugin", "list", "--json"]);
    let v: Value = serde_json::from_str(&list.stdout).unwrap();
    let webhook = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "webhook")
        .unwrap()
        .clone();
    assert_eq!(webhook["source"]["kind"], "file");
    let text = home.run(&["plugin", "list"]);
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("webhook") && l.contains("webhook.wasm")),
        "{text:?}"
    );

    let removed = home.run(&["plugin", "remove", "webhook"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(
        removed
            .stdout
            .contains("the bundled `webhook` is used again"),
        "{removed:?}"
    );
    assert!(!dir.join("webhook.wasm").exists());
    let bundled = home.run(&["plugin", "remove", "webhook"]);
    assert_eq!(bundled.code, 1, "{bundled:?}");
    assert!(
        bundled
            .stderr
            .contains("bundled with mcp-push and cannot be removed"),
        "{bundled:?}"
    );

    // An id nobody installed names what is installed. A file elsewhere is
    // never touched: remove takes an id, and looks only in the plugins dir.
    let elsewhere = home.dir.path().join("keep-me.wasm");
    std::fs::copy(minor_wasm(), &elsewhere).unwrap();
    let unknown = home.run(&["plugin", "remove", "minor"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(
        unknown.stderr.contains("no plugin `minor` in")
            && unknown.stderr.contains("installed there: none"),
        "{unknown:?}"
    );
    assert!(elsewhere.exists());

    // A file installed under another name is found by its id.
    std::fs::copy(minor_wasm(), dir.join("my-download.wasm")).unwrap();
    let removed = home.run(&["plugin", "remove", "minor"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(!dir.join("my-download.wasm").exists());
    assert!(elsewhere.exists());
}

#[test]
fn plugin_new_refuses_a_bad_id_and_a_used_directory() {
    let home = Sandbox::new();
    let bad = home.run(&["plugin", "new", "Acme_Alerts"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("cannot be a channel id"), "{bad:?}");
    let used = home.dir.path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("keep.txt"), "mine").unwrap();
    let run = home.run(&["plugin", "new", "acme", "--path", used.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("already exists and is not empty"),
        "{run:?}"
    );
    let no_sdk = home.run(&[
        "plugin",
        "new",
        "acme",
        "--path",
        home.dir.path().join("fresh").to_str().unwrap(),
        "--sdk",
        home.dir.path().join("nowhere").to_str().unwrap(),
    ]);
    assert_eq!(no_sdk.code, 2, "{no_sdk:?}");
    assert!(
        no_sdk.stderr.contains("no mcp-push-sdk crate at"),
        "{no_sdk:?}"
    );
    assert_eq!(
        std::fs::read_to_string(used.join("keep.txt")).unwrap(),
        "mine"
    );
}
