//! Plugins found at run time: a `.wasm` dropped into the plugins directory is
//! used with no rebuild, replaces a bundled plugin of the same id, and a broken
//! file is skipped with a warning that names it and says why.

mod support;

use support::mcp_client::{call, stdio_client};
use support::{Mock, Sandbox, hostile_wasm, webhook_wasm};

#[test]
fn a_wasm_in_the_plugins_dir_is_loaded_and_used() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.extra]\nplugin = \"hostile\"\nmode = \"ok\"\nurl = \"{}\"\n",
        mock.url("/dropped-in")
    ));
    home.install(&hostile_wasm(), "my-channel.wasm");
    let listing = home.run(&["channels", "--json"]);
    assert_eq!(listing.code, 0, "{listing:?}");
    let v: serde_json::Value = serde_json::from_str(&listing.stdout).unwrap();
    let p = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "hostile")
        .unwrap();
    assert_eq!(p["source"]["kind"], "file");
    assert!(
        p["source"]["path"]
            .as_str()
            .unwrap()
            .ends_with("my-channel.wasm")
    );

    let run = home.run(&["send", "From a plugin file", "hello"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests_to("/dropped-in")[0].json()["body"], "hello");
}

#[test]
fn a_file_with_a_bundled_id_replaces_the_bundled_plugin() {
    let home = Sandbox::new();
    home.install(&webhook_wasm(), "webhook.wasm");
    let v: serde_json::Value =
        serde_json::from_str(&home.run(&["channels", "--json"]).stdout).unwrap();
    let webhooks: Vec<_> = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"] == "webhook")
        .collect();
    assert_eq!(webhooks.len(), 1);
    assert_eq!(webhooks[0]["source"]["kind"], "file");
}

#[test]
fn broken_files_are_skipped_with_a_reason() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/still-works"));
    let dir = home.plugins_dir();
    std::fs::write(dir.join("garbage.wasm"), b"this is not wasm at all").unwrap();
    std::fs::write(dir.join("core.wasm"), wat::parse_str("(module)").unwrap()).unwrap();
    std::fs::write(
        dir.join("empty.wasm"),
        wat::parse_str("(component)").unwrap(),
    )
    .unwrap();
    let future = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func $f (canon lift (core func $i "f")))
        (instance $api (export "info" (func $f)))
        (export "mcp-push:channel/channel@0.2.0" (instance $api)))"#;
    std::fs::write(dir.join("future.wasm"), wat::parse_str(future).unwrap()).unwrap();
    let whole = std::fs::read(webhook_wasm()).unwrap();
    std::fs::write(dir.join("truncated.wasm"), &whole[..whole.len() / 2]).unwrap();

    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 0, "the host must keep working: {run:?}");
    assert_eq!(mock.requests_to("/still-works").len(), 1);
    for (file, why) in [
        ("garbage.wasm", "not a WebAssembly file"),
        ("core.wasm", "a core WebAssembly module, not a component"),
        ("empty.wasm", "does not export mcp-push:channel/channel"),
        (
            "future.wasm",
            "built for mcp-push:channel@0.2.0; this mcp-push supports mcp-push:channel@0.1.x",
        ),
        ("truncated.wasm", "not a valid component"),
    ] {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no warning names {file}: {}", run.stderr));
        assert!(line.contains(why), "{file}: expected {why:?} in {line}");
    }
}

/// Lines of a debug log saying a component was compiled, or taken from the
/// compile cache.
fn compiles(stderr: &str) -> (usize, usize) {
    let count = |what| stderr.lines().filter(|l| l.contains(what)).count();
    (count("DEBUG compiled "), count("from the compile cache"))
}

