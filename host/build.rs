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

    let mut code = String::from("pub static BUNDLED: &[Bundled] = &[\n");
    for ((dir, _), wasm) in plugins.iter().zip(&wasm_files) {
        let bytes = fs::read(wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
        let copy = out.join(format!("{dir}.wasm"));
        fs::write(&copy, &bytes).unwrap();
        code.push_str(&format!(
            "    Bundled {{ name: {dir:?}, wasm: include_bytes!({:?}), sha256: {:?} }},\n",
            copy.display().to_string(),
            hex::encode(Sha256::digest(&bytes)),
        ));
    }
    code.push_str("];\n");
    fs::write(out.join("bundled.rs"), code).unwrap();
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
