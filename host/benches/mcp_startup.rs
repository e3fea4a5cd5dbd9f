//! `cargo bench --bench mcp_startup`: prints its figures.
//!
//! What a user waits for when a process starts:
//! - `mcp-push mcp`, from spawning it to the answer of `tools/list` over stdio
//!   (initialize, initialized, tools/list): warm, and first start after
//!   installing (empty cache) for the plain build and for the executable
//!   that `plugin precompile` writes (what packages ship, and what the
//!   README's install from source makes of the installed one);
//! - a one-shot `mcp-push send` to a webhook on a loopback sink, wall time and
//!   peak RSS, next to `curl` posting the same request (the baseline, in the
//!   same run, interleaved), when curl is installed; and the first `send`
//!   after installing (no cache, no store) of each executable;
//! - an agent hook (`mcp-push hook claude-code` given a turn's `Stop`) to the
//!   same sink: what the agent waits for at the end of each turn.
//!
//! Runs: `MCP_PUSH_BENCH_RUNS` (default 30) for warm figures, 3 for cold.
//! `MCP_PUSH_BENCH_BIN=PATH` runs another build of `mcp-push` (an older one,
//! to compare).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let runs: usize = std::env::var("MCP_PUSH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let home = tempfile::tempdir().unwrap();
    let plain = std::env::var_os("MCP_PUSH_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mcp-push")));
    let plain = plain.as_path();
    let warm = home.path().join("warm");
    let sink = sink();

    // The executable packages ship, written through the warm cache.
    session(plain, home.path(), &warm, None);
    let packaged = home.path().join("mcp-push-precompiled");
    let made = Command::new(plain)
        .args(["plugin", "precompile", "--out"])
        .arg(&packaged)
        .env("HOME", home.path())
        .env("MCP_PUSH_CACHE_DIR", &warm)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");

    let mut bare: Vec<Duration> = (0..runs)
        .map(|_| session(plain, home.path(), &warm, None))
        .collect();
    let mut with_channel: Vec<Duration> = (0..runs)
        .map(|_| session(plain, home.path(), &warm, Some(&sink)))
        .collect();
    let (mut cold_plain, mut cold_packaged) = (Vec::new(), Vec::new());
    let (mut cold_send, mut cold_send_packaged) = (Vec::new(), Vec::new());
    for i in 0..3 {
        let cache = |kind: &str| home.path().join(format!("cold-{kind}-{i}"));
        cold_plain.push(session(plain, home.path(), &cache("plain"), None));
        cold_packaged.push(session(&packaged, home.path(), &cache("packaged"), None));
        // A first send after install: no compiled plugin and no store yet.
        let new_home = home.path().join(format!("cold-home-{i}"));
        std::fs::create_dir(&new_home).unwrap();
        cold_send.push(one_shot_send(plain, &new_home, &cache("send"), &sink).0);
        let new_home = home.path().join(format!("cold-home-packaged-{i}"));
        std::fs::create_dir(&new_home).unwrap();
        let first = one_shot_send(&packaged, &new_home, &cache("send-packaged"), &sink);
        cold_send_packaged.push(first.0);
    }

    let curl = Command::new("curl").arg("--version").output().is_ok();
    let (mut send, mut send_rss, mut base, mut base_rss) = (vec![], vec![], vec![], vec![]);
    let (mut hook, mut hook_rss) = (vec![], vec![]);
    let (mut send_packaged, mut send_packaged_rss) = (vec![], vec![]);
    let stop = home.path().join("stop.json");
    std::fs::write(
        &stop,
        r#"{"session_id":"bench","transcript_path":"/none","cwd":"/work/shop","hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"All green."}"#,
    )
    .unwrap();
    one_shot_send(plain, home.path(), &warm, &sink);
    for _ in 0..runs {
        let (t, rss) = one_shot_send(plain, home.path(), &warm, &sink);
        send.push(t);
        send_rss.push(rss);
        let (t, rss) = one_shot_send(&packaged, home.path(), &warm, &sink);
        send_packaged.push(t);
        send_packaged_rss.push(rss);
        let (t, rss) = one_shot(
            plain,
            &["hook", "claude-code"],
            home.path(),
            &warm,
            &sink,
            Some(&stop),
        );
        hook.push(t);
        hook_rss.push(rss);
        if curl {
            let (t, rss) = one_shot_curl(&sink);
            base.push(t);
            base_rss.push(rss);
        }
    }

    println!(
        "conditions: {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("`mcp-push mcp`: process start to tools/list answered, over stdio:");
    let warm_bare = median(&mut bare);
    println!(
        "  warm, no channel                  median {:>7.1} ms  max {:>7.1} ms  ({runs} runs)",
        ms(warm_bare),
        ms(*bare.last().unwrap())
    );
    println!(
        "  warm, webhook channel             median {:>7.1} ms  max {:>7.1} ms  ({runs} runs)",
        ms(median(&mut with_channel)),
        ms(*with_channel.last().unwrap())
    );
    let cold = median(&mut cold_plain);
    println!(
        "  first start, built from source    median {:>7.1} ms  ({:.1}x warm; 3 runs: nothing compiled, described by plugins/described.json)",
        ms(cold),
        ratio(cold, warm_bare)
    );
    let cold = median(&mut cold_packaged);
    println!(
        "  first start, precompiled package  median {:>7.1} ms  ({:.1}x warm; 3 runs: nothing compiled)",
        ms(cold),
        ratio(cold, warm_bare)
    );
    let t = median(&mut send);
    println!("one-shot `mcp-push send` to a webhook on a loopback sink, warm ({runs} runs):");
    println!(
        "  mcp-push send  median {:>6.1} ms  peak RSS median {:>5.1} MiB",
        ms(t),
        mib(median(&mut send_rss))
    );
    let first = median(&mut cold_send);
    println!(
        "  first `send` after building from source  median {:>6.1} ms  ({:.1}x warm; 3 runs: no store yet, the webhook plugin compiled by Winch, no other)",
        ms(first),
        ratio(first, t)
    );
    let t_packaged = median(&mut send_packaged);
    println!(
        "  precompiled executable: warm median {:>6.1} ms  peak RSS median {:>5.1} MiB",
        ms(t_packaged),
        mib(median(&mut send_packaged_rss))
    );
    let first = median(&mut cold_send_packaged);
    println!(
        "  first `send` of the precompiled executable  median {:>6.1} ms  ({:.1}x its warm; 3 runs: no store yet, nothing compiled)",
        ms(first),
        ratio(first, t_packaged)
    );
    if curl {
        let b = median(&mut base);
        println!(
            "  curl           median {:>6.1} ms  peak RSS median {:>5.1} MiB  (mcp-push / curl: {:.1}x)",
            ms(b),
            mib(median(&mut base_rss)),
            ratio(t, b)
        );
    }
    let h = median(&mut hook);
    println!(
        "  mcp-push hook  median {:>6.1} ms  p90 {:>6.1} ms  peak RSS median {:>5.1} MiB  (a Claude Code Stop; hook / send: {:.2}x)",
        ms(h),
        ms(hook[hook.len() * 9 / 10]),
        mib(median(&mut hook_rss)),
        ratio(h, t)
    );
}

