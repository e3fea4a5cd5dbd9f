//! Desktop notifications on the machine mcp-push runs on (`DESKTOP_NOTIFY`,
//! Apprise's `dbus://`, `kde://`, `qt://`, `glib://`, `gnome://`,
//! `macosx://` and `windows://`): the notification pops up where the agent
//! runs, for people who run their agents on their own machine.
//!
//! Sources: the Desktop Notifications Specification (specifications.freedesktop.org,
//! "notification-spec" 1.2: `org.freedesktop.Notifications.Notify` with
//! app_name, replaces_id, app_icon, summary, body, actions, hints,
//! expire_timeout; the `urgency` hint 0 low, 1 normal, 2 critical;
//! `replaces_id` replacing a notification in place; a body that servers may
//! read as simple markup), which the host's `desktop` import calls on the
//! session bus; Apprise's `dbus.py` for the URL forms and `?urgency=`
//! (`low`, `normal`, `high`). Apprise's `gnome://` goes through GLib's own
//! notification API, which talks to the same service; here it is an alias.
//! Not in qinglong's notify.py: `DESKTOP_*` are mcp-push's own names.
//!
//! The host shows it with what the system has (the freedesktop service on
//! Linux, `display notification` on macOS, a toast on Windows), so every
//! scheme means "this machine's desktop"; urgency and replacing in place
//! are what the freedesktop service does, and the others do what they can
//! (an urgent one makes a sound on macOS and stays longer on Windows).

use mcp_push_sdk::desktop::{self, Notification, Urgency};
use mcp_push_sdk::prelude::*;

struct Desktop;

const SCHEMES: &[&str] = &["dbus", "kde", "qt", "glib", "gnome", "macosx", "windows"];

/// The spec leaves lengths to the server; a notification is read at a
/// glance, and GNOME shows a few lines of it.
const SUMMARY: usize = 200;
const BODY: Limit = Limit::Chars(2000);

impl Channel for Desktop {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "desktop",
            "Desktop",
            env!("CARGO_PKG_VERSION"),
            "Shows a notification on this machine's desktop (D-Bus on Linux, macOS, Windows)",
        )
        .formats(&["text"])
        .can_edit()
        .setting(
            Setting::new("enabled", "true to show notifications (false turns it off)")
                .env(&["DESKTOP_NOTIFY"])
                .required(),
        )
        .setting(
            Setting::new("app_name", "Who the notification says it is from")
                .env(&["DESKTOP_APP_NAME"])
                .default_value("mcp-push"),
        )
        .setting(
            Setting::new(
                "urgency",
                "low, normal or critical for every message (default: from its priority; Apprise's high is critical)",
            )
            .env(&["DESKTOP_URGENCY"]),
        )
        .allow_host(desktop::SERVICE)
        .schemes(SCHEMES)
    }

    /// `dbus://` (or `kde://`, `qt://`, `glib://`, `gnome://`, `macosx://`,
    /// `windows://`) with `?urgency=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        Pairs::new()
            .set("enabled", "true")
            .maybe("urgency", u.param("urgency"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        if settings.flag("enabled")? != Some(true) {
            return Ok(Receipt::none());
        }
        let urgency =
            match settings.choice("urgency", &["low", "normal", "critical", "high"], "")? {
                "low" => Urgency::Low,
                "normal" => Urgency::Normal,
                "critical" | "high" => Urgency::Critical,
                _ => msg.priority.on([
                    Urgency::Low,
                    Urgency::Normal,
                    Urgency::Normal,
                    Urgency::Critical,
                ]),
            };
        // A run's later messages replace its first notification in place.
        let replaces = msg.previous.as_deref().and_then(|id| id.parse().ok());
        let id = desktop::notify(&Notification {
            app_name: settings.get("app_name").unwrap_or("mcp-push").to_string(),
            summary: msg.headline(SUMMARY),
            body: truncate(&msg.body_with_link(), BODY, CUT_MARKER),
            urgency,
            expire_timeout_ms: None,
            replaces,
        })?;
        Ok(Receipt::id(id.to_string()))
    }
}

export_channel!(Desktop);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, message};

    #[test]
    fn shows_the_title_and_body_with_the_urgency_of_its_priority() {
        let h = Harness::new::<Desktop>().setting("enabled", "true");
        let mut msg = message("Deploy done", "v2.0.1 is <live> & well");
        msg.priority = Priority::Urgent;
        let receipt = h.send(&msg).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("1"));
        let shown = h.desktop_notifications();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].summary, "Deploy done");
        assert_eq!(shown[0].body, "v2.0.1 is <live> & well");
        assert_eq!(shown[0].app_name, "mcp-push");
        assert_eq!(shown[0].urgency, Urgency::Critical);
        assert_eq!(shown[0].replaces, None);
    }

    #[test]
    fn a_run_update_replaces_its_first_notification() {
        let h = Harness::new::<Desktop>()
            .setting("enabled", "true")
            .setting("urgency", "low");
        let mut msg = message("Build 40%", "compiling");
        msg.previous = Some("7".into());
        h.send(&msg).unwrap();
        let shown = h.desktop_notifications();
        assert_eq!(
            (shown[0].replaces, shown[0].urgency),
            (Some(7), Urgency::Low)
        );
    }

    #[test]
    fn off_unless_enabled_and_urls_turn_it_on() {
        let h = Harness::new::<Desktop>().setting("enabled", "false");
        h.send(&message("t", "b")).unwrap();
        assert!(h.desktop_notifications().is_empty());
        assert_eq!(
            Desktop::parse_url("dbus://?urgency=high").unwrap(),
            vec![
                ("enabled".to_string(), "true".to_string()),
                ("urgency".to_string(), "high".to_string())
            ]
        );
        for url in ["kde://", "macosx://", "windows://"] {
            assert!(Desktop::parse_url(url).is_ok(), "{url}");
        }
    }
}
