//! A database of its own on the test PostgreSQL server
//! (`MCP_PUSH_TEST_POSTGRES`, started by `scripts/test-postgres.sh`), for the
//! end-to-end tests of `--db postgres://…` (issue 19).

/// A database made for this test, dropped after it.
pub struct Database {
    admin: String,
    pub name: String,
    password: String,
}

impl Database {
    /// `mcp_push_{tag}_{pid}`, made afresh; `password` goes into [`url`](Self::url)
    /// (the test server, trust auth, ignores it), to look for where it must not show.
    pub fn new(admin: String, tag: &str, password: &str) -> Database {
        let name = format!("mcp_push_{tag}_{}", std::process::id());
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        // One statement each: DROP DATABASE cannot share a transaction.
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        Database {
            admin,
            name,
            password: password.to_string(),
        }
    }

    /// Its URL with a user and password, as an operator writes it.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin).unwrap();
        url.set_password(Some(&self.password)).unwrap();
        url.set_path(&format!("/{}", self.name));
        url.to_string()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A PostgreSQL server of the test's own (`scripts/test-postgres.sh`), with
/// its durability settings on, for tests that crash it. `None` (the test
/// says it is skipped) when PostgreSQL is not installed, except under CI.
pub struct Cluster {
    pub url: String,
    dir: String,
}

fn script(args: &[&str], durable: bool) -> std::process::Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/test-postgres.sh");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(script).args(args);
    if durable {
        cmd.env("MCP_PUSH_PG_DURABLE", "1");
    }
    cmd.output().expect("running scripts/test-postgres.sh")
}

impl Cluster {
    pub fn start() -> Option<Cluster> {
        let out = script(&["start"], true);
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to start PostgreSQL: {why}"
            );
            eprintln!("skipped: cannot start a PostgreSQL of the test's own ({why})");
            return None;
        }
        let exports = String::from_utf8_lossy(&out.stdout).into_owned();
        let value = |name: &str| {
            exports
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("{name} in {exports}"))
                .to_string()
        };
        Some(Cluster {
            url: value("MCP_PUSH_TEST_POSTGRES"),
            dir: value("MCP_PUSH_TEST_POSTGRES_DIR"),
        })
    }

    /// Crash it (an immediate stop: no checkpoint, as on a power cut).
    pub fn down(&self) {
        let out = script(&["down", &self.dir], false);
        assert!(out.status.success(), "{out:?}");
    }

    /// Start it again on the same port and data.
    pub fn up(&self) {
        let out = script(&["up", &self.dir], false);
        assert!(out.status.success(), "{out:?}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = script(&["stop", &self.dir], false);
    }
}

/// `mcp-push serve --db URL` on a port of its own, its stderr kept (the
/// first 64 KiB, enough to say what went wrong and to look for secrets).
pub struct Hub {
    pub child: std::process::Child,
    pub addr: std::net::SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Hub {
    /// Quiet but for warnings (a burst of requests logs nothing).
    pub fn start(home: &super::Sandbox, db: &str) -> Hub {
        Hub::spawn(
            home.command(&["serve", "--listen", "127.0.0.1:0", "--db", db])
                .env("RUST_LOG", "warn"),
        )
    }

    /// With `-v`: everything it says, to look for what must not be there.
    pub fn start_verbose(home: &super::Sandbox, db: &str) -> Hub {
        Hub::spawn(&mut home.command(&["serve", "--listen", "127.0.0.1:0", "--db", db, "-v"]))
    }

    fn spawn(command: &mut std::process::Command) -> Hub {
        use std::io::{BufRead, BufReader};
        let mut child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = super::listening_addr(&mut lines);
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut keep = keep.lock().unwrap();
                if keep.len() < 64 * 1024 {
                    keep.push_str(&line);
                    keep.push('\n');
                }
            }
        });
        Hub { child, addr, log }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: no goodbye, leases left as they were.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Killed, and all it said.
    pub fn stopped_log(mut self) -> String {
        self.kill();
        self.log()
    }

    /// SIGTERM, then wait: sends in flight finish and are recorded first.
    pub fn stop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "serve stopped with {status}:\n{}",
            self.log()
        );
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `GET path` on a hub as JSON, checked not to contain `never` (the
/// database password, which no answer may show).
pub async fn get_json(
    http: &reqwest::Client,
    addr: std::net::SocketAddr,
    path: &str,
    never: &str,
) -> serde_json::Value {
    let text = http
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains(never), "the password in {path}: {text}");
    serde_json::from_str(&text).unwrap()
}
