//! The MCP server end to end: the real binary driven by rmcp's client over
//! stdio (`mcp-push mcp`) and streamable HTTP (`mcp-push serve`), delivering
//! to a mock on 127.0.0.1.

mod support;

use rmcp::model::{
    CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams, ResourceContents,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::Arc;
use support::mcp_client::{
    Client, call, http_client, rt, start_server, stdio_client, structured, text,
};
use support::{Mock, Sandbox};

/// In the headers of the `ops` channel: must never come back to the client.
const SECRET: &str = "Bearer sekrit-token-4711";

/// Two channels: `webhook` from the notify.py environment, `ops` from the
/// config file (its header block is a secret).
fn two_channels(mock: &Mock, ops_path: &str) -> Sandbox {
    Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/env-hook"))
        .config(&format!(
            "[channels.ops]\nplugin = \"webhook\"\nurl = \"{}\"\nheaders = \"Authorization: {SECRET}\"\n",
            mock.url(ops_path)
        ))
}

/// Everything a client can see of one session, checked the same way over
/// both transports.
async fn exercise(client: &Client, mock: &Mock) {
    let info = client.peer_info().expect("server info");
    let server = info.server_info.clone().expect("server info");
    assert_eq!(server.name, "mcp-push");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|i| i.contains("notify_event")),
        "{info:?}"
    );

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "notify_send",
            "notify_event",
            "list_channels",
            "get_run",
            "list_runs",
            "get_deliveries",
            "watch_create",
            "watch_list",
            "watch_get",
            "watch_update",
            "watch_pause",
            "watch_resume",
            "watch_delete",
            "watch_run",
            "hub_status",
            "ask_user",
            "ask_status",
            "ask_cancel"
        ]
    );
    let schema = |name: &str| {
        let t = tools.iter().find(|t| t.name == name).unwrap();
        assert!(t.description.as_deref().is_some_and(|d| d.len() > 40));
        serde_json::to_value(t.input_schema.as_ref()).unwrap()
    };
    let send = schema("notify_send");
    for field in ["title", "content", "format", "priority", "tags", "channels"] {
        let p = &send["properties"][field];
        assert!(p["description"].is_string(), "notify_send.{field}: {p}");
    }
    let mut required: Vec<&str> = send["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(required, ["content", "title"]);
    let event = schema("notify_event");
    for field in ["run_id", "event", "message", "data", "timestamp"] {
        assert!(
            event["properties"][field].is_object(),
            "notify_event.{field}"
        );
    }
    let kinds = serde_json::to_string(&event).unwrap();
    for word in [
        "\"start\"",
        "\"update\"",
        "\"end\"",
        "\"error\"",
        "progress",
        "artifact_url",
        "error_code",
        "metadata",
    ] {
        assert!(kinds.contains(word), "{word} missing from {kinds}");
    }

    // notify_send reaches both channels.
    let r = call(
        client,
        "notify_send",
        json!({"title": "Deploy done", "content": "v2.0.1 is live", "priority": "high"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["status"], "success", "{s}");
    let mut chans: Vec<&str> = s["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["ok"], true, "{c}");
            c["channel"].as_str().unwrap()
        })
        .collect();
    chans.sort();
    assert_eq!(chans, ["ops", "webhook"]);
    assert!(text(&r).contains("Delivered to 2 channels"), "{}", text(&r));
    // The sentence is in the structured result too: it is what Claude Code
    // and Codex show the model.
    assert_eq!(structured(&r)["summary"], text(&r).as_str());
    let hook = mock.requests_to("/env-hook");
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0].json()["title"], "Deploy done");
    let ops = mock.requests_to("/ops");
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].header("authorization"), Some(SECRET));

    // Only the channel named.
    let r = call(
        client,
        "notify_send",
        json!({"title": "", "content": "only ops", "channels": ["ops"]}),
    )
    .await;
    assert_eq!(structured(&r)["status"], "success");
    assert_eq!(mock.requests_to("/ops").len(), 2);
    assert_eq!(mock.requests_to("/env-hook").len(), 1);

    // notify_event: a readable message per kind.
    let r = call(
        client,
        "notify_event",
        json!({"run_id": "train-42", "event": "update", "message": "halfway there",
               "data": {"progress": 0.5, "step": "epoch 5/10", "metadata": {"gpu": "a100"}},
               "channels": ["webhook"]}),
    )
    .await;
    let s = structured(&r);
    assert_eq!(s["status"], "success", "{s}");
    assert_eq!(s["run_id"], "train-42");
    assert_eq!(s["event"], "update");
    let body = mock.requests_to("/env-hook").last().unwrap().json();
    assert_eq!(body["title"], "[UPDATE] train-42");
    assert_eq!(
        body["content"],
        "halfway there\nProgress: 50%\nStep: epoch 5/10"
    );
    let r = call(
        client,
        "notify_event",
        json!({"run_id": "train-42", "event": "error", "message": "out of memory",
               "data": {"error_code": "E_OOM", "artifact_url": "https://ci.example/42"},
               "timestamp": "2026-11-21T09:30:00Z", "channels": ["webhook"]}),
    )
    .await;
    assert_eq!(structured(&r)["status"], "success");
    let body = mock.requests_to("/env-hook").last().unwrap().json();
    assert_eq!(body["title"], "[ERROR] train-42");
    let content = body["content"].as_str().unwrap();
    assert!(content.starts_with("out of memory\n"), "{content}");
    assert!(content.contains("Error code: E_OOM"), "{content}");
    assert!(
        content.contains("Artifact: https://ci.example/42"),
        "{content}"
    );

    // list_channels, the resource and the prompt.
    let r = call(client, "list_channels", json!({})).await;
    assert_eq!(r.is_error, Some(false));
    let s = structured(&r);
    let ops = s["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ops")
        .expect("ops listed");
    assert_eq!(ops["plugin"], "webhook");
    assert_eq!(ops["settings"]["headers"], "***");
    // The origin of the channel's URL: its host and port, no other port.
    let origin = mock
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert_eq!(ops["allowed_hosts"], json!([origin]));
    assert!(ops["version"].is_string());
    assert!(s["available"].is_array());

    let resources = client.list_all_resources().await.unwrap();
    assert!(resources.iter().any(|r| r.uri == "push://channels"));
    let read = client
        .read_resource(ReadResourceRequestParams::new("push://channels"))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text: json, .. } = &read.contents[0] else {
        panic!("text contents expected");
    };
    let parsed: Value = serde_json::from_str(json).unwrap();
    assert_eq!(parsed["channels"].as_array().unwrap().len(), 2);

    let prompts = client.list_all_prompts().await.unwrap();
    assert_eq!(prompts[0].name, "mcp-push-guidelines");
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("mcp-push-guidelines"))
        .await
        .unwrap();
    let said = serde_json::to_string(&prompt.messages).unwrap();
    for word in [
        "run_id",
        "start",
        "update",
        "end",
        "error",
        "secrets",
        "watch_create",
        "remind me",
    ] {
        assert!(said.contains(word), "guidelines should mention {word}");
    }

    // Nothing the client saw holds the secret.
    let everything = format!(
        "{}{}{}",
        serde_json::to_string(&r).unwrap(),
        json,
        serde_json::to_string(&tools).unwrap()
    );
    assert!(
        !everything.contains("sekrit"),
        "secret leaked to the client"
    );
}

