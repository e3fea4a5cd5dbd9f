//! Notifications on the desktop of the machine mcp-push runs on, through the
//! host (the WIT `desktop` import: the freedesktop notification service on
//! the D-Bus session bus). The channel must list [`SERVICE`] among its
//! allowed hosts, and each notification counts against the send's request
//! budget, like an HTTP request.

use crate::SendError;
use crate::bindings::mcp_push::channel::desktop::Error;
pub use crate::bindings::mcp_push::channel::desktop::{Notification, Urgency};

/// What a channel lists among its allowed hosts to show notifications.
pub const SERVICE: &str = "org.freedesktop.Notifications";

/// Show `n`; the service's id of the notification (for `replaces`). A denied
/// call is a `config` error; no session bus or no notification service is
/// `unavailable` (retried: the desktop session may come back).
pub fn notify(n: &Notification) -> Result<u32, SendError> {
    crate::host::desktop_notify(n).map_err(|e| match e {
        Error::Denied(why) => SendError::Config(format!("desktop notification denied: {why}")),
        Error::Unavailable(why) => SendError::Unavailable(why),
        Error::Timeout => SendError::Unavailable(
            "the desktop's notification service did not answer in time".into(),
        ),
    })
}
