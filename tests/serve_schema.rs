//! Schemathesis over `/v1/openapi.json` with all checks, against the real
//! `serve` on a loopback port: every request the document calls valid is
//! accepted, every one it calls invalid is refused, and every answer has the
//! documented status, type and shape.
//!
//! Needs `schemathesis` (`.ci/run` installs it into a venv and points
//! MCP_PUSH_SCHEMATHESIS at it). Without it the test says so and passes,
//! except under CI=true, where it fails.

mod support;

use std::path::PathBuf;
use std::process::Command;
use support::mcp_client::start_server;
use support::{Mock, Sandbox};

fn schemathesis() -> Option<PathBuf> {
    let named = std::env::var_os("MCP_PUSH_SCHEMATHESIS").map(PathBuf::from);
    let candidates = named.into_iter().chain([PathBuf::from("schemathesis")]);
    candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn the_openapi_document_holds_for_every_generated_request() {
    let Some(bin) = schemathesis() else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "schemathesis is not installed: .ci/run installs it (or set MCP_PUSH_SCHEMATHESIS)"
        );
        eprintln!(
            "skipped: schemathesis is not installed (pip install schemathesis, or set MCP_PUSH_SCHEMATHESIS)"
        );
        return;
    };
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let server = start_server(&home, "127.0.0.1:0");
    let report = home.dir.path().join("schemathesis");
    let out = Command::new(bin)
        .args(["run", &format!("http://{}/v1/openapi.json", server.addr)])
        // The stream is a WebSocket, which OpenAPI cannot describe (its
        // handshake answers 101); tests/serve.rs drives it.
        .args(["--checks", "all", "--exclude-path", "/v1/stream"])
        // A created watcher fetches its URLs, and generated URLs name hosts
        // anywhere: creating one is driven by tests/serve.rs against a local
        // mock instead. (Every other watcher route is fuzzed; with none
        // created, they answer 404 as documented.)
        .args(["--exclude-name", "POST /v1/watchers"])
        // A question's default must be one of its choices, and an answer
        // one of them, which a schema cannot say (a 400 for schema-valid
        // input fails the check): tests/asks.rs drives asking and answering,
        // with the refusals. (Reading and cancelling are fuzzed.)
        .args(["--exclude-name", "POST /v1/asks"])
        .args(["--exclude-name", "POST /v1/asks/{ask_id}/answer"])
        // One worker: with two, Hypothesis parsing lambdas' source on two
        // threads at once made CPython 3.11.7's `ast` fail now and then with
        // "SystemError: AST constructor recursion depth mismatch" (a CPython
        // bug, not a finding: 2 of 3 runs failed with two workers, 0 of 4
        // with one).
        .args(["--max-examples", "15", "--seed", "1", "--workers", "1"])
        .args(["--no-color", "--generation-database", "none"])
        // A POST may wait up to 30 s for its deliveries, as documented.
        .args(["--request-timeout", "40", "--max-response-time", "45"])
        .arg("--report-dir")
        .arg(&report)
        .current_dir(home.dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
}
