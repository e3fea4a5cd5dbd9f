//! Surfaces under hostile input, driven from outside against the real binary:
//! slow and half-open HTTP connections against `serve`, malformed lines on
//! `mcp` over stdio, and a database that is not ours or is deleted under a
//! running server.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::mcp_client::start_server;
use support::{Mock, Sandbox};

/// Only a guard against hanging forever: nothing here measures latency.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// One HTTP/1.1 request on a fresh connection: (status, body).
fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn healthz(addr: SocketAddr) -> Result<String, std::io::Error> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(HANG_GUARD))?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Has the server closed this connection? Reads what it sent; EOF or a reset
/// means closed, no data yet means still open.
fn closed_by_server(s: &mut TcpStream, seen: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Slow {
    /// Connects and sends nothing.
    Silent,
    /// Half a request line and some headers, never the blank line.
    PartialHeaders,
    /// Full headers, 10 of 100 announced body bytes.
    PartialBody,
    /// A complete request, its answer read, then nothing more.
    IdleKeepAlive,
}

fn open_slow(addr: SocketAddr, how: Slow) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    match how {
        Slow::Silent => {}
        Slow::PartialHeaders => s
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .unwrap(),
        Slow::PartialBody => s
            .write_all(
                b"POST /v1/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"title\":",
            )
            .unwrap(),
        Slow::IdleKeepAlive => {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .unwrap();
            // The whole answer ("ok\n" after the headers), then keep the connection.
            s.set_read_timeout(Some(HANG_GUARD)).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"ok\n") {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "closed before answering");
                got.extend_from_slice(&buf[..n]);
            }
        }
    }
    s.set_nonblocking(true).unwrap();
    s
}

