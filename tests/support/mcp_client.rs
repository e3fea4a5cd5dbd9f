//! An rmcp client for the real binary: `mcp-push mcp` over stdio and
//! `mcp-push serve` over streamable HTTP.

use super::Sandbox;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

pub type Client = RunningService<RoleClient, ()>;

pub fn rt() -> tokio::runtime::Runtime {
    // The clients here use reqwest without a default TLS provider, as the host does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `mcp-push mcp` as a child process; its stderr is collected.
pub async fn stdio_client(home: &Sandbox, args: &[&str]) -> (Client, Arc<Mutex<String>>) {
    let mut full = vec!["mcp"];
    full.extend_from_slice(args);
    let cmd = tokio::process::Command::from(home.command(&full));
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    if let Some(mut stderr) = stderr {
        let log = log.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = String::new();
            let _ = stderr.read_to_string(&mut buf).await;
            log.lock().unwrap().push_str(&buf);
        });
    }
    let client = ().serve(transport).await.expect("MCP handshake over stdio");
    (client, log)
}

/// `mcp-push serve` on a free loopback port; killed on drop. Its log (stderr)
/// is kept in `log`.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_server(home: &Sandbox, listen: &str) -> Server {
    start_server_with(home, &["--listen", listen])
}

/// `serve` with these arguments (`--listen` among them).
pub fn start_server_with(home: &Sandbox, args: &[&str]) -> Server {
    let mut full = vec!["serve"];
    full.extend_from_slice(args);
    let mut child = home
        .command(&full)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let keep = |log: &Mutex<String>, line: &str| {
        let mut l = log.lock().unwrap();
        l.push_str(line);
        l.push('\n');
    };
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = super::listening_addr(&mut lines.by_ref().inspect(|line| {
        if let Ok(line) = line {
            keep(&log, line);
        }
    }));
    // Keep draining stderr so the server never blocks on a full pipe.
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep(&kept, &line);
        }
    });
    Server { child, addr, log }
}

pub async fn http_client(addr: SocketAddr, token: Option<&str>) -> Client {
    let mut config = StreamableHttpClientTransportConfig::with_uri(format!("http://{addr}/mcp"));
    if let Some(t) = token {
        config = config.auth_header(t);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.expect("MCP handshake over HTTP")
}

pub async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().expect("structured content")
}
