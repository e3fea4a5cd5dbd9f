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

pub mod mcp_client;
pub mod mqtt;
pub mod postgres;
pub mod services;
pub mod sink;
pub mod smtp;
pub mod tls;
#[path = "../../host/wasm_build.rs"]
pub mod wasm_build;
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
    fn new(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Recorded {
        Recorded {
            method: method.to_string(),
            uri: uri.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: body.to_vec(),
        }
    }

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
        let log = requests.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let log = log.clone();
                async move { handle(log, method, uri, headers, body).await }
            },
        );
        Mock {
            addr: serve(app),
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

    /// The path of each request, in order.
    pub fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| r.path().to_string())
            .collect()
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
    log.lock()
        .unwrap()
        .push(Recorded::new(&method, &uri, &headers, &body));
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
        self.command_of(Path::new(env!("CARGO_BIN_EXE_mcp-push")), args)
    }

    /// [`Sandbox::command`] running another mcp-push executable.
    pub fn command_of(&self, exe: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(exe);
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
        run_with_input(self.command(args), input)
    }

    /// A command that prints a JSON list (`runs --json`, `deliveries --json`).
    pub fn json_list(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let run = self.run(args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        match serde_json::from_str(&run.stdout) {
            Ok(serde_json::Value::Array(items)) => items,
            other => panic!("{args:?} printed no JSON list: {other:?}\n{run:?}"),
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

/// Run `cmd` with `input` on its standard input.
pub fn run_with_input(mut cmd: Command, input: &str) -> Run {
    use std::io::Write;
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

/// One compile cache for every test, so the bundled plugins compile once.
pub fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compile-cache")
}

/// The workspace's target directory (the binary lives in target/<profile>/).
pub fn target_dir() -> PathBuf {
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
    test_plugin("mcp-push-test-hostile")
}

/// The component that tries to learn secrets (tests/plugins/snoop).
pub fn snoop_wasm() -> PathBuf {
    test_plugin("mcp-push-test-snoop")
}

/// The greedy test component (asks the host to write and keep too much),
/// built on first use.
pub fn greedy_wasm() -> PathBuf {
    test_plugin("mcp-push-test-greedy")
}

/// The stuck test component (its `info()` never returns), built on first use.
pub fn stuck_wasm() -> PathBuf {
    test_plugin("mcp-push-test-stuck")
}

/// The editing test component (`can-edit`), built on first use.
pub fn editor_wasm() -> PathBuf {
    test_plugin("mcp-push-test-editor")
}

/// A plugin file posing as the bundled `telegram` (tests/plugins/impostor).
pub fn impostor_wasm() -> PathBuf {
    test_plugin("mcp-push-test-impostor")
}

/// A plugin file reaching for credentials and the bundled `tgram://` scheme
/// (tests/plugins/grabber), and its build with one more allowed host.
pub fn grabber_wasm() -> PathBuf {
    test_plugin("mcp-push-test-grabber")
}

pub fn grabber_v2_wasm() -> PathBuf {
    test_plugin("mcp-push-test-grabber-v2")
}

/// A test-only component from tests/plugins, built once per test binary.
fn test_plugin(package: &'static str) -> PathBuf {
    static BUILT: OnceLock<Mutex<std::collections::HashMap<&'static str, PathBuf>>> =
        OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    built
        .entry(package)
        .or_insert_with(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            let out = wasm_build::build_components(root, &target_dir().join("wasm"), &[package])
                .unwrap_or_else(|e| panic!("building the test plugin {package}: {e}"));
            out[0].clone()
        })
        .clone()
}

/// The test component built against the WIT contract bumped to 0.1.1 (see
/// tests/plugins/minor), built on first use.
pub fn minor_wasm() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            let built = wasm_build::build_components(
                root,
                &target_dir().join("wasm"),
                &["mcp-push-test-minor"],
            )
            .unwrap_or_else(|e| panic!("building the 0.1.1 test plugin: {e}"));
            built[0].clone()
        })
        .clone()
}

// ---------------------------------------------------------------------------
// Service mocks: one handler per API, speaking its real paths and replies.

