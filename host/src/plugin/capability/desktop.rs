//! The `desktop` capability: a notification on the desktop of the machine
//! the host runs on. Under the rules of `http.fetch`: the channel must list
//! the notification service among its allowed hosts, each call spends one of
//! the send's requests and ends by its deadline. Secrets are masked, never
//! filled in: a notification is on screen for anyone to read.
//!
//! What shows it depends on the system (the one `cfg` switch is here):
//! the freedesktop notification service on the D-Bus session bus (Linux and
//! the BSDs), `osascript`'s `display notification` on macOS, a toast through
//! Windows PowerShell on Windows. The allowed host that gates all three is
//! the freedesktop name, which stands for "the desktop's notification
//! service" so that one plugin (and what its user approved) works everywhere.

use super::context::CallContext;
use std::time::Instant;

mod command;
mod freedesktop;
mod macos;
mod windows;

#[cfg(not(any(target_os = "macos", windows)))]
use freedesktop::show as show_here;
#[cfg(target_os = "macos")]
use macos::show as show_here;
#[cfg(windows)]
use windows::show as show_here;

/// The well-known name of the freedesktop notification service, and the
/// allowed host that lets a channel show notifications on any system.
pub(crate) const SERVICE: &str = "org.freedesktop.Notifications";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Urgency {
    Low,
    Normal,
    Critical,
}

#[derive(Debug, Clone)]
pub(crate) struct Notification {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub urgency: Urgency,
    pub expire_timeout_ms: Option<u32>,
    pub replaces: Option<u32>,
}

#[derive(Debug)]
pub(crate) enum Error {
    Denied(String),
    Unavailable(String),
    Timeout,
}

pub(crate) async fn notify(call: &mut CallContext, n: Notification) -> Result<u32, Error> {
    let result = show(call, n).await;
    match &result {
        Ok(id) => tracing::debug!(channel = %call.channel, "desktop notification {id} shown"),
        Err(e) => tracing::debug!(channel = %call.channel, "desktop notification -> {e:?}"),
    }
    result
}

async fn show(call: &mut CallContext, n: Notification) -> Result<u32, Error> {
    call.spend_request().map_err(Error::Denied)?;
    if !call.allow.allows(SERVICE, 443) {
        return Err(Error::Denied(format!(
            "desktop notifications: {SERVICE} is not one of this channel's allowed hosts"
        )));
    }
    let remaining = call.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(Error::Timeout);
    }
    let masked = |text: &str| call.secrets.describe(text);
    let n = Notification {
        app_name: masked(&n.app_name),
        summary: masked(&n.summary),
        body: masked(&n.body),
        ..n
    };
    match tokio::time::timeout(remaining, show_here(&n)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout),
    }
}

#[cfg(all(test, unix))]
mod tests {
    //! A stand-in for `osascript` / `powershell.exe`: a shell script that
    //! records its arguments, standard input and environment, complains and
    //! exits as told, so the system-specific paths run here for real.

    use super::{Notification, Urgency};
    use std::collections::HashMap;
    use std::ffi::OsStr;
    use std::path::PathBuf;

    pub(super) struct Fake {
        dir: tempfile::TempDir,
        program: PathBuf,
    }

    impl Fake {
        pub fn program(&self) -> &OsStr {
            self.program.as_os_str()
        }

        /// The arguments of the last run, and what it read.
        pub fn seen(&self) -> (Vec<String>, String) {
            let read = |name: &str| std::fs::read(self.dir.path().join(name)).unwrap();
            let args = String::from_utf8(read("args")).unwrap();
            let args = args.split_terminator('\0').map(String::from).collect();
            (args, String::from_utf8(read("stdin")).unwrap())
        }

        pub fn pid(&self) -> u32 {
            let pid = std::fs::read_to_string(self.dir.path().join("pid")).unwrap();
            pid.trim().parse().unwrap()
        }

        pub fn env(&self) -> HashMap<String, String> {
            let env = std::fs::read(self.dir.path().join("env")).unwrap();
            String::from_utf8(env)
                .unwrap()
                .split_terminator('\0')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }
    }

    pub(super) fn fake_program(status: i32, complaint: &str) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let program = dir.path().join("show");
        let script = format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{d}/args'\n\
             cat > '{d}/stdin'\nenv -0 > '{d}/env'\nprintf '%s' '{complaint}' >&2\nexit {status}\n"
        );
        install(&program, &script);
        Fake { dir, program }
    }

    /// Written by another process: a file this test process had open for
    /// writing could be inherited by a child another test forks at that
    /// moment, and running it would then fail with "text file busy".
    fn install(program: &std::path::Path, script: &str) {
        use std::io::Write;
        let mut sh = std::process::Command::new("sh")
            .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
            .arg(program)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        sh.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(sh.wait().unwrap().success());
    }

    /// A stand-in that never finishes (it sleeps), writing its pid first.
    pub(super) fn hanging_program() -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let program = dir.path().join("show");
        let script = format!("#!/bin/sh\necho $$ > '{d}/pid'\nexec sleep 30\n");
        install(&program, &script);
        Fake { dir, program }
    }

    pub(super) fn notification(summary: &str, body: &str) -> Notification {
        Notification {
            app_name: "mcp-push".into(),
            summary: summary.into(),
            body: body.into(),
            urgency: Urgency::Normal,
            expire_timeout_ms: None,
            replaces: None,
        }
    }
}
