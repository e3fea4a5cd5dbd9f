//! Limits that hold across sends and across the process: guest memory of all
//! sends at once, console output and returned text per send, each channel's
//! share of the send slots, describing plugin files, and shutdown. Each case
//! drives the real binary against test components that misbehave on purpose.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::mcp_client::{Server, rt, start_server};
use support::{Mock, Sandbox, greedy_wasm, hostile_wasm, stuck_wasm};

/// The value the greedy component puts into its remote id in `secretid` mode
/// (tests/plugins/greedy: KNOWN_SECRET), configured here as its secret token.
const KNOWN_SECRET: &str = "greedy-kn0wn-s3cret-4f1d";

/// A home whose event store is at a known path.
fn home_with_db() -> (Sandbox, PathBuf) {
    let home = Sandbox::new();
    let db = home.dir.path().join("outbox.db");
    let home = home.env("MCP_PUSH_DB", db.display().to_string());
    (home, db)
}

/// Rows of `sql` on the event store, each as its columns' text.
fn query(db: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                    rusqlite::types::Value::Real(f) => Some(f.to_string()),
                    rusqlite::types::Value::Text(t) => Some(t),
                    rusqlite::types::Value::Blob(b) => Some(String::from_utf8_lossy(&b).into()),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn count(db: &Path, sql: &str) -> u64 {
    query(db, sql)[0][0].as_deref().unwrap().parse().unwrap()
}

/// Wait for `done`, failing after `sanity` (far past what the case needs:
/// the assertions are about order and counts, never about this time).
fn wait_for(what: &str, sanity: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + sanity;
    while !done() {
        assert!(Instant::now() < until, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Queue `n` notifications through `serve`'s REST API without waiting.
fn flood(addr: SocketAddr, n: usize) {
    rt().block_on(async {
        let http = reqwest::Client::new();
        for i in 0..n {
            let body = json!({"title": format!("flood {i}"), "content": "x"});
            let resp = http
                .post(format!("http://{addr}/v1/notify?wait=0"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            // 202 queued, or 200 when a send already ended.
            let status = resp.status().as_u16();
            assert!(
                matches!(status, 200 | 202),
                "{status}: {:?}",
                resp.text().await
            );
        }
    });
}

/// A `/proc/PID/status` field, in KiB.
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn sigterm(server: &Server) {
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// The component with a custom section appended: the same code under a
/// hash no earlier run has seen (the compile cache is shared by every test
/// run, and remembers files that failed).
fn with_nonce(wasm: &[u8], nonce: &str) -> Vec<u8> {
    let name = b"mcp-push-test-nonce";
    let mut content = vec![name.len() as u8];
    content.extend_from_slice(name);
    content.extend_from_slice(nonce.as_bytes());
    assert!(content.len() < 128, "one LEB128 byte");
    let mut out = wasm.to_vec();
    out.push(0);
    out.push(content.len() as u8);
    out.extend_from_slice(&content);
    out
}

fn nonce() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{t}-{}", std::process::id())
}

// --- 1. guest memory of all sends at once --------------------------------

#[test]
fn concurrent_memory_hoards_stay_within_the_process_budget_and_good_sends_deliver() {
    let (home, db) = home_with_db();
    home.install(&greedy_wasm(), "greedy.wasm");
    // Four hoarding channels (each send keeps 12 MiB until its deadline):
    // 64 send slots of them would hold over 750 MiB.
    let mut config = String::from(
        "from_env = false\n\
         [sandbox]\ntimeout_secs = 2\nmemory_mib = 16\nmemory_budget_mib = 64\n\
         [retry]\nmax_attempts = 8\nbase_delay_secs = 0.05\n\
         [channels.good]\nplugin = \"greedy\"\nmode = \"ok\"\n",
    );
    for i in 0..4 {
        config.push_str(&format!(
            "[channels.hoard{i}]\nplugin = \"greedy\"\nmode = \"hoard\"\n"
        ));
    }
    let home = home.config(&config);
    let server = start_server(&home, "127.0.0.1:0");
    let pid = server.child.id();
    let before = proc_kib(pid, "VmRSS");
    let notifications = 20;
    flood(server.addr, notifications);
    let good_sent = || {
        count(
            &db,
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'good' AND state = 'sent'",
        )
    };
    let hoards_ended = || {
        count(
            &db,
            "SELECT COUNT(*) FROM deliveries WHERE channel LIKE 'hoard%' AND attempts > 0",
        )
    };
    let mut peak = 0;
    // Until every good send is delivered and every hoard has ended an
    // attempt (so all of them ran at least once while memory was measured).
    wait_for(
        "the good sends and the hoards",
        Duration::from_secs(300),
        || {
            peak = peak.max(proc_kib(pid, "VmRSS"));
            good_sent() == notifications as u64 && hoards_ended() == 4 * notifications as u64
        },
    );
    let hwm = proc_kib(pid, "VmHWM").max(peak);
    let grew_mib = hwm.saturating_sub(before) >> 10;
    eprintln!(
        "serve: {} MiB before the flood, peak {} MiB (+{grew_mib} MiB)",
        before >> 10,
        hwm >> 10
    );
    // The budget plus room for the host's own buffers and the store's pages.
    assert!(
        grew_mib < 64 + 96,
        "the process grew by {grew_mib} MiB under a 64 MiB guest memory budget"
    );
    // Hoards end as timeouts or as refusals by the budget, never as a crash
    // of the process.
    let reasons = query(
        &db,
        "SELECT DISTINCT last_error FROM deliveries WHERE channel LIKE 'hoard%'",
    );
    eprintln!("hoards ended with: {reasons:?}");
    for r in &reasons {
        let r = r[0].as_deref().unwrap_or_default();
        assert!(
            r.contains("timed out") || r.contains("plugin memory"),
            "{reasons:?}"
        );
    }
}

// --- 2. console output per send -------------------------------------------

#[test]
fn console_output_is_capped_per_send_with_one_note() {
    let (home, _db) = home_with_db();
    home.install(&greedy_wasm(), "greedy.wasm");
    let home = home
        .config("from_env = false\n[channels.noisy]\nplugin = \"greedy\"\nmode = \"console\"\n");
    let run = home.run(&["send", "Hi", "there"]);
    assert_eq!(run.code, 0, "{}", &run.stdout);
    let printed = run.stderr.matches(&"x".repeat(1024)).count();
    eprintln!(
        "console: {} bytes on stderr for a send that printed 64 MiB",
        run.stderr.len()
    );
    assert!(
        run.stderr.len() < 512 << 10,
        "{} bytes on stderr from one send",
        run.stderr.len()
    );
    assert!(printed > 0, "the first prints are shown");
    assert_eq!(
        run.stderr.matches("console limit reached").count(),
        1,
        "one note"
    );
}

// --- 3. what a plugin returns ---------------------------------------------

#[test]
fn returned_error_text_and_remote_ids_are_cut_and_masked_before_they_are_stored() {
    let (home, db) = home_with_db();
    home.install(&greedy_wasm(), "greedy.wasm");
    let mut config = String::from("from_env = false\n");
    for mode in ["bigerror", "bigid", "secretid"] {
        config.push_str(&format!(
            "[channels.{mode}]\nplugin = \"greedy\"\nmode = \"{mode}\"\ntoken = \"{KNOWN_SECRET}\"\n"
        ));
    }
    let home = home.config(&config);
    let send = home.run(&["send", "Hi", "there", "--wait", "0"]);
    let event = home.run(&["event", "train-1", "start", "going", "--wait", "0"]);
    let deliveries = home.run(&["deliveries", "--json"]);
    let runs = home.run(&["runs"]);
    let run = home.run(&["runs", "train-1"]);
    let mut outputs = vec![
        ("send", send.all_output()),
        ("event", event.all_output()),
        ("deliveries --json", deliveries.all_output()),
        ("runs", runs.all_output()),
        ("runs train-1", run.all_output()),
    ];
    let mut db_bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(b) = std::fs::read(&path) {
            db_bytes.extend(b);
        }
    }
    eprintln!("db and WAL: {} bytes", db_bytes.len());
    outputs.push((
        "the db file",
        String::from_utf8_lossy(&db_bytes).into_owned(),
    ));
    let long_run = |text: &str, c: char| text.contains(&c.to_string().repeat(8 << 10));
    for (what, text) in &outputs {
        assert!(!text.contains(KNOWN_SECRET), "the secret in {what}");
        assert!(
            !long_run(text, 'e') && !long_run(text, 'i'),
            "more than 8 KiB of returned text in {what} ({} bytes)",
            text.len()
        );
    }
    assert!(db_bytes.len() < 4 << 20, "{} bytes of db", db_bytes.len());
    // Cut, marked as cut, and masked, in what `deliveries` shows.
    let rows: Value = serde_json::from_str(&deliveries.stdout).expect("JSON");
    let field = |channel: &str, key: &str| -> Vec<String> {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["channel"] == channel)
            .map(|r| r[key].as_str().unwrap_or_default().to_string())
            .collect()
    };
    for error in field("bigerror", "last_error") {
        assert!(
            error.starts_with("rejected: huge eeee"),
            "{}",
            &error[..error.len().min(200)]
        );
        assert!(
            error.ends_with('…') && error.len() < 5 << 10,
            "{} bytes",
            error.len()
        );
    }
    for id in field("bigid", "remote_id") {
        assert!(
            id.ends_with('…') && id.len() < 5 << 10,
            "{} bytes",
            id.len()
        );
    }
    assert_eq!(field("secretid", "remote_id"), ["id-<secret:token>-end"; 2]);
}

// --- 4. fairness: one bad channel does not starve the others --------------

#[test]
fn a_looping_channel_holds_only_its_share_and_good_deliveries_all_go_out_first() {
    let mock = Mock::start();
    let (home, db) = home_with_db();
    home.install(&hostile_wasm(), "hostile.wasm");
    home.install(&greedy_wasm(), "greedy.wasm");
    // A long deadline: the looping sends are all still running when the
    // good ones are done, unless they crowd the good ones out.
    let home = home.config(&format!(
        "from_env = false\n[sandbox]\ntimeout_secs = 60\n\
         [channels.good]\nplugin = \"greedy\"\nmode = \"ok\"\n\
         [channels.looping]\nplugin = \"hostile\"\nmode = \"loop\"\nurl = \"{}\"\n",
        mock.url("/x")
    ));
    // One runtime worker, as on a 2-core machine: a looping guest must not
    // hold it (with it held, the flood took 125 s and the looping sends
    // timed out before the good ones were done).
    let home = home.env("TOKIO_WORKER_THREADS", "1");
    let server = start_server(&home, "127.0.0.1:0");
    let notifications = 300;
    let started = Instant::now();
    flood(server.addr, notifications);
    eprintln!("flood queued in {} ms", started.elapsed().as_millis());
    wait_for("every good delivery", Duration::from_secs(240), || {
        count(
            &db,
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'good' AND state = 'sent'",
        ) == notifications as u64
    });
    // The good channel's latency, from the event to its delivery.
    let mut latency: Vec<i64> = query(
        &db,
        "SELECT d.sent_at - e.created_at FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.channel = 'good'",
    )
    .into_iter()
    .map(|r| r[0].as_deref().unwrap().parse().unwrap())
    .collect();
    latency.sort();
    let p = |q: f64| latency[((latency.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    eprintln!(
        "good channel latency under the flood: p50 {} ms, p99 {} ms, max {} ms",
        p(0.50),
        p(0.99),
        p(1.0)
    );
    // Order: not one looping send had ended when the last good one was sent.
    let looping = query(
        &db,
        "SELECT COUNT(*), SUM(attempts), SUM(state = 'pending'), SUM(lease_owner IS NOT NULL)
         FROM deliveries WHERE channel = 'looping'",
    );
    let [total, attempts, pending, leased] = [0, 1, 2, 3].map(|i| {
        looping[0][i]
            .as_deref()
            .unwrap_or("0")
            .parse::<u64>()
            .unwrap()
    });
    eprintln!(
        "looping: {total} deliveries, {pending} pending, {leased} leased, {attempts} attempts ended"
    );
    assert_eq!((total, pending, attempts), (notifications as u64, total, 0));
    // Counts: the looping channel holds at most its share of the 64 slots,
    // half of them with two channels configured.
    // A claim leases a batch for a moment before the rows past the share are
    // given back, so one look can catch a few extra: the sends that hold a
    // slot are leased in every look (the looping ones last 60 s), so they are
    // no more than the fewest leases one look sees.
    let held = (0..10)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            count(
                &db,
                "SELECT COUNT(*) FROM deliveries WHERE channel = 'looping' AND lease_owner IS NOT NULL",
            )
        })
        .min()
        .unwrap();
    eprintln!("looping: {leased} leased in the first look, at the fewest {held} over ten looks");
    assert!(held <= 32, "{held} looping deliveries held at once");
}

// --- 5. describing plugin files -------------------------------------------

#[test]
fn looping_info_files_are_skipped_after_a_short_deadline_and_remembered() {
    let home = Sandbox::new();
    let stuck = std::fs::read(stuck_wasm()).unwrap();
    let run_id = nonce();
    for i in 0..3 {
        std::fs::write(
            home.plugins_dir().join(format!("stuck{i}.wasm")),
            with_nonce(&stuck, &format!("{run_id}-{i}")),
        )
        .unwrap();
    }
    let skipped = |run: &support::Run, what: &str| {
        run.stdout
            .lines()
            .filter(|l| l.contains("skipping plugin") && l.contains(what))
            .count()
    };
    let first = home.run(&["channels", "-vv"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(skipped(&first, "within 1 s"), 3, "{first:?}");
    assert_eq!(
        first.stderr.matches("calling info() of").count(),
        3,
        "{}",
        first.stderr
    );
    // The next start does not call them again.
    let second = home.run(&["channels", "-vv"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(
        skipped(&second, "remembered from an earlier start"),
        3,
        "{second:?}"
    );
    assert_eq!(
        second.stderr.matches("calling info() of").count(),
        0,
        "{}",
        second.stderr
    );
    // A changed file is tried again.
    std::fs::write(
        home.plugins_dir().join("stuck1.wasm"),
        with_nonce(&stuck, &format!("{run_id}-changed")),
    )
    .unwrap();
    let third = home.run(&["channels", "-vv"]);
    assert_eq!(
        skipped(&third, "remembered from an earlier start"),
        2,
        "{third:?}"
    );
    assert_eq!(
        third.stderr.matches("calling info() of").count(),
        1,
        "{}",
        third.stderr
    );
}

#[test]
fn a_huge_junk_file_in_the_plugins_directory_is_refused_without_being_read() {
    let home = Sandbox::new();
    let junk = home.plugins_dir().join("junk.wasm");
    let status = Command::new("truncate")
        .args(["-s", "400M"])
        .arg(&junk)
        .status()
        .unwrap();
    assert!(status.success());
    // The peak memory of the command, as the kernel counted it.
    let cmd = home.command(&["channels"]);
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("maxrss_kib=%M")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .stdin(Stdio::null());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    let run = support::run(timed);
    assert_eq!(run.code, 0, "{run:?}");
    let line = run
        .all_output()
        .lines()
        .find(|l| l.contains("skipping plugin") && l.contains("junk.wasm"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("junk.wasm not reported: {run:?}"));
    assert!(line.contains("400 MiB is more than the 64 MiB"), "{line}");
    let rss_kib: u64 = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eprintln!(
        "channels with a 400 MiB junk file: peak RSS {} MiB",
        rss_kib >> 10
    );
    assert!(
        rss_kib < 200 << 10,
        "peak RSS {} MiB: the file was read",
        rss_kib >> 10
    );
}

// --- 6. shutdown ----------------------------------------------------------

#[test]
fn sigterm_cuts_looping_sends_and_their_deliveries_stay_pending_with_no_attempt() {
    let mock = Mock::start();
    let (home, db) = home_with_db();
    home.install(&hostile_wasm(), "hostile.wasm");
    let home = home.config(&format!(
        "from_env = false\n[channels.looping]\nplugin = \"hostile\"\nmode = \"loop\"\nurl = \"{}\"\n",
        mock.url("/x")
    ));
    let mut server = start_server(&home, "127.0.0.1:0");
    flood(server.addr, 5);
    wait_for(
        "the looping sends to start",
        Duration::from_secs(30),
        || {
            count(
                &db,
                "SELECT COUNT(*) FROM deliveries WHERE lease_owner IS NOT NULL",
            ) == 5
        },
    );
    sigterm(&server);
    // 10 s is a sanity bound only (the looping sends' own deadline is 15 s).
    let mut exited = None;
    wait_for("serve to exit", Duration::from_secs(10), || {
        exited = server.child.try_wait().unwrap();
        exited.is_some()
    });
    assert!(exited.unwrap().success(), "{exited:?}");
    let rows = query(
        &db,
        "SELECT state, attempts, lease_owner, last_error FROM deliveries ORDER BY id",
    );
    assert_eq!(rows.len(), 5);
    for r in &rows {
        assert_eq!(
            (r[0].as_deref(), r[1].as_deref(), r[2].as_deref()),
            (Some("pending"), Some("0"), None),
            "cut sends stay pending, no attempt counted, free to claim: {rows:?}"
        );
    }
}
