//! Builds channel crates of this workspace into wasm32-wasip2 components with a
//! nested cargo. Shared by `build.rs` (the bundled plugins) and the tests (the
//! test-only plugins), so both build components the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Drop the outer build's flags and wrappers (clippy's, coverage's): they are
/// for the host target, not for a nested cargo building components.
pub fn without_outer_build(cmd: &mut Command) {
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
}

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
    without_outer_build(&mut cmd);
    cmd.env_remove("CARGO_TARGET_DIR").env_remove("CLIPPY_ARGS");
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
