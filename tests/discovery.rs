//! Plugins found at run time: a `.wasm` dropped into the plugins directory is
//! used with no rebuild, replaces a bundled plugin of the same id, and a broken
//! file is skipped with a warning that names it and says why.

mod support;

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

#[test]
fn a_second_start_takes_the_component_from_the_compile_cache() {
    let home = Sandbox::new().env("MCP_PUSH_LOG", "mcp_push=debug");
    let cache = home.dir.path().join("own-cache");
    let mut first = home.command(&["channels"]);
    first.env("MCP_PUSH_CACHE_DIR", &cache);
    let first = support::run(first);
    assert!(first.stderr.contains("compiled "), "{}", first.stderr);
    assert!(std::fs::read_dir(&cache).unwrap().count() >= 1);
    let mut second = home.command(&["channels"]);
    second.env("MCP_PUSH_CACHE_DIR", &cache);
    let second = support::run(second);
    assert!(
        second.stderr.contains("from the compile cache"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("compiled "), "{}", second.stderr);
}
