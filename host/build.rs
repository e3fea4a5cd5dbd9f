//! Builds every crate under `plugins/` for wasm32-wasip2 and embeds the
//! components in the binary, so `cargo build` alone yields a complete mcp-push.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::{env, fs};

#[path = "wasm_build.rs"]
mod wasm_build;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    for watched in ["plugins", "sdk", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-changed=wasm_build.rs");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());

    let plugins = plugin_crates(&root.join("plugins"));
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("wasm");
    let packages: Vec<&str> = plugins.iter().map(|(_, pkg)| pkg.as_str()).collect();
    let wasm_files = wasm_build::build_components(&root, &target_dir, &packages)
        .unwrap_or_else(|e| panic!("{e}"));

    let shared = shared_sources(&root);
    let described = described_file(&root.join("plugins").join(DESCRIBED));
    // The components are one block of bytes and the kept descriptions one
    // text, each sliced per plugin. A start reads every plugin's name, hash
    // and description but no component; had each component its own constant,
    // those small ones would lie beside it, and the kernel maps a large block
    // of the executable around each read: 8 MiB of a one-shot's resident
    // memory for the 31 plugins.
    let mut components = Vec::new();
    let mut all_described = String::new();
    let mut entries = String::new();
    for ((dir, _), wasm) in plugins.iter().zip(&wasm_files) {
        let bytes = fs::read(wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
        let (start, end) = (components.len(), components.len() + bytes.len());
        components.extend_from_slice(&bytes);
        let source = source_key(&root.join("plugins").join(dir), &shared);
        // Only a description of these very sources: a stale one is left
        // out, and that plugin is described by running it, as before.
        let kept = described
            .get(dir)
            .filter(|e| e["source"] == source.as_str())
            .map(|e| {
                let from = all_described.len();
                all_described.push_str(&e["described"].to_string());
                let to = all_described.len();
                format!("Some(DESCRIPTIONS.split_at({to}).0.split_at({from}).1)")
            })
            .unwrap_or_else(|| "None".into());
        entries.push_str(&format!(
            "    Bundled {{ name: {dir:?}, wasm: COMPONENTS.split_at({end}).0.split_at({start}).1, sha256: {:?}, source: {source:?}, described: {kept} }},\n",
            hex::encode(Sha256::digest(&bytes)),
        ));
    }
    let components_path = out.join("components.bin");
    fs::write(&components_path, &components).unwrap();
    let described_path = out.join("descriptions.json");
    fs::write(&described_path, &all_described).unwrap();
    let mut code = format!(
        "const COMPONENTS: &[u8] = include_bytes!({:?});\nconst DESCRIPTIONS: &str = include_str!({:?});\n",
        components_path.display().to_string(),
        described_path.display().to_string()
    );
    code.push_str("pub static BUNDLED: &[Bundled] = &[\n");
    code.push_str(&entries);
    code.push_str("];\n");
    fs::write(out.join("bundled.rs"), code).unwrap();
}

/// What each bundled plugin says about itself (`info()`), kept in the
/// repository by the test that checks it (`plugin::bundled`), so that a first
/// start after `cargo build` compiles only the plugins it calls: running all
/// of them to ask took 6.7 to 15.8 s on the 2-core development machine.
const DESCRIBED: &str = "described.json";

/// `plugins/described.json` by plugin directory: `{"source", "described"}`.
fn described_file(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let Ok(text) = fs::read_to_string(path) else {
        return Default::default();
    };
    let file: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file["plugins"].as_object().cloned().unwrap_or_default()
}

/// What every plugin's description depends on besides its own crate: the
/// SDK it builds with and the WIT contract.
fn shared_sources(root: &Path) -> Vec<u8> {
    let mut h = Sha256::new();
    for dir in ["sdk", "wit"] {
        hash_tree(&mut h, root, &root.join(dir));
    }
    h.finalize().to_vec()
}

/// The hash of a plugin crate's files and the shared sources.
fn source_key(dir: &Path, shared: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(shared);
    hash_tree(&mut h, dir, dir);
    hex::encode(h.finalize())
}

/// Every file under `dir` (but build output and hidden files), by path
/// relative to `base`, in a fixed order.
fn hash_tree(h: &mut Sha256, base: &Path, dir: &Path) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            hash_tree(h, base, &path);
        } else {
            let rel = path.strip_prefix(base).unwrap_or(&path);
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            h.update(rel.to_string_lossy().as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
    }
}

/// (directory name, package name) of each crate under `dir`.
fn plugin_crates(dir: &Path) -> Vec<(String, String)> {
    let mut crates: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| {
            let path = e.ok()?.path();
            let manifest = fs::read_to_string(path.join("Cargo.toml")).ok()?;
            let name = manifest
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = "))?
                .trim_matches('"')
                .to_string();
            Some((path.file_name()?.to_string_lossy().into_owned(), name))
        })
        .collect();
    crates.sort();
    crates
}