/// Poll until `want` of `conns` are closed by the server (or the guard runs out).
fn wait_closed(conns: &mut [(Slow, TcpStream, Vec<u8>, bool)], want: usize) -> usize {
    let start = Instant::now();
    loop {
        for (_, s, seen, closed) in conns.iter_mut() {
            if !*closed {
                *closed = closed_by_server(s, seen);
            }
        }
        let n = conns.iter().filter(|c| c.3).count();
        if n >= want || start.elapsed() > HANG_GUARD {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn slow_connections_are_closed_and_healthz_answers_during_the_attack() {
    let home = Sandbox::new()
        .env("MCP_PUSH_HEADER_TIMEOUT", "2")
        .env("MCP_PUSH_BODY_TIMEOUT", "2")
        .env("MCP_PUSH_MAX_CONNECTIONS", "1000");
    let server = start_server(&home, "127.0.0.1:0");
    let kinds = [
        Slow::Silent,
        Slow::PartialHeaders,
        Slow::PartialBody,
        Slow::IdleKeepAlive,
    ];
    let mut conns: Vec<(Slow, TcpStream, Vec<u8>, bool)> = (0..320)
        .map(|i| {
            let how = kinds[i % kinds.len()];
            (how, open_slow(server.addr, how), Vec::new(), false)
        })
        .collect();
    // 320 slow clients hold connections: a probe still gets its answer.
    let probe = healthz(server.addr).expect("/healthz during the attack");
    assert!(
        probe.starts_with("HTTP/1.1 200") && probe.ends_with("ok\n"),
        "{probe}"
    );
    let total = conns.len();
    let closed = wait_closed(&mut conns, total);
    assert_eq!(closed, total, "connections the server never closed");
    // A body that stopped arriving is answered before the close, in the error shape.
    for (how, _, seen, _) in &conns {
        if *how == Slow::PartialBody {
            let text = String::from_utf8_lossy(seen);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            assert!(text.contains(r#""code":"request_timeout""#), "{text}");
        }
    }
    assert!(healthz(server.addr).unwrap().ends_with("ok\n"));
}

#[test]
fn connections_over_the_limit_are_closed_at_once_not_queued() {
    // Headers may take long here, so any close seen below is the limit's doing.
    let home = Sandbox::new()
        .env("MCP_PUSH_HEADER_TIMEOUT", "600")
        .env("MCP_PUSH_MAX_CONNECTIONS", "20");
    let server = start_server(&home, "127.0.0.1:0");
    let mut held: Vec<(Slow, TcpStream, Vec<u8>, bool)> = (0..20)
        .map(|_| {
            (
                Slow::Silent,
                open_slow(server.addr, Slow::Silent),
                Vec::new(),
                false,
            )
        })
        .collect();
    // Accepted in order: once the 20 are in, every further connection is over the limit.
    let mut extra: Vec<(Slow, TcpStream, Vec<u8>, bool)> = (0..30)
        .map(|_| {
            (
                Slow::Silent,
                open_slow(server.addr, Slow::Silent),
                Vec::new(),
                false,
            )
        })
        .collect();
    assert_eq!(
        wait_closed(&mut extra, 30),
        30,
        "connections over the limit held"
    );
    // The 30 were closed after the 20 were accepted: those 20 are still open.
    let still_open = held
        .iter_mut()
        .map(|(_, s, seen, _)| closed_by_server(s, seen))
        .filter(|closed| !closed)
        .count();
    assert_eq!(still_open, 20, "a connection under the limit was closed");
    // Room again once the slow clients go.
    drop(held);
    let start = Instant::now();
    let answer = loop {
        match healthz(server.addr) {
            Ok(a) if a.ends_with("ok\n") => break a,
            _ if start.elapsed() > HANG_GUARD => panic!("/healthz never answered again"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_declared_body_over_the_limit_is_refused_from_its_header() {
    let home = Sandbox::new();
    let server = start_server(&home, "127.0.0.1:0");
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    s.write_all(
        b"POST /v1/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 99999999\r\n\r\n{}",
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(out.contains(r#""code":"too_large""#), "{out}");
}

/// Whatever the server answers to `bytes` (it may stop reading early).
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn requests_hyper_refuses_get_the_documented_error_shape() {
    let home = Sandbox::new();
    let server = start_server(&home, "127.0.0.1:0");
    let long = "a".repeat(1 << 20);
    for (what, request, status, code) in [
        (
            "a 1 MB path",
            format!("GET /v1/runs/{long} HTTP/1.1\r\nHost: x\r\n\r\n"),
            431,
            "too_large",
        ),
        (
            "a 1 MB query",
            format!("GET /v1/runs?x={long} HTTP/1.1\r\nHost: x\r\n\r\n"),
            431,
            "too_large",
        ),
        (
            "a 1 MB header",
            format!("GET /v1/runs HTTP/1.1\r\nHost: x\r\nX-Big: {long}\r\n\r\n"),
            431,
            "too_large",
        ),
        (
            "not HTTP",
            "\u{1}\u{2}garbage\r\n\r\n".to_string(),
            400,
            "invalid",
        ),
    ] {
        let out = raw(server.addr, request.as_bytes());
        assert!(
            out.starts_with(&format!("HTTP/1.1 {status} ")),
            "{what}: {out}"
        );
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {out}"));
        assert_eq!(v["error"]["code"], code, "{what}: {out}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }
    // The server is fine.
    assert!(healthz(server.addr).unwrap().starts_with("HTTP/1.1 200"));
}

/// `mcp-push mcp` spoken to line by line.
struct McpStdio {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Drop for McpStdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl McpStdio {
    fn start(home: &Sandbox) -> McpStdio {
        let mut child = home
            .command(&["mcp"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut me = McpStdio {
            child,
            stdin,
            lines,
        };
        me.send(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "hostile", "version": "1"}}})
            .to_string()
            .as_bytes(),
        );
        assert!(me.reply().get("result").is_some());
        me.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        me
    }

    fn send(&mut self, line: &[u8]) {
        self.stdin.write_all(line).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next message that answers something (notifications skipped).
    fn reply(&mut self) -> Value {
        loop {
            let line = self
                .lines
                .recv_timeout(HANG_GUARD)
                .expect("no answer from mcp-push mcp");
            let v: Value = serde_json::from_str(&line).unwrap();
            if v.get("id").is_some() {
                return v;
            }
        }
    }

    fn tools_list_still_answers(&mut self, id: i64) {
        self.send(
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
                .to_string()
                .as_bytes(),
        );
        let r = self.reply();
        assert_eq!(r["id"], id, "{r}");
        assert!(
            r["result"]["tools"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "{r}"
        );
    }
}

fn nested(levels: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(levels), "]".repeat(levels))
}

fn tool_call(id: i64, arguments: &str) -> Vec<u8> {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"notify_event","arguments":{arguments}}}}}"#
    )
    .into_bytes()
}

#[test]
fn malformed_mcp_lines_get_json_rpc_errors_and_the_session_goes_on() {
    let home = Sandbox::new();
    let mut mcp = McpStdio::start(&home);
    let event = |metadata: &str| {
        format!(
            r#"{{"run_id":"r","event":"update","message":"m","data":{{"metadata":{{"x":{metadata}}}}}}}"#
        )
    };
    // (line, expected id, expected code, what the message must name)
    let cases: Vec<(Vec<u8>, Value, i64, &str)> = vec![
        (
            b"{\"jsonrpc\":\"2.0\",\"id\":1,".to_vec(),
            Value::Null,
            -32700,
            "not valid JSON",
        ),
        (
            b"\xff\xfe\x80 not text".to_vec(),
            Value::Null,
            -32700,
            "not UTF-8",
        ),
        (
            br#"{"jsonrpc":"2.0","id":3,"method":"tools/call"}"#.to_vec(),
            json!(3),
            -32602,
            "`params` is missing",
        ),
        (
            tool_call(4, r#""{\"run_id\": \"r\"}""#),
            json!(4),
            -32602,
            "`params.arguments` must be an object",
        ),
        (
            nested(100_000, "1").into_bytes(),
            Value::Null,
            -32600,
            "JSON object",
        ),
        (
            tool_call(6, &event(&nested(100_000, "1"))),
            json!(6),
            -32602,
            "at most 64",
        ),
        (
            tool_call(7, &event(&nested(240, "{}"))),
            json!(7),
            -32602,
            "at most 64",
        ),
    ];
    for (i, (line, id, code, names)) in cases.iter().enumerate() {
        mcp.send(line);
        let r = mcp.reply();
        assert_eq!(&r["id"], id, "case {i}: {r}");
        assert_eq!(r["error"]["code"], *code, "case {i}: {r}");
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(names), "case {i}: {r}");
        mcp.tools_list_still_answers(100 + i as i64);
    }
    // `data` as an array is refused by the tool, naming the field.
    mcp.send(&tool_call(
        20,
        r#"{"run_id":"r","event":"update","message":"m","data":[0.5]}"#,
    ));
    let r = mcp.reply();
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert_eq!(r["result"]["structuredContent"]["field"], "data", "{r}");
    // Just inside the limit, the call reaches the tool (which finds no channel).
    mcp.send(&tool_call(21, &event(&nested(58, "1"))));
    let r = mcp.reply();
    assert_eq!(
        r["result"]["structuredContent"]["status"], "no_channels",
        "{r}"
    );
}

#[test]
fn data_as_an_array_is_refused_over_rest() {
    let home = Sandbox::new();
    let server = start_server(&home, "127.0.0.1:0");
    let (status, body) = request(
        server.addr,
        "POST",
        "/v1/events",
        Some(&json!({"run_id": "r", "event": "update", "message": "m", "data": [0.5, "x"]})),
    );
    assert_eq!(status, 400, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["field"], "data", "{v}");
}

#[test]
fn a_foreign_database_is_refused_and_left_unchanged() {
    let home = Sandbox::new();
    let db = home.dir.path().join("their-app.sqlite");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);
             INSERT INTO notes (text) VALUES ('keep me');",
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for args in [vec!["runs"], vec!["send", "hello"]] {
        let mut full = vec!["--db", db.to_str().unwrap()];
        full.extend(args);
        let run = home.run(&full);
        assert_ne!(run.code, 0, "{}", run.all_output());
        let out = run.all_output();
        assert!(
            out.contains("their-app.sqlite") && out.contains("not an mcp-push database"),
            "{out}"
        );
        assert!(out.contains("notes"), "{out}");
        assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    }
    // An empty file is a new database, and ours from then on.
    let fresh = home.dir.path().join("fresh.db");
    std::fs::write(&fresh, b"").unwrap();
    let run = home.run(&["--db", fresh.to_str().unwrap(), "runs"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let run = home.run(&["--db", fresh.to_str().unwrap(), "runs"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
}

#[test]
fn a_damaged_store_is_named_at_start_not_at_the_first_write() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let db = home.dir.path().join("hub.db");
    let home = home.env("MCP_PUSH_DB", db.display().to_string());
    for i in 0..100 {
        assert_eq!(
            home.run(&["send", "--wait", "0", "T", &format!("event {i}")])
                .code,
            0
        );
    }
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    // Table pages overwritten; the header and the schema page are intact.
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8 * 4096, "{}", bytes.len());
    for b in &mut bytes[4 * 4096..] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let run = home.run(&["runs"]);
    assert_eq!(run.code, 2, "a read must not say \"no runs yet\": {run:?}");
    assert!(
        run.stderr.contains("hub.db is damaged") && run.stderr.contains("--db"),
        "{run:?}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "the file is kept as it is"
    );
}

#[test]
fn a_database_deleted_under_serve_refuses_writes() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let db = home.dir.path().join("hub.db");
    let home = home.env("MCP_PUSH_DB", db.display().to_string());
    let server = start_server(&home, "127.0.0.1:0");
    let note = json!({"title": "t", "content": "before"});
    let (status, body) = request(server.addr, "POST", "/v1/notify", Some(&note));
    assert_eq!(status, 200, "{body}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let note = json!({"title": "t", "content": "after the file is gone"});
    let (status, body) = request(server.addr, "POST", "/v1/notify", Some(&note));
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "store_error", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("hub.db") && message.contains("deleted or replaced"),
        "{message}"
    );
    // Nothing reached the channel after the first notification.
    assert_eq!(mock.requests_to("/hook").len(), 1);
}