#[test]
fn stdio_session_initializes_lists_and_delivers() {
    let mock = Mock::start();
    let home = two_channels(&mock, "/ops");
    rt().block_on(async {
        let (client, stderr) = stdio_client(&home, &[]).await;
        exercise(&client, &mock).await;
        client.cancel().await.unwrap();
        assert!(!stderr.lock().unwrap().contains("sekrit"));
    });
}

#[test]
fn streamable_http_session_initializes_lists_and_delivers() {
    let mock = Mock::start();
    let home = two_channels(&mock, "/ops");
    let server = start_server(&home, "127.0.0.1:0");
    rt().block_on(async {
        let client = http_client(server.addr, None).await;
        exercise(&client, &mock).await;
        client.cancel().await.unwrap();
    });
}

#[test]
fn invalid_arguments_name_the_field() {
    let mock = Mock::start();
    let home = two_channels(&mock, "/ops");
    rt().block_on(async {
        let (client, _) = stdio_client(&home, &[]).await;
        let cases = [
            (
                "notify_event",
                json!({"run_id": "r1", "event": "finish", "message": "x"}),
                "`event`",
                "unknown variant `finish`",
            ),
            (
                "notify_event",
                json!({"run_id": "r1", "event": "update", "message": "x", "data": {"progress": 1.5}}),
                "`data.progress`",
                "outside 0 to 1",
            ),
            (
                "notify_event",
                json!({"event": "start", "message": "x"}),
                "`run_id`",
                "is required",
            ),
            (
                "notify_send",
                json!({"title": " ", "content": ""}),
                "`title`",
                "both empty",
            ),
            (
                "notify_send",
                json!({"title": 5, "content": "x"}),
                "`title`",
                "invalid type: integer `5`, expected a string",
            ),
            (
                "notify_send",
                json!({"title": "t", "content": "x", "priority": "asap"}),
                "`priority`",
                "unknown variant `asap`",
            ),
            (
                "notify_send",
                json!({"title": "t", "content": "x", "channels": ["nope"]}),
                "unknown channel `nope`",
                "channels: ops, webhook",
            ),
        ];
        for (tool, args, field, why) in cases {
            let r = call(&client, tool, args.clone()).await;
            let t = text(&r);
            assert_eq!(r.is_error, Some(true), "{args}: {t}");
            assert!(t.contains(field) && t.contains(why), "{args}: {t}");
            assert_ne!(structured(&r)["status"], "success");
        }
        // Nothing was delivered by any of them.
        assert!(mock.requests().is_empty());
        // An unknown tool is a protocol error that lists the tools.
        let err = client
            .call_tool(CallToolRequestParams::new("notify_sms"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("notify_send"), "{err}");
        client.cancel().await.unwrap();
    });
}

#[test]
fn partial_and_failed_deliveries_are_reported_per_channel() {
    let mock = Mock::start();
    let home = two_channels(&mock, "/status/503");
    rt().block_on(async {
        let (client, _) = stdio_client(&home, &[]).await;
        let r = call(
            &client,
            "notify_send",
            json!({"title": "t", "content": "c"}),
        )
        .await;
        let s = structured(&r);
        assert_eq!(s["status"], "partial", "{s}");
        assert_eq!(r.is_error, Some(false));
        let ops = s["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["channel"] == "ops")
            .unwrap();
        assert_eq!(ops["ok"], false);
        // A 503 is worth retrying: the delivery waits in the outbox with its reason.
        assert_eq!(ops["state"], "pending", "{ops}");
        assert!(ops["error"].as_str().unwrap().contains("503"), "{ops}");
        assert!(ops["next_attempt_at"].is_string(), "{ops}");
        assert!(text(&r).contains("Delivered to 1 channel"), "{}", text(&r));
        assert!(text(&r).contains("Waiting in the outbox"), "{}", text(&r));

        let r = call(
            &client,
            "notify_send",
            json!({"title": "t", "content": "c", "channels": ["ops"]}),
        )
        .await;
        assert_eq!(structured(&r)["status"], "queued");
        assert_eq!(r.is_error, Some(false));
        client.cancel().await.unwrap();
    });
    // A refusal (401) is final: failed at once, and the call is an error.
    let home = two_channels(&mock, "/status/401");
    rt().block_on(async {
        let (client, _) = stdio_client(&home, &[]).await;
        let r = call(
            &client,
            "notify_send",
            json!({"title": "t", "content": "c", "channels": ["ops"]}),
        )
        .await;
        let s = structured(&r);
        assert_eq!(s["status"], "failed", "{s}");
        assert_eq!(s["channels"][0]["state"], "failed", "{s}");
        assert_eq!(r.is_error, Some(true));
        client.cancel().await.unwrap();
    });
}

#[test]
fn a_hanging_channel_holds_up_neither_other_calls_nor_the_server() {
    let mock = Mock::start();
    // `slow` answers after 60 s; the sandbox deadline (2 s) cuts it off.
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/fast"))
        .config(&format!(
            "[sandbox]\ntimeout_secs = 2\n[channels.slow]\nplugin = \"webhook\"\nurl = \"{}\"\n",
            mock.url("/slow/60000")
        ));
    rt().block_on(async {
        let (client, _) = stdio_client(&home, &[]).await;
        let client = Arc::new(client);
        let slow = {
            let client = client.clone();
            tokio::spawn(async move {
                call(
                    &client,
                    "notify_send",
                    json!({"title": "t", "content": "slow", "channels": ["slow"]}),
                )
                .await
            })
        };
        // Wait until the slow request is in flight at the mock.
        while mock.requests_to("/slow").is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let fast = call(
            &client,
            "notify_send",
            json!({"title": "t", "content": "fast", "channels": ["webhook"]}),
        )
        .await;
        assert_eq!(structured(&fast)["status"], "success");
        assert!(
            !slow.is_finished(),
            "the fast call should not have waited for the slow one"
        );
        let slow = slow.await.unwrap();
        let s = structured(&slow);
        // A timeout is retried later; the call says so instead of waiting.
        assert_eq!(s["status"], "queued", "{s}");
        assert_eq!(s["channels"][0]["state"], "pending", "{s}");
        assert!(
            s["channels"][0]["error"]
                .as_str()
                .unwrap()
                .contains("timed out"),
            "{s}"
        );
        // The server is still there.
        let r = call(&client, "list_channels", json!({})).await;
        assert_eq!(r.is_error, Some(false));
    });
}

#[test]
fn stdout_carries_only_json_rpc_even_with_debug_logs() {
    let mock = Mock::start();
    let home = two_channels(&mock, "/ops");
    let mut child = home
        .command(&["-vv", "mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "notify_send", "arguments": {"title": "t", "content": "c"}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "notify_event", "arguments": {"run_id": "r", "event": "bogus", "message": "m"}}}),
    ];
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut answered = 0;
    let mut lines = stdout.lines();
    for req in &requests {
        writeln!(stdin, "{req}").unwrap();
        stdin.flush().unwrap();
        if req.get("id").is_none() {
            continue;
        }
        let line = lines.next().expect("an answer").unwrap();
        let msg: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(msg["jsonrpc"], "2.0", "{line}");
        assert_eq!(msg["id"], req["id"], "{line}");
        answered += 1;
    }
    drop(stdin);
    // Whatever else comes before exit must be JSON-RPC too.
    for line in lines {
        let line = line.unwrap();
        let msg: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(msg["jsonrpc"], "2.0", "{line}");
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(answered, 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The logs went to stderr, and without the secret.
    assert!(stderr.contains("DEBUG"), "expected debug logs on stderr");
    assert!(!stderr.contains("sekrit"), "{stderr}");
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn beyond_loopback_serve_requires_a_token() {
    let home = Sandbox::new();
    let run = home.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("MCP_PUSH_TOKEN"), "{}", run.stderr);
    let home = Sandbox::new().env("MCP_PUSH_TOKEN", "short");
    let run = home.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("too short"), "{}", run.stderr);
}

#[test]
fn with_a_token_every_request_but_healthz_must_bear_it() {
    let mock = Mock::start();
    let token = "tok-0123456789abcdef-xyz";
    let home = two_channels(&mock, "/ops").env("MCP_PUSH_TOKEN", token);
    let server = start_server(&home, "127.0.0.1:0");
    rt().block_on(async {
        let http = reqwest::Client::new();
        let url = format!("http://{}/mcp", server.addr);
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}});
        for auth in [None, Some("Bearer wrong-token-0000000000")] {
            let mut req = http
                .post(&url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .body(init.to_string());
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401);
            let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Bearer")
            );
        }
        let health = http
            .get(format!("http://{}/healthz", server.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);

        let client = http_client(server.addr, Some(token)).await;
        let r = call(
            &client,
            "notify_send",
            json!({"title": "t", "content": "c"}),
        )
        .await;
        assert_eq!(structured(&r)["status"], "success");
        client.cancel().await.unwrap();
    });
}

#[test]
fn no_channel_configured_is_a_clear_tool_error() {
    let home = Sandbox::new();
    rt().block_on(async {
        let (client, _) = stdio_client(&home, &[]).await;
        let r = call(
            &client,
            "notify_send",
            json!({"title": "t", "content": "c"}),
        )
        .await;
        assert_eq!(r.is_error, Some(true));
        let t = text(&r);
        assert!(
            t.contains("No channel is configured") && t.contains("WEBHOOK_URL"),
            "{t}"
        );
        let r = call(&client, "list_channels", json!({})).await;
        let s = structured(&r);
        let webhook = s["available"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["plugin"] == "webhook")
            .expect("webhook available");
        assert!(
            webhook["env_required"]
                .as_array()
                .unwrap()
                .contains(&json!("WEBHOOK_URL"))
        );
        client.cancel().await.unwrap();
    });
}

/// A client of the 2025-06-18 protocol (Gemini CLI's bundled TypeScript SDK
/// 1.23) parses the data of every SSE event as JSON-RPC: an empty priming
/// event made it drop the server. Also the edges of `/mcp`: a GET without a
/// session is 405, and nothing lives below `/mcp`.
#[test]
fn an_older_protocol_client_gets_only_json_rpc_events() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let server = start_server(&home, "127.0.0.1:0");
    let base = format!("http://{}/mcp", server.addr);
    rt().block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let post = |body: serde_json::Value, session: Option<String>| {
            let mut req = http
                .post(&base)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-protocol-version", "2025-06-18")
                .body(body.to_string());
            if let Some(s) = session {
                req = req.header("mcp-session-id", s);
            }
            req.send()
        };
        // Every `data:` line of an SSE answer must be a JSON-RPC message.
        let events = |text: String| -> Vec<serde_json::Value> {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| {
                    serde_json::from_str::<serde_json::Value>(d.trim())
                        .unwrap_or_else(|e| panic!("SSE data {d:?} is not JSON ({e}): {text}"))
                })
                .collect()
        };
        let init = post(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "old-client", "version": "1.23.0"}}}),
            None,
        )
        .await
        .unwrap();
        let session = init
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        let init = events(init.text().await.unwrap());
        assert_eq!(init.len(), 1, "{init:?}");
        assert_eq!(init[0]["result"]["protocolVersion"], "2025-06-18");
        let _ = post(
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            session.clone(),
        )
        .await
        .unwrap();
        let tools = post(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
            session.clone(),
        )
        .await
        .unwrap();
        let tools = events(tools.text().await.unwrap());
        assert_eq!(tools.len(), 1, "{tools:?}");
        assert!(tools[0]["result"]["tools"].as_array().unwrap().len() >= 3);

        let get = http.get(&base).send().await.unwrap();
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST, DELETE");
        let probe = http
            .get(format!("{base}/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap();
        assert_eq!(probe.status(), 404);
    });
}

