//! Linux and the BSDs: `Notify` on the freedesktop notification service
//! (the Desktop Notifications Specification 1.2) over the D-Bus session bus.

use super::{Error, Notification, SERVICE, Urgency};
use std::collections::HashMap;
use zbus::zvariant::Value;

const PATH: &str = "/org/freedesktop/Notifications";

#[cfg_attr(any(target_os = "macos", windows), allow(dead_code))]
pub(super) async fn show(n: &Notification) -> Result<u32, Error> {
    // The body may be read as markup (the spec's `body-markup`): plain text
    // is escaped so that it shows as written.
    let body = crate::html::escape(&n.body);
    let urgency: u8 = match n.urgency {
        Urgency::Low => 0,
        Urgency::Normal => 1,
        Urgency::Critical => 2,
    };
    let hints: HashMap<&str, Value<'_>> = HashMap::from([("urgency", Value::U8(urgency))]);
    let expire: i32 = n
        .expire_timeout_ms
        .map_or(-1, |ms| ms.min(i32::MAX as u32) as i32);
    let conn = zbus::Connection::session().await.map_err(|e| {
        Error::Unavailable(format!(
            "no D-Bus session bus to show desktop notifications on ({e}); mcp-push must run \
             in a desktop session (DBUS_SESSION_BUS_ADDRESS)"
        ))
    })?;
    let actions: Vec<&str> = Vec::new();
    let reply = conn
        .call_method(
            Some(SERVICE),
            PATH,
            Some(SERVICE),
            "Notify",
            &(
                n.app_name.as_str(),
                n.replaces.unwrap_or(0),
                "",
                n.summary.as_str(),
                body.as_str(),
                actions,
                hints,
                expire,
            ),
        )
        .await
        .map_err(|e| {
            Error::Unavailable(format!(
                "the desktop's notification service ({SERVICE}) did not take it: {e}"
            ))
        })?;
    reply.body().deserialize::<u32>().map_err(|e| {
        Error::Unavailable(format!(
            "the desktop's notification service answered oddly: {e}"
        ))
    })
}
