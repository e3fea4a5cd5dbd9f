//! `plugins/described.json` keeps what each bundled plugin says about itself
//! (`info()`), with the hash of the sources it was built from. `build.rs`
//! embeds each description whose sources are the ones it builds, so a first
//! start after `cargo build` or `cargo install` compiles only the plugins it
//! calls instead of running every one of them to ask. This test keeps the
//! file true: it runs every bundled plugin and compares.

use super::bundled::BUNDLED;
use super::{Runtime, RuntimeOptions};
use serde_json::{Value, json};
use std::path::Path;

/// Set to write the file afresh instead of failing on a stale one.
const WRITE: &str = "MCP_PUSH_WRITE_DESCRIBED";

#[tokio::test(flavor = "multi_thread")]
async fn the_kept_descriptions_are_what_the_bundled_plugins_say() {
    let rt = Runtime::new(RuntimeOptions::default()).unwrap();
    let mut plugins = serde_json::Map::new();
    let mut stale = Vec::new();
    for b in BUNDLED {
        let now = rt
            .describe_anew(b)
            .await
            .unwrap_or_else(|e| panic!("bundled plugin {}: {e}", b.name));
        let now = serde_json::to_value(&now).unwrap();
        let kept: Option<Value> = b.described.map(|k| serde_json::from_str(k).unwrap());
        if kept.as_ref() != Some(&now) {
            stale.push(b.name);
        }
        plugins.insert(
            b.name.to_string(),
            json!({"source": b.source, "described": now}),
        );
    }
    if stale.is_empty() {
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/described.json");
    if std::env::var_os(WRITE).is_some() {
        let file = json!({
            "about": "What each bundled plugin says about itself, for the sources hashed in `source`; \
                      written by `MCP_PUSH_WRITE_DESCRIBED=1 cargo test --release -p mcp-push --lib \
                      kept_descriptions`, read by host/build.rs.",
            "plugins": plugins,
        });
        let text = serde_json::to_string_pretty(&file).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        eprintln!(
            "wrote {} ({} stale: {stale:?})",
            path.display(),
            stale.len()
        );
        return;
    }
    panic!(
        "{} bundled plugins have no kept description for their current sources, or a wrong one: \
         {stale:?}. A first start would run them all to ask. Write the file afresh with \
         `{WRITE}=1 cargo test --release -p mcp-push --lib kept_descriptions`, then build again \
         and commit plugins/described.json.",
        stale.len()
    );
}
