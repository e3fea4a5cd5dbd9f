//! macOS: AppleScript's `display notification`, run by `osascript`. The
//! script comes on standard input (`osascript -`) and the texts follow it
//! as the run handler's arguments: after the script's name `osascript`
//! reads no more options, so a title starting with `-` stays a title, and
//! no text is ever parsed as AppleScript. Notifications appear as from
//! "Script Editor"; they have no id to replace, so a run's updates come one
//! after the other.
//!
//! Sources: osascript(1) ("to pass arguments to a STDIN-read script, you
//! must explicitly specify `-` for the script name"; "any arguments
//! following the script will be passed as a list of strings to the direct
//! parameter of the run handler"), the AppleScript Language Guide's
//! `display notification … with title … subtitle … sound name`.

use super::command::{Run, run};
use super::{Error, Notification, Urgency};
use std::ffi::OsStr;

const SCRIPT: &str = "on run argv
  if (item 4 of argv) is \"sound\" then
    display notification (item 2 of argv) with title (item 1 of argv) subtitle (item 3 of argv) sound name \"Sosumi\"
  else
    display notification (item 2 of argv) with title (item 1 of argv) subtitle (item 3 of argv)
  end if
end run
";

#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(super) async fn show(n: &Notification) -> Result<u32, Error> {
    show_with(OsStr::new("osascript"), n).await
}

pub(super) async fn show_with(program: &OsStr, n: &Notification) -> Result<u32, Error> {
    // An urgent one makes a sound; the others appear silently.
    let sound = if n.urgency == Urgency::Critical {
        "sound"
    } else {
        "quiet"
    };
    let args = ["-", &n.summary, &n.body, &n.app_name, sound];
    run(Run {
        program,
        args: args.iter().map(OsStr::new).collect(),
        env: Vec::new(),
        script: SCRIPT,
    })
    .await?;
    Ok(0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::tests::{fake_program, notification};
    use super::*;

    #[tokio::test]
    async fn the_texts_are_arguments_after_the_script_never_part_of_it() {
        let fake = fake_program(0, "");
        let mut n = notification("-e do shell script \"rm -rf ~\"", "line 1\nline \"2\"");
        n.urgency = Urgency::Critical;
        assert_eq!(show_with(fake.program(), &n).await.unwrap(), 0);
        let (args, stdin) = fake.seen();
        assert_eq!(
            args,
            [
                "-",
                "-e do shell script \"rm -rf ~\"",
                "line 1\nline \"2\"",
                "mcp-push",
                "sound"
            ]
        );
        assert_eq!(stdin, SCRIPT);
        n.urgency = Urgency::Normal;
        show_with(fake.program(), &n).await.unwrap();
        assert_eq!(fake.seen().0[4], "quiet");
    }

    #[tokio::test]
    async fn a_refusal_says_what_osascript_said() {
        let fake = fake_program(
            1,
            "execution error: Not authorized to send Apple events (-1743)",
        );
        let err = show_with(fake.program(), &notification("t", "b"))
            .await
            .unwrap_err();
        let Error::Unavailable(why) = err else {
            panic!("{err:?}")
        };
        assert!(why.contains("Not authorized to send Apple events"), "{why}");
        let n = notification("t", "b");
        let missing = show_with(OsStr::new("/nonexistent/osascript"), &n).await;
        let Error::Unavailable(why) = missing.unwrap_err() else {
            panic!()
        };
        assert!(why.contains("cannot run /nonexistent/osascript"), "{why}");
    }

    #[tokio::test]
    async fn a_hung_osascript_is_killed_when_the_deadline_drops_the_call() {
        let fake = super::super::tests::hanging_program();
        let n = notification("t", "b");
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            show_with(fake.program(), &n),
        );
        assert!(cut.await.is_err(), "the fake should still be running");
        let pid = fake.pid();
        // kill_on_drop: gone within moments, not left behind per send.
        for _ in 0..100 {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Killed and reaped, or killed and waiting for its reaper (Z).
            if state.is_empty() || state.split(' ').nth(2) == Some("Z") {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("osascript stand-in {pid} still runs after its call was dropped");
    }
}