/// The watcher tools end to end: one watcher of each kind, a bad argument
/// named, list/get/pause/resume/update/delete, `watch_run` sending only
/// when asked, and `hub_status` counting what it sees.
#[test]
fn watchers_are_managed_over_mcp_and_run_sends_only_when_asked() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.ops]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        mock.url("/ops")
    ));
    rt().block_on(async {
        let (client, log) = stdio_client(&home, &[]).await;
        let ok = |r: &rmcp::model::CallToolResult| {
            assert_eq!(r.is_error, Some(false), "{}", text(r));
            structured(r)
        };
        for spec in [
            json!({"name": "standup", "kind": "schedule", "schedule": "weekdays 09:00",
                   "timezone": "Europe/Berlin", "title": "Check the project status"}),
            json!({"name": "ai-news", "kind": "web", "urls": [mock.url("/page")],
                   "every": "30m", "selector": "h2", "keywords": ["AI"]}),
            json!({"name": "digest", "kind": "feed", "urls": [mock.url("/feed.xml")],
                   "every": "1h", "digest": "daily 08:00"}),
            json!({"name": "btc", "kind": "threshold", "url": mock.url("/price"),
                   "pointer": "/bitcoin/usd", "above": 50000, "every": "5m",
                   "title": "BTC at {value}"}),
        ] {
            let r = call(&client, "watch_create", spec.clone()).await;
            let s = ok(&r);
            assert_eq!(s["name"], spec["name"], "{s}");
            assert_eq!(s["state"], "active", "{s}");
        }
        let r = call(
            &client,
            "watch_create",
            json!({"name": "bad", "kind": "weekly", "schedule": "daily 08:00"}),
        )
        .await;
        assert_eq!(r.is_error, Some(true));
        assert_eq!(structured(&r)["field"], "kind", "{}", text(&r));
        let r = call(
            &client,
            "watch_update",
            json!({"watcher": "btc", "changes": {"above": "lots"}}),
        )
        .await;
        assert_eq!(r.is_error, Some(true));
        assert_eq!(structured(&r)["field"], "changes.above", "{}", text(&r));
        let r = call(&client, "watch_get", json!({"watcher": "nope"})).await;
        assert_eq!(structured(&r)["status"], "not_found", "{}", text(&r));
        assert_eq!(structured(&r)["field"], "watcher");

        let s = ok(&call(&client, "watch_list", json!({})).await);
        assert_eq!(s["watchers"].as_array().unwrap().len(), 4, "{s}");
        let s = ok(&call(&client, "watch_get", json!({"watcher": "standup"})).await);
        assert_eq!(s["kind"], "schedule");
        let id = s["id"].as_i64().unwrap();
        let s = ok(&call(&client, "watch_pause", json!({"watcher": id})).await);
        assert_eq!(s["state"], "paused");
        let s = ok(&call(&client, "watch_resume", json!({"watcher": "standup"})).await);
        assert_eq!(s["state"], "active");
        let s = ok(&call(
            &client,
            "watch_update",
            json!({"watcher": "btc", "changes": {"above": 60000}}),
        )
        .await);
        assert_eq!(s["spec"]["above"], 60000.0, "{s}");
        ok(&call(&client, "watch_delete", json!({"watcher": "btc"})).await);
        let s = ok(&call(&client, "watch_list", json!({})).await);
        assert_eq!(s["watchers"].as_array().unwrap().len(), 3, "{s}");

        // A dry run says what it would send and sends nothing.
        let s = ok(&call(&client, "watch_run", json!({"watcher": "standup"})).await);
        assert_eq!(s["sent"], false, "{s}");
        assert_eq!(s["notifications"].as_array().unwrap().len(), 1, "{s}");
        assert_eq!(s["notifications"][0]["title"], "Check the project status");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(mock.requests_to("/ops").is_empty(), "a dry run sent");
        // With send, it goes out through the outbox.
        let s = ok(&call(
            &client,
            "watch_run",
            json!({"watcher": "standup", "send": true}),
        )
        .await);
        assert_eq!(s["sent"], true, "{s}");
        assert_eq!(s["events"].as_array().unwrap().len(), 1, "{s}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while mock.requests_to("/ops").is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let sent = mock.requests_to("/ops");
        assert_eq!(sent.len(), 1, "{}", log.lock().unwrap());
        assert!(
            String::from_utf8_lossy(&sent[0].body).contains("Check the project status"),
            "{:?}",
            sent[0]
        );

        ok(&call(&client, "watch_pause", json!({"watcher": "digest"})).await);
        // The sink has the request before the outcome is recorded: the
        // delivery leaves the outbox a moment after.
        let (r, s) = loop {
            let r = call(&client, "hub_status", json!({})).await;
            let s = ok(&r);
            if s["outbox_depth"] == 0 || std::time::Instant::now() > deadline {
                break (r, s);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(s["channels"], json!(["ops"]), "{s}");
        let w = &s["watchers"];
        assert_eq!(
            (
                w["total"].as_u64(),
                w["active"].as_u64(),
                w["paused"].as_u64()
            ),
            (Some(3), Some(2), Some(1)),
            "{s}"
        );
        assert!(w["failing"].as_u64().unwrap() <= 3, "{s}");
        assert_eq!(s["outbox_depth"], 0, "{s}");
        assert!(s["events_24h"].as_u64().unwrap() >= 1, "{s}");
        assert!(text(&r).contains("2 active, 1 paused"), "{}", text(&r));
        client.cancel().await.unwrap();
    });
}