/// A first start after building from source compiles nothing to learn what
/// the bundled plugins are (`plugins/described.json`, embedded by
/// `build.rs`); a send compiles the one plugin it calls, and the next start
/// reads that one back from the compile cache.
#[test]
fn a_first_start_compiles_only_the_plugins_it_calls() {
    let mock = Mock::start();
    let (home, cache) = logged_home(&mock);
    let run = |args: &[&str]| home.run(args);
    let first = run(&["channels"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(compiles(&first.stderr), (0, 0), "{}", first.stderr);
    assert!(first.stdout.contains("webhook"), "{first:?}");

    // The first send compiles the one plugin it calls, no other, with the
    // quick compiler: it sends once and exits.
    let send = run(&["send", "lazy", "one plugin"]);
    assert_eq!(send.code, 0, "{send:?}");
    assert_eq!(compiles(&send.stderr), (1, 0), "{}", send.stderr);
    #[cfg(target_arch = "x86_64")]
    assert!(send.stderr.contains(" with Winch in "), "{}", send.stderr);
    // The next reads it back from the compile cache.
    let again = run(&["send", "lazy", "again"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(compiles(&again.stderr), (0, 1), "{}", again.stderr);
    assert_eq!(mock.requests_to("/hook").len(), 2);
    let second = run(&["channels"]);
    assert_eq!((second.code, &second.stdout), (0, &first.stdout));

    // A server compiles it again, with the optimizing compiler, into a file
    // of its own; the one-shot's stays for the next one-shot.
    let served = mcp_send(&home);
    assert_eq!(compiles(&served), (1, 0), "{served}");
    assert!(served.contains(" with Cranelift in "), "{served}");
    assert_eq!(mock.requests_to("/hook").len(), 3);
    assert_eq!(compiled_files(&cache), 2, "one compiled copy per compiler");
    let third = run(&["send", "lazy", "third"]);
    assert_eq!(compiles(&third.stderr), (0, 1), "{}", third.stderr);
}

/// A one-shot starts compiling the plugin it will call before it opens the
/// store, whose fsyncs need no CPU: a send that then finds its store held by
/// another process has compiled it all the same (a first send after install
/// was 3.3 ms faster, 41.5 against 44.8 ms).
#[test]
fn a_send_compiles_its_plugin_while_it_opens_the_store() {
    let mock = Mock::start();
    let (home, cache) = logged_home(&mock);
    let db = home.dir.path().join("held.db");
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let run = home.run(&["send", "--db", db.to_str().unwrap(), "held", "store"]);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("locked by another process"), "{run:?}");
    assert_eq!(compiles(&run.stderr), (1, 0), "{}", run.stderr);
    assert_eq!(compiled_files(&cache), 1, "kept for the next send");
    assert!(mock.requests_to("/hook").is_empty());
}

/// A sandbox that logs at debug level (each compile and cache load says so),
/// its webhook channel pointing at `mock`, with a compile cache of its own;
/// and where that cache is.
fn logged_home(mock: &Mock) -> (Sandbox, std::path::PathBuf) {
    let home = Sandbox::new()
        .env("MCP_PUSH_LOG", "mcp_push=debug")
        .env("WEBHOOK_URL", mock.url("/hook"));
    let cache = home.dir.path().join("own-cache");
    let home = home.env("MCP_PUSH_CACHE_DIR", cache.display().to_string());
    (home, cache)
}

/// How many compiled components the cache holds.
fn compiled_files(cache: &std::path::Path) -> usize {
    std::fs::read_dir(cache)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("cwasm".as_ref()))
        .count()
}

/// One `notify_send` to `mcp-push mcp` over stdio (rmcp's client); the
/// server's log, whole once it has exited.
fn mcp_send(home: &Sandbox) -> String {
    support::mcp_client::rt().block_on(async {
        let (client, log) = stdio_client(home, &[]).await;
        let args = serde_json::json!({"title": "served", "content": "by mcp"});
        let sent = call(&client, "notify_send", args).await;
        assert_ne!(sent.is_error, Some(true), "{sent:?}");
        client.cancel().await.unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while log.lock().unwrap().is_empty() && std::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        log.lock().unwrap().clone()
    })
}

/// `plugin precompile` writes the executable that packages ship, or (with
/// `--in-place`, the README's install from source) makes the installed one
/// that executable: its first start, with an empty cache, compiles nothing
/// and writes nothing to the cache. A damaged trailer is set aside with a
/// warning, and that executable still works by compiling.
#[test]
fn a_precompiled_executable_compiles_nothing_on_its_first_start() {
    let mock = Mock::start();
    let home = Sandbox::new()
        .env("MCP_PUSH_LOG", "mcp_push=debug")
        .env("WEBHOOK_URL", mock.url("/hook"));
    // As `cargo install` leaves it: a plain build in a directory of its own.
    let exe = home.dir.path().join("mcp-push");
    std::fs::copy(env!("CARGO_BIN_EXE_mcp-push"), &exe).unwrap();
    let plain = std::fs::metadata(&exe).unwrap().len();
    let both =
        support::run(home.command_of(&exe, &["plugin", "precompile", "--in-place", "--out", "x"]));
    assert_eq!(both.code, 2, "{both:?}");
    assert!(both.stderr.contains("cannot be used with"), "{both:?}");
    let made = support::run(home.command_of(&exe, &["plugin", "precompile", "--in-place"]));
    assert_eq!(made.code, 0, "{made:?}");
    assert!(made.stdout.starts_with("replaced "), "{made:?}");
    assert!(std::fs::metadata(&exe).unwrap().len() > plain);
    assert!(!home.dir.path().join("mcp-push.partial").exists());

    let fresh = home.dir.path().join("fresh-cache");
    let first = |exe: &std::path::Path, cache: &std::path::Path| {
        let mut cmd = home.command_of(exe, &["send", "precompiled", "first start"]);
        cmd.env("MCP_PUSH_CACHE_DIR", cache);
        support::run(cmd)
    };
    let run = first(&exe, &fresh);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(compiles(&run.stderr), (0, 0), "{}", run.stderr);
    assert!(!fresh.exists(), "the first start wrote to the cache");
    assert_eq!(mock.requests_to("/hook").len(), 1);

    // Precompiling the precompiled copy replaces its trailer.
    let again = home.dir.path().join("mcp-push-again");
    let mut cmd = home.command_of(
        &exe,
        &["plugin", "precompile", "--out", again.to_str().unwrap()],
    );
    cmd.env("MCP_PUSH_CACHE_DIR", &fresh);
    let made_again = support::run(cmd);
    assert_eq!(made_again.code, 0, "{made_again:?}");
    assert_eq!(
        std::fs::metadata(&again).unwrap().len(),
        std::fs::metadata(&exe).unwrap().len()
    );

    // Damage the index (it sits before the last 32 bytes).
    let mut bytes = std::fs::read(&exe).unwrap();
    let n = bytes.len();
    let index_len = u64::from_le_bytes(bytes[n - 32..n - 24].try_into().unwrap()) as usize;
    bytes[n - 32 - index_len] = b'X';
    let damaged = home.dir.path().join("mcp-push-damaged");
    std::fs::write(&damaged, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&damaged, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = first(&damaged, &support::shared_cache_dir());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("ignoring the precompiled channels"),
        "{}",
        run.stderr
    );
    assert_eq!(mock.requests_to("/hook").len(), 2);
}
