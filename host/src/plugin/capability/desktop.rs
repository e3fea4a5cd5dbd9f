//! The `desktop` capability: a notification on the desktop of the machine
//! the host runs on, through the freedesktop notification service on the
//! D-Bus session bus (zbus). Under the rules of `http.fetch`: the channel
//! must list the service among its allowed hosts, each call spends one of
//! the send's requests and ends by its deadline. Secrets are masked, never
//! filled in: a notification is on screen for anyone to read.

use super::context::CallContext;
use std::collections::HashMap;
use std::time::Instant;
use zbus::zvariant::Value;

/// The well-known name, and interface, of the notification service.
pub(crate) const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

pub(crate) enum Urgency {
    Low,
    Normal,
    Critical,
}

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
    let (app_name, summary) = (masked(&n.app_name), masked(&n.summary));
    // The body may be read as markup (the spec's `body-markup`): plain text
    // is escaped so that it shows as written.
    let body = crate::html::escape(&masked(&n.body));
    let urgency: u8 = match n.urgency {
        Urgency::Low => 0,
        Urgency::Normal => 1,
        Urgency::Critical => 2,
    };
    let hints: HashMap<&str, Value<'_>> = HashMap::from([("urgency", Value::U8(urgency))]);
    let expire: i32 = n
        .expire_timeout_ms
        .map_or(-1, |ms| ms.min(i32::MAX as u32) as i32);
    let sent = async {
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
                    app_name.as_str(),
                    n.replaces.unwrap_or(0),
                    "",
                    summary.as_str(),
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
    };
    match tokio::time::timeout(remaining, sent).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout),
    }
}
