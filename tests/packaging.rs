//! `scripts/package.sh` end to end: its wheel, npm packages and archive are
//! installed from the built files into fresh directories, the way `pip`,
//! `npm` and a download install them, and the installed entry point answers
//! `--version` and an MCP `tools/list` over stdio, compiling nothing on its
//! first start.
//!
//! Needs python3 (with venv), node and npm, and binutils (the script's
//! `objdump`, `strip`). Without them the test says so and passes, except under
//! CI=true, where it fails.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::Sandbox;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The release archive's one directory, and its name without `.tar.gz`.
const ARCHIVED: &str = concat!(
    "mcp-push-",
    env!("CARGO_PKG_VERSION"),
    "-x86_64-unknown-linux-gnu"
);

#[test]
fn every_artifact_installs_and_serves_mcp_without_compiling() {
    if let Some(missing) = missing_tools() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "packaging needs {missing}: .ci/run installs it");
        eprintln!("skipped: packaging needs {missing}");
        return;
    }
    let dist = tempfile::tempdir().unwrap();
    let t = Instant::now();
    package(dist.path());
    println!("scripts/package.sh: {:.1} s", t.elapsed().as_secs_f64());
    for f in artifacts(dist.path()) {
        let size = std::fs::metadata(dist.path().join(&f)).unwrap().len();
        println!("  {f}: {:.1} MB", size as f64 / 1e6);
    }
    // The three installs are independent: side by side, to keep the test short.
    std::thread::scope(|s| {
        s.spawn(|| wheel(dist.path()));
        s.spawn(|| npm(dist.path()));
        s.spawn(|| archive(dist.path()));
    });
}

/// `pip install` of the wheel into a fresh venv: `venv/bin/mcp-push`.
fn wheel(dist: &Path) {
    let home = Sandbox::new();
    let venv = home.dir.path().join("venv");
    let t = Instant::now();
    succeed(installer(&home, "python3").args(["-m", "venv"]).arg(&venv));
    succeed(
        installer(&home, venv.join("bin/pip"))
            .args(["install", "--quiet", "--no-index", "--no-deps"])
            .arg(one(
                dist,
                &format!("mcp_push-{VERSION}-py3-none-manylinux_"),
                "_x86_64.whl",
            )),
    );
    let installed = t.elapsed();
    check("wheel", &home, installed, &venv.join("bin/mcp-push"), &[]);

    // The notify.py drop-in, as `mcp_push`, finds the executable the wheel
    // installed although the venv's bin/ is not on PATH.
    let script = "from mcp_push import send\nsend('T', 'from the wheel')";
    dropin_delivers(
        "wheel",
        &home,
        &venv.join("bin/python"),
        &["-c", script],
        None,
    );
}

/// `program args...` (a script using a drop-in) delivers to a webhook.
fn dropin_delivers(kind: &str, home: &Sandbox, program: &Path, args: &[&str], cwd: Option<&Path>) {
    let sink = support::Mock::start();
    let mut cmd = home.command_of(program, args);
    cmd.env("WEBHOOK_URL", sink.url("/hook"));
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let run = support::run(cmd);
    assert_eq!(run.code, 0, "{kind}: {run:?}");
    let got = sink.requests_to("/hook");
    assert_eq!(got.len(), 1, "{kind}: {run:?}");
    assert_eq!(got[0].json()["title"], "T", "{kind}");
}

