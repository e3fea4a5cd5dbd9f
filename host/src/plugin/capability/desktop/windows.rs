//! Windows: a toast, shown by Windows PowerShell (5.1, `powershell.exe`,
//! which ships with Windows and can load WinRT types) as PowerShell's own
//! notification. The script is fixed and passed encoded
//! (`-EncodedCommand`, UTF-16LE in base64); the texts reach it as
//! environment values and are XML-escaped by the script
//! (`SecurityElement.Escape`) before they go into the toast, so no text can
//! change the script or the toast's markup. Toasts have no id to replace.
//!
//! Sources: Microsoft Learn, "Toast content" and the toast XML schema
//! (`<toast duration="short|long">`, `ToastGeneric` binding with up to three
//! `<text>` elements, the `attribution` placement, `<audio silent="true"/>`),
//! `ToastNotificationManager.CreateToastNotifier(applicationId)`;
//! about_PowerShell_exe (`-EncodedCommand`: "a base-64-encoded string
//! version of a command"). Apprise's `windows://` uses pywin32 balloon tips,
//! which Windows 10 and later show as toasts too.

use super::command::{Run, run};
use super::{Error, Notification, Urgency};
use base64::Engine;
use std::ffi::OsStr;

/// PowerShell's own application id, under which a script may show toasts
/// without registering one of its own.
const SCRIPT: &str = r#"$ErrorActionPreference = 'Stop'
$null = [Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]
$null = [Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime]
function X([string]$s) { [Security.SecurityElement]::Escape($s) }
$duration = 'short'
$audio = ''
switch ($env:MCP_PUSH_TOAST_URGENCY) {
  'low' { $audio = '<audio silent="true"/>' }
  'critical' { $duration = 'long' }
}
$xml = New-Object Windows.Data.Xml.Dom.XmlDocument
$xml.LoadXml("<toast duration=""$duration""><visual><binding template=""ToastGeneric""><text>$(X $env:MCP_PUSH_TOAST_TITLE)</text><text>$(X $env:MCP_PUSH_TOAST_BODY)</text><text placement=""attribution"">$(X $env:MCP_PUSH_TOAST_APP)</text></binding></visual>$audio</toast>")
$toast = New-Object Windows.UI.Notifications.ToastNotification $xml
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe').Show($toast)
"#;

#[cfg_attr(not(windows), allow(dead_code))]
pub(super) async fn show(n: &Notification) -> Result<u32, Error> {
    show_with(OsStr::new("powershell.exe"), n).await
}

pub(super) async fn show_with(program: &OsStr, n: &Notification) -> Result<u32, Error> {
    let encoded = encoded(SCRIPT);
    let urgency = match n.urgency {
        Urgency::Low => "low",
        Urgency::Normal => "normal",
        Urgency::Critical => "critical",
    };
    let args = [
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-EncodedCommand",
        &encoded,
    ];
    run(Run {
        program,
        args: args.iter().map(OsStr::new).collect(),
        env: vec![
            ("MCP_PUSH_TOAST_TITLE", n.summary.as_str()),
            ("MCP_PUSH_TOAST_BODY", n.body.as_str()),
            ("MCP_PUSH_TOAST_APP", n.app_name.as_str()),
            ("MCP_PUSH_TOAST_URGENCY", urgency),
        ],
        script: "",
    })
    .await?;
    Ok(0)
}

/// `-EncodedCommand`'s form: the script in UTF-16LE, in base64.
fn encoded(script: &str) -> String {
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(utf16)
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::tests::{fake_program, notification};
    use super::*;

    fn decoded(b64: &str) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    #[tokio::test]
    async fn the_script_is_fixed_and_the_texts_come_as_environment_values() {
        let fake = fake_program(0, "");
        let mut n = notification("Build <b>\"done\"</b> $(Remove-Item C:\\)", "ünïcode ✓");
        n.urgency = Urgency::Low;
        assert_eq!(show_with(fake.program(), &n).await.unwrap(), 0);
        let (args, _) = fake.seen();
        assert_eq!(
            args[..5],
            [
                "-NoProfile",
                "-NonInteractive",
                "-ExecutionPolicy",
                "Bypass",
                "-EncodedCommand"
            ]
        );
        assert_eq!(decoded(&args[5]), SCRIPT);
        let env = fake.env();
        assert_eq!(
            env["MCP_PUSH_TOAST_TITLE"],
            "Build <b>\"done\"</b> $(Remove-Item C:\\)"
        );
        assert_eq!(env["MCP_PUSH_TOAST_BODY"], "ünïcode ✓");
        assert_eq!(env["MCP_PUSH_TOAST_APP"], "mcp-push");
        assert_eq!(env["MCP_PUSH_TOAST_URGENCY"], "low");
        // Every text the script puts in the toast goes through X (escape).
        for var in ["TITLE", "BODY", "APP"] {
            assert!(SCRIPT.contains(&format!("$(X $env:MCP_PUSH_TOAST_{var})")));
            assert_eq!(SCRIPT.matches(&format!("MCP_PUSH_TOAST_{var}")).count(), 1);
        }
    }

    #[tokio::test]
    async fn a_failing_powershell_is_unavailable_with_its_words() {
        let fake = fake_program(
            1,
            "Cannot find type [Windows.UI.Notifications.ToastNotificationManager]",
        );
        let err = show_with(fake.program(), &notification("t", "b"))
            .await
            .unwrap_err();
        let Error::Unavailable(why) = err else {
            panic!("{err:?}")
        };
        assert!(why.contains("Cannot find type"), "{why}");
    }
}
