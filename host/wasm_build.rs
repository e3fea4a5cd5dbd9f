//! Builds channel crates of this workspace into wasm32-wasip2 components with a
//! nested cargo. Shared by `build.rs` (the bundled plugins) and the tests (the
//! test-only plugins), so both build components the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Build `packages` (package names) with the `plugin` profile into
/// `target_dir`, and return the path of each component, in order.
pub fn build_components(
    root: &Path,
    target_dir: &Path,
    packages: &[&str],
) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--target-dir",
        ])
        .arg(target_dir);
    for p in packages {
        cmd.args(["-p", p]);
    }
    // The outer build's flags and wrappers (clippy's, coverage's) are for the
    // host target, not for the components.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CLIPPY_ARGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo to build components: {e}"))?;
    if !status.success() {
        return Err("building components for wasm32-wasip2 failed (see above). \
                    If the target is missing: rustup target add wasm32-wasip2"
            .into());
    }
    Ok(packages
        .iter()
        .map(|p| {
            target_dir
                .join("wasm32-wasip2/plugin")
                .join(format!("{}.wasm", p.replace('-', "_")))
        })
        .collect())
}
