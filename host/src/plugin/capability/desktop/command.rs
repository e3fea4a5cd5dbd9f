//! Running the system program that shows a notification (macOS's
//! `osascript`, Windows PowerShell): the notification's text goes in as
//! arguments or environment values, never into the script, so no text can
//! change what the script does.

use super::Error;
use std::ffi::OsStr;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// What to run: the script goes to the program's standard input.
pub(super) struct Run<'a> {
    pub program: &'a OsStr,
    pub args: Vec<&'a OsStr>,
    pub env: Vec<(&'static str, &'a str)>,
    pub script: &'a str,
}

/// How much of the program's complaint an error quotes.
const SAID: usize = 300;

/// Runs it to the end; the caller's timeout drops the future, and with it
/// the child (`kill_on_drop`).
pub(super) async fn run(r: Run<'_>) -> Result<(), Error> {
    let name = r.program.to_string_lossy().into_owned();
    let mut child = Command::new(r.program)
        .args(&r.args)
        .envs(r.env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Error::Unavailable(format!(
                "cannot run {name} to show desktop notifications ({e})"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading says why on stderr.
        let _ = stdin.write_all(r.script.as_bytes()).await;
    }
    let out = child.wait_with_output().await.map_err(|e| {
        Error::Unavailable(format!(
            "{name} did not finish showing the notification ({e})"
        ))
    })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said: String = said.trim().chars().take(SAID).collect();
    Err(Error::Unavailable(format!(
        "{name} could not show the notification ({}): {}",
        out.status,
        if said.is_empty() {
            "it said nothing"
        } else {
            &said
        }
    )))
}