/// What a service mock answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string(),
        }
    }

    pub fn ok(value: serde_json::Value) -> Reply {
        Reply::json(200, value)
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.into(),
        }
    }

    pub fn not_found() -> Reply {
        Reply::text(404, "404 page not found (the mock knows no such path)")
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl Recorded {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    /// A query parameter, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.uri.split_once('?')?.1;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A form body's field, decoded.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// Holds every request until `want` of them are in flight at once, across all
/// the mocks that share it: proof that a send reaches its channels
/// concurrently, without timing anything. After 10 s it gives up and answers
/// 503, so a sequential sender fails instead of hanging.
pub struct Gate {
    want: usize,
    arrived: std::sync::atomic::AtomicUsize,
    notify: tokio::sync::Notify,
}

impl Gate {
    pub fn new(want: usize) -> Arc<Gate> {
        Arc::new(Gate {
            want,
            arrived: Default::default(),
            notify: tokio::sync::Notify::new(),
        })
    }

    /// How many requests reached the gate.
    pub fn arrived(&self) -> usize {
        self.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn pass(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.arrived.fetch_add(1, SeqCst) + 1;
        if n >= self.want {
            self.notify.notify_waiters();
            return true;
        }
        let wait = async {
            loop {
                let notified = self.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.arrived.load(SeqCst) >= self.want {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .is_ok()
    }
}

/// How a service mock behaves beyond its handler.
#[derive(Clone, Default)]
pub struct Behaviour {
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Answer only once the gate opens.
    pub gate: Option<Arc<Gate>>,
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

impl Mock {
    /// A mock of one service: `handler` sees every request (all of them are
    /// recorded) and answers it.
    pub fn service(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Mock {
        Mock::service_with(Behaviour::default(), handler)
    }

    pub fn service_with(
        behaviour: Behaviour,
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Mock {
        let handler: Handler = Arc::new(handler);
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let log = requests.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (log, handler, behaviour) = (log.clone(), handler.clone(), behaviour.clone());
                async move {
                    let rec = Recorded::new(&method, &uri, &headers, &body);
                    log.lock().unwrap().push(rec.clone());
                    if let Some(gate) = &behaviour.gate
                        && !gate.pass().await
                    {
                        return (StatusCode::SERVICE_UNAVAILABLE, "gate never opened")
                            .into_response();
                    }
                    if let Some(d) = behaviour.delay {
                        tokio::time::sleep(d).await;
                    }
                    let reply = handler(&rec);
                    let mut resp =
                        (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
                    for (k, v) in reply.headers {
                        resp.headers_mut().insert(
                            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                            v.parse().unwrap(),
                        );
                    }
                    resp
                }
            },
        );
        Mock {
            addr: serve(app),
            requests,
        }
    }
}

/// Serve `app` on a free loopback port from a thread of its own.
fn serve(app: Router) -> SocketAddr {
    on_loopback(|listener| async move { axum::serve(listener, app).await.unwrap() })
}

/// Run `server` with a listener on a free loopback port, on a thread and
/// runtime of its own; returns the port's address.
pub fn on_loopback<F, Fut>(server: F) -> SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            server(listener).await;
        });
    });
    rx.recv().unwrap()
}

/// The bundled plugins, loaded in-process through the real runtime: for what
/// the command line does not reach (a run's `previous` message, for edits).
pub struct Plugins {
    pub runtime: mcp_push::plugin::Runtime,
    pub registry: mcp_push::plugin::Registry,
    rt: tokio::runtime::Runtime,
}

impl Plugins {
    pub fn load() -> Plugins {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let runtime = mcp_push::plugin::Runtime::new(mcp_push::plugin::RuntimeOptions {
            cache_dir: Some(shared_cache_dir()),
            ..Default::default()
        })
        .unwrap();
        let registry = rt.block_on(mcp_push::plugin::Registry::discover(&runtime, None));
        Plugins {
            runtime,
            registry,
            rt,
        }
    }

    /// Send through plugin `id` with these settings (secret ones marked as
    /// the plugin declares), as if `previous` were the run's earlier message.
    pub fn send(
        &self,
        id: &str,
        settings: &[(&str, &str)],
        msg: &mcp_push::notification::Notification,
        previous: Option<&str>,
    ) -> Result<mcp_push::plugin::Receipt, mcp_push::plugin::DeliveryError> {
        let plugin = self.registry.get(id).expect("a bundled plugin");
        let values: Vec<mcp_push::plugin::SettingValue> = settings
            .iter()
            .map(|(k, v)| mcp_push::plugin::SettingValue {
                key: k.to_string(),
                value: v.to_string(),
                secret: plugin.info().setting(k).expect("a declared setting").secret,
            })
            .collect();
        self.rt
            .block_on(plugin.send("test", &values, msg, previous.map(String::from)))
    }
}

/// `send` in `home` with `args`; asserts it delivered and that no value in
/// `secrets` shows in any output.
pub fn send_ok(home: &Sandbox, args: &[&str], secrets: &[&str]) -> Run {
    let run = home.run(args);
    assert_eq!(run.code, 0, "{run:?}");
    for s in secrets {
        assert!(!run.all_output().contains(s), "secret {s} leaked: {run:?}");
    }
    run
}

/// The failure line of channel `name` in a `send`'s output.
pub fn failure_of(run: &Run, name: &str) -> String {
    run.stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no line for {name}: {run:?}"))
        .to_string()
}

/// Read `serve`'s log lines until it says where it listens.
pub fn listening_addr(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> SocketAddr {
    loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            return rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    }
}