/// `npm install` of the platform package and the launcher:
/// `node_modules/.bin/mcp-push`, run by node.
fn npm(dist: &Path) {
    let home = Sandbox::new();
    let prefix = home.dir.path().join("project");
    let t = Instant::now();
    succeed(
        installer(&home, "npm")
            .args([
                "install",
                "--offline",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(artifact(dist, &format!("mcp-push-linux-x64-{VERSION}.tgz")))
            .arg(artifact(dist, &format!("mcp-push-{VERSION}.tgz"))),
    );
    let installed = t.elapsed();
    let node = which("node").unwrap();
    let launcher = prefix.join("node_modules/.bin/mcp-push");
    let launcher = launcher.to_str().unwrap();
    check("npm", &home, installed, &node, &[launcher]);

    // The sendNotify.js drop-in finds the platform package's executable.
    let script = "require('mcp-push/sendNotify').sendNotify('T', 'from npm')";
    dropin_delivers("npm", &home, &node, &["-e", script], Some(&prefix));

    // The launcher ends as its child ended: with its exit code...
    let usage = support::run(home.command_of(&node, &[launcher, "send"]));
    assert_eq!(usage.code, 2, "{usage:?}");
    // ...and passes on the signal a client stops it with (without that,
    // the child would keep running and the launcher with it).
    let mut server = home
        .command_of(&node, &[launcher, "mcp"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = server.stdin.take().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    initialize(&mut stdin, &mut lines);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("npm: the launcher outlived SIGTERM by 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Dead of the same signal, or ended cleanly if the server handled it.
    assert!(
        status.signal() == Some(libc::SIGTERM) || status.success(),
        "{status:?}"
    );

    // Where no platform package exists, it says so.
    let script = format!(
        "Object.defineProperty(process, 'arch', {{ value: 'riscv64' }}); require({launcher:?})"
    );
    let unsupported = support::run(home.command_of(&node, &["-e", &script]));
    assert_eq!(unsupported.code, 1, "{unsupported:?}");
    assert!(
        unsupported
            .stderr
            .contains("no executable is published for linux-riscv64"),
        "{unsupported:?}"
    );
}

/// The release archive, checked against SHA256SUMS and unpacked.
fn archive(dist: &Path) {
    let home = Sandbox::new();
    let sums = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(dist)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{sums:?}");
    let listed = String::from_utf8_lossy(&sums.stdout).lines().count();
    assert_eq!(listed, artifacts(dist).len() - 1, "{sums:?}");

    let t = Instant::now();
    succeed(
        installer(&home, "tar")
            .arg("-xzf")
            .arg(artifact(dist, &format!("{ARCHIVED}.tar.gz")))
            .arg("-C")
            .arg(home.dir.path()),
    );
    let installed = t.elapsed();
    let dir = home.dir.path().join(ARCHIVED);
    assert!(dir.join("README.md").is_file());
    check("archive", &home, installed, &dir.join("mcp-push"), &[]);
}

/// Runs `program args...` as installed: `--version`, then, with an empty
/// compile cache, an MCP session up to `tools/list`, after which the cache
/// holds no compiled component.
fn check(kind: &str, home: &Sandbox, installed: Duration, program: &Path, args: &[&str]) {
    let cache = home.dir.path().join("empty-cache");
    let command = |more: &[&str]| {
        let mut cmd = home.command_of(program, &[args, more].concat());
        cmd.env("MCP_PUSH_CACHE_DIR", &cache);
        cmd
    };

    let t = Instant::now();
    let mut server = command(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = server.stdin.take().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    initialize(&mut stdin, &mut lines);
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).unwrap();
    let tools = lines.next().unwrap().unwrap();
    let first_start = t.elapsed();
    drop(stdin);
    let out = server.wait_with_output().unwrap();
    let tools: serde_json::Value = serde_json::from_str(&tools).unwrap();
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{kind}: no tools in {tools}"))
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"notify_send"), "{kind}: {names:?}");
    assert!(out.status.success(), "{kind}: {out:?}");
    let compiled = files_ending(&cache, ".cwasm");
    assert!(
        compiled.is_empty(),
        "{kind}: the first start compiled {compiled:?}"
    );

    let version = support::run(command(&["--version"]));
    assert_eq!(version.code, 0, "{kind}: {version:?}");
    assert_eq!(
        version.stdout.trim(),
        format!("mcp-push {VERSION}"),
        "{kind}"
    );
    println!(
        "{kind:>7}: installed in {:.1} s, first start to tools/list {:.0} ms",
        installed.as_secs_f64(),
        first_start.as_secs_f64() * 1e3
    );
}

/// The MCP handshake, as a client sends it.
fn initialize(stdin: &mut impl Write, lines: &mut impl Iterator<Item = std::io::Result<String>>) {
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"packaging-test","version":"1"}}}}}}"#
    )
    .unwrap();
    let init = lines.next().unwrap().unwrap();
    assert!(init.contains("\"id\":1"), "{init}");
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
}

/// The script, on the binary this test was built with (no second build) and
/// through the tests' shared compile cache.
fn package(dist: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/package.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(dist)
        .env("MCP_PUSH_PACKAGE_EXE", env!("CARGO_BIN_EXE_mcp-push"))
        .env("MCP_PUSH_CACHE_DIR", support::shared_cache_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "package.sh failed: {out:?}");
}

/// An installer run with HOME in the sandbox (pip's and npm's caches go
/// there), the rest of this environment kept.
fn installer(home: &Sandbox, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("HOME", home.dir.path())
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("npm_config_update_notifier", "false")
        .stdin(Stdio::null());
    cmd
}

fn succeed(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// Every file the script wrote.
fn artifacts(dist: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn artifact(dist: &Path, name: &str) -> PathBuf {
    let path = dist.join(name);
    assert!(path.is_file(), "no {name} in {:?}", artifacts(dist));
    path
}

/// The one artifact named `prefix...suffix`.
fn one(dist: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let found: Vec<String> = artifacts(dist)
        .into_iter()
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{prefix}*{suffix} in {:?}", artifacts(dist));
    dist.join(&found[0])
}

fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.map(|e| e.unwrap().path()) {
        if entry.is_dir() {
            found.extend(files_ending(&entry, suffix));
        } else if entry.to_string_lossy().ends_with(suffix) {
            found.push(entry);
        }
    }
    found
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// What the script and the installs need that is not on this machine.
fn missing_tools() -> Option<String> {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let needed = [
        (
            "python3 with venv",
            "python3",
            &["-c", "import venv, ensurepip"][..],
        ),
        ("node", "node", &["--version"][..]),
        ("npm", "npm", &["--version"][..]),
        ("objdump (binutils)", "objdump", &["--version"][..]),
        ("strip (binutils)", "strip", &["--version"][..]),
    ];
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(_, program, args)| !works(program, args))
        .map(|(what, ..)| *what)
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}
