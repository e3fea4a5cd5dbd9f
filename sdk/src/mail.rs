//! E-mail through the host's SMTP client (the WIT `mail` import). The server
//! must be one of the channel's allowed hosts, like an HTTP request.

use crate::SendError;
use crate::bindings::mcp_push::channel::mail::Error;
pub use crate::bindings::mcp_push::channel::mail::{Email, Mailbox, Security, Server};

/// Submit `email` to `server`. A denied host or a message that cannot be
/// built is a `config` error, a permanent SMTP refusal `rejected`, anything
/// else `unavailable`.
pub fn send(server: &Server, email: &Email) -> Result<(), SendError> {
    crate::host::send_mail(server, email).map_err(|e| match e {
        Error::Denied(why) => SendError::Config(format!("mail denied: {why}")),
        Error::Invalid(why) => SendError::Config(why),
        Error::Rejected(why) => SendError::Rejected(why),
        Error::Unavailable(why) => SendError::Unavailable(why),
        Error::Timeout => SendError::Unavailable("the SMTP server timed out".into()),
    })
}

impl Mailbox {
    /// `name <address>`, or a bare address.
    pub fn new(name: Option<&str>, address: &str) -> Self {
        Mailbox {
            name: name.filter(|n| !n.trim().is_empty()).map(String::from),
            address: address.trim().to_string(),
        }
    }
}
