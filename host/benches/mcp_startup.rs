//! `cargo bench --bench mcp_startup`: prints its figures.
//!
//! From spawning `mcp-push mcp` to the answer of `tools/list` over stdio
//! (initialize, initialized, tools/list), with the compile cache warm and
//! cold, and with no channel and with a webhook channel configured.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let warm = home.path().join("warm");
    session(home.path(), &warm, false);
    let mut bare: Vec<Duration> = (0..RUNS)
        .map(|_| session(home.path(), &warm, false))
        .collect();
    let mut with_channel: Vec<Duration> = (0..RUNS)
        .map(|_| session(home.path(), &warm, true))
        .collect();
    let mut cold: Vec<Duration> = (0..5)
        .map(|i| session(home.path(), &home.path().join(format!("cold-{i}")), false))
        .collect();
    println!("`mcp-push mcp`: process start to tools/list answered, over stdio:");
    println!(
        "  warm cache, no channel        median {:>7.1} ms  max {:>7.1} ms  ({RUNS} runs; target at most 30 ms)",
        ms(median(&mut bare)),
        ms(*bare.last().unwrap())
    );
    println!(
        "  warm cache, webhook channel   median {:>7.1} ms  max {:>7.1} ms  ({RUNS} runs)",
        ms(median(&mut with_channel)),
        ms(*with_channel.last().unwrap())
    );
    println!(
        "  cold cache                    median {:>7.1} ms  (5 runs: every bundled plugin compiled)",
        ms(median(&mut cold))
    );
}

fn session(home: &Path, cache: &Path, channel: bool) -> Duration {
    let t = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-push"));
    cmd.arg("mcp")
        .env_clear()
        .env("HOME", home)
        .env("MCP_PUSH_CACHE_DIR", cache)
        .env("MCP_PUSH_PLUGINS_DIR", home.join("none"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if channel {
        cmd.env("WEBHOOK_URL", "http://127.0.0.1:9/hook");
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"bench","version":"1"}}}}}}"#
    )
    .unwrap();
    let init = lines.next().unwrap().unwrap();
    assert!(init.contains("\"id\":1"), "{init}");
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).unwrap();
    let tools = lines.next().unwrap().unwrap();
    assert!(tools.contains("notify_send"), "{tools}");
    let elapsed = t.elapsed();
    drop(stdin);
    child.wait().unwrap();
    elapsed
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
