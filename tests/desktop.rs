//! The `desktop` channel against a real D-Bus: a session bus of the test's
//! own (`dbus-daemon`), a notification server on it that records what it is
//! asked (the spec's `org.freedesktop.Notifications.Notify`, written with
//! zbus), and `mcp-push send` showing a notification through the host's
//! `desktop` import. Without `dbus-daemon` the tests print `skipped` and
//! return, except under `CI`, where they fail.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use support::{Sandbox, hostile_wasm};
use zbus::zvariant::OwnedValue;

/// What the server was asked, one `Notify` call.
#[derive(Debug, Clone)]
struct Shown {
    app_name: String,
    replaces_id: u32,
    summary: String,
    body: String,
    urgency: Option<u8>,
    expire_timeout: i32,
}

#[derive(Clone, Default)]
struct Server {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        expire_timeout: i32,
    ) -> u32 {
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
        let mut shown = self.shown.lock().unwrap();
        shown.push(Shown {
            app_name,
            replaces_id,
            summary,
            body,
            urgency,
            expire_timeout,
        });
        // The spec: a replacement keeps the id it replaces.
        match replaces_id {
            0 => 100 + shown.len() as u32,
            id => id,
        }
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("test".into(), "mcp-push".into(), "1".into(), "1.2".into())
    }
}

/// A session bus of the test's own, stopped on drop.
struct Bus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn session_bus() -> Option<Bus> {
    let dir = tempfile::tempdir().unwrap();
    let spawned = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address"])
        .arg(format!(
            "--address=unix:path={}",
            dir.path().join("bus").display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_some() => panic!("dbus-daemon: {e}"),
        Err(e) => {
            println!("skipped: no dbus-daemon ({e})");
            return None;
        }
    };
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Some(Bus {
        child,
        address: line.trim().to_string(),
        _dir: dir,
    })
}

/// The notification server on `bus`, kept running by the returned connection.
async fn serve(bus: &Bus, server: Server) -> zbus::Connection {
    zbus::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at("/org/freedesktop/Notifications", server)
        .unwrap()
        .build()
        .await
        .unwrap()
}

fn desktop_home(address: &str) -> Sandbox {
    Sandbox::new()
        .env("DESKTOP_NOTIFY", "true")
        .env("DBUS_SESSION_BUS_ADDRESS", address)
}

#[test]
fn a_send_shows_a_notification_on_the_desktop_bus() {
    let Some(bus) = session_bus() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = Server::default();
    let _conn = rt.block_on(serve(&bus, server.clone()));
    let home = desktop_home(&bus.address);

    let run = home.run(&["send", "Deploy done", "v2.0.1 is <live> & well"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("desktop "), "{run:?}");
    let shown = server.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "{shown:?}");
    let s = &shown[0];
    assert_eq!(
        (s.app_name.as_str(), s.summary.as_str()),
        ("mcp-push", "Deploy done")
    );
    assert_eq!(
        s.body, "v2.0.1 is &lt;live&gt; &amp; well",
        "escaped for markup"
    );
    assert_eq!(
        (s.urgency, s.expire_timeout, s.replaces_id),
        (Some(1), -1, 0)
    );

    // An urgent one is critical; the app name is the user's.
    let home = home.env("DESKTOP_APP_NAME", "build bot");
    let run = home.run(&["send", "--priority", "urgent", "Disk full", "/var at 99%"]);
    assert_eq!(run.code, 0, "{run:?}");
    let shown = server.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(
        (shown[1].app_name.as_str(), shown[1].urgency),
        ("build bot", Some(2))
    );
}

#[test]
fn without_a_desktop_session_the_send_says_why_and_is_kept() {
    let home = desktop_home("unix:path=/nonexistent/mcp-push-test-bus");
    let run = home.run(&["send", "--wait", "0", "Deploy done", "v2"]);
    let line = support::failure_of(&run, "desktop");
    assert!(line.contains("D-Bus session bus"), "{run:?}");
    // Worth retrying: the session may come back.
    assert_ne!(run.code, 0, "{run:?}");
    let Some(bus) = session_bus() else { return };
    // A bus without a notification service: the service's error, said.
    let run = desktop_home(&bus.address).run(&["send", "--wait", "0", "t", "b"]);
    let line = support::failure_of(&run, "desktop");
    assert!(line.contains("org.freedesktop.Notifications"), "{run:?}");
}

#[test]
fn a_plugin_that_did_not_declare_the_service_cannot_show_one() {
    let Some(bus) = session_bus() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = Server::default();
    let _conn = rt.block_on(serve(&bus, server.clone()));
    let home = Sandbox::new()
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .config(
            "from_env = false\n[channels.bad]\nplugin = \"hostile\"\nmode = \"desktop\"\n\
             url = \"http://127.0.0.1:9/\"\n",
        );
    home.install(&hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "--wait", "0", "t", "b"]);
    let line = support::failure_of(&run, "bad");
    assert!(
        line.contains("desktop notification denied")
            && line.contains(
                "org.freedesktop.Notifications is not one of this channel's allowed hosts"
            ),
        "{run:?}"
    );
    assert!(server.shown.lock().unwrap().is_empty(), "it was shown");
}
