//! Shared by the end-to-end tests: a mock HTTP server on 127.0.0.1 that records
//! what it receives, the real `mcp-push` binary run in a clean environment, and
//! the test-only plugins built for wasm32-wasip2.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "../../host/wasm_build.rs"]
mod wasm_build;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
}

/// A mock endpoint. Routes (anything else answers 200 `ok`):
/// - `/status/CODE`: that status with a JSON error body
/// - `/redirect?to=URL`: 302 to URL
/// - `/big`: a 5 MiB body
/// - `/slow/MS`: 200 after MS milliseconds
/// - `/retry-after`: 429 with `Retry-After: 7`
pub struct Mock {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Mock {
    pub fn start() -> Mock {
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = requests.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let log = log.clone();
                        async move { handle(log, method, uri, headers, body).await }
                    },
                );
                axum::serve(listener, app).await.unwrap();
            });
        });
        Mock {
            addr: rx.recv().unwrap(),
            requests,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The same server under a host name no test channel declares.
    pub fn undeclared_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path_prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.uri.starts_with(path_prefix))
            .collect()
    }
}

async fn handle(
    log: Arc<Mutex<Vec<Recorded>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    log.lock().unwrap().push(Recorded {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    });
    if let Some(code) = path.strip_prefix("/status/") {
        let code = StatusCode::from_u16(code.parse().unwrap()).unwrap();
        return (code, r#"{"error":"mock says no"}"#).into_response();
    }
    if path == "/redirect" {
        let to = uri
            .query()
            .and_then(|q| q.strip_prefix("to="))
            .unwrap_or("/");
        return (StatusCode::FOUND, [("location", to.to_string())], "").into_response();
    }
    if path == "/big" {
        return vec![b'x'; 5 << 20].into_response();
    }
    if let Some(ms) = path.strip_prefix("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
    }
    if path == "/retry-after" {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            "slow down",
        )
            .into_response();
    }
    "ok".into_response()
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A private home for one test: config, plugins dir, and nothing of the
/// machine's own environment.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn plugins_dir(&self) -> PathBuf {
        let d = self.dir.path().join("plugins");
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Write the config file and point MCP_PUSH_CONFIG at it.
    pub fn config(mut self, toml: &str) -> Self {
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, toml).unwrap();
        self.env
            .push(("MCP_PUSH_CONFIG".into(), path.display().to_string()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-push"));
        cmd.env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("MCP_PUSH_PLUGINS_DIR", self.plugins_dir())
            .env("MCP_PUSH_CACHE_DIR", shared_cache_dir())
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Put a component into this sandbox's plugins dir under `name`.
    pub fn install(&self, wasm: &Path, name: &str) {
        std::fs::copy(wasm, self.plugins_dir().join(name)).unwrap();
    }
}

pub fn run(mut cmd: Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One compile cache for every test, so the bundled plugins compile once.
fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compile-cache")
}

/// The workspace's target directory (the binary lives in target/<profile>/).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mcp-push"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

/// The bundled webhook component, as build.rs built it.
pub fn webhook_wasm() -> PathBuf {
    target_dir().join("wasm/wasm32-wasip2/plugin/mcp_push_webhook.wasm")
}

/// The hostile test component, built on first use (it is never bundled).
pub fn hostile_wasm() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            let built = wasm_build::build_components(
                root,
                &target_dir().join("wasm"),
                &["mcp-push-test-hostile"],
            )
            .unwrap_or_else(|e| panic!("building the hostile test plugin: {e}"));
            built[0].clone()
        })
        .clone()
}