fn session(exe: &Path, home: &Path, cache: &Path, sink: Option<&str>) -> Duration {
    let t = Instant::now();
    let mut cmd = Command::new(exe);
    cmd.arg("mcp")
        .env_clear()
        .env("HOME", home)
        .env("MCP_PUSH_CACHE_DIR", cache)
        .env("MCP_PUSH_PLUGINS_DIR", home.join("none"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(sink) = sink {
        cmd.env("WEBHOOK_URL", sink);
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

/// `mcp-push ARGS` with a webhook to the sink, in the warm environment,
/// standard input from `stdin` (a file) or none.
fn one_shot(
    exe: &Path,
    args: &[&str],
    home: &Path,
    cache: &Path,
    sink: &str,
    stdin: Option<&Path>,
) -> (Duration, u64) {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("MCP_PUSH_CACHE_DIR", cache)
        .env("MCP_PUSH_PLUGINS_DIR", home.join("none"))
        .env("MCP_PUSH_DB", home.join("send.db"))
        .env("WEBHOOK_URL", sink)
        .stdin(match stdin {
            Some(file) => Stdio::from(std::fs::File::open(file).unwrap()),
            None => Stdio::null(),
        });
    timed(cmd)
}

fn one_shot_send(exe: &Path, home: &Path, cache: &Path, sink: &str) -> (Duration, u64) {
    one_shot(exe, &["send", "bench", "one shot"], home, cache, sink, None)
}

fn one_shot_curl(sink: &str) -> (Duration, u64) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "/dev/null",
        "-H",
        "content-type: application/json",
    ])
    .args(["-d", r#"{"title":"bench","content":"one shot"}"#, sink])
    .stdin(Stdio::null());
    timed(cmd)
}

/// Wall time to exit, and peak RSS in bytes (from the child's rusage).
// The child is reaped by `wait4`, which `Child::wait` cannot give the rusage of.
#[allow(clippy::zombie_processes)]
fn timed(mut cmd: Command) -> (Duration, u64) {
    // Standard input is the caller's to set (null unless given).
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let t = Instant::now();
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: plain wait4 on our own child, with out-pointers to locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = t.elapsed();
    assert_eq!(pid, child.id() as i32);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    (elapsed, usage.ru_maxrss as u64 * 1024)
}

/// A loopback HTTP/1.1 server answering every request 200 (one request per
/// connection, as one-shot clients make).
fn sink() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let Ok(n) = s.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    url
}

fn median<T: Ord + Copy>(v: &mut [T]) -> T {
    v.sort();
    v[v.len() / 2]
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
