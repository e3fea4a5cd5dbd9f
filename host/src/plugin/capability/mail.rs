//! The `mail` capability: SMTP submission with lettre, under the same rules
//! as `http.fetch` (allowed hosts, request budget, deadline, secrets put in
//! only on the way out). Written on the host's own types; each WIT version
//! converts to them (see `plugin::wit`).

use super::context::CallContext;
use lettre::message::{Mailbox as LettreMailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Instant;

pub(crate) enum Security {
    /// No TLS at all (a local relay).
    Plain,
    /// Plain connection upgraded with STARTTLS; TLS is required.
    Starttls,
    /// TLS from the first byte.
    Tls,
}

pub(crate) struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// LOGIN/PLAIN authentication when given.
    pub user: Option<String>,
    pub password: Option<String>,
}

pub(crate) struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

pub(crate) struct Email {
    pub sender: Mailbox,
    pub to: Vec<Mailbox>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

pub(crate) enum Error {
    /// Not an allowed host, or over the per-send request budget.
    Denied(String),
    /// An address or header the message cannot be built with.
    Invalid(String),
    /// The server refused for good (5xx: authentication, a recipient).
    Rejected(String),
    /// Network, TLS or a transient (4xx) refusal: worth retrying.
    Unavailable(String),
    Timeout,
}

/// Written as the WIT bindings write theirs (`Error::Denied("...")`), so that
/// the debug lines read as before.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Denied(e) => f.debug_tuple("Error::Denied").field(e).finish(),
            Error::Invalid(e) => f.debug_tuple("Error::Invalid").field(e).finish(),
            Error::Rejected(e) => f.debug_tuple("Error::Rejected").field(e).finish(),
            Error::Unavailable(e) => f.debug_tuple("Error::Unavailable").field(e).finish(),
            Error::Timeout => f.debug_tuple("Error::Timeout").finish(),
        }
    }
}

pub(crate) async fn send(
    call: &mut CallContext,
    server: Server,
    email: Email,
) -> Result<(), Error> {
    let shown = format!("SMTP {}:{}", server.host, server.port);
    let result = send_mail(call, server, email).await;
    match &result {
        Ok(()) => tracing::debug!(channel = %call.channel, "{shown} -> sent"),
        Err(e) => tracing::debug!(channel = %call.channel, "{shown} -> {e:?}"),
    }
    result
}

async fn send_mail(call: &mut CallContext, server: Server, email: Email) -> Result<(), Error> {
    call.spend_request().map_err(Error::Denied)?;
    let host = call.secrets.fill(&server.host);
    let from_secret = mcp_push_policy::Secrets::looks_secret(server.host.as_bytes());
    if let Some(why) = call.host_denied(&host, server.port, "", from_secret) {
        return Err(Error::Denied(why));
    }
    let message = build_message(call, &email)?;
    let builder = match server.security {
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
        Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
        Security::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &host,
        )),
    }
    .map_err(|e| Error::Unavailable(describe_error(call, &e)))?;
    let remaining = call.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(Error::Timeout);
    }
    let mut builder = builder.port(server.port).timeout(Some(remaining));
    if let Some(user) = &server.user {
        builder = builder.credentials(Credentials::new(
            call.secrets.fill(user),
            call.secrets.fill(server.password.as_deref().unwrap_or("")),
        ));
    }
    // The call's deadline bounds the whole exchange (see
    // `runtime::invoke`); lettre's own timeout covers each socket step.
    let transport = builder.build();
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_timeout() => Err(Error::Timeout),
        // Permanent replies, and what the client cannot do with this
        // server (no STARTTLS offered): sending again cannot help.
        Err(e) if e.is_permanent() || e.is_client() => {
            Err(Error::Rejected(describe_error(call, &e)))
        }
        Err(e) => Err(Error::Unavailable(describe_error(call, &e))),
    }
}

fn build_message(call: &CallContext, email: &Email) -> Result<Message, Error> {
    let mailbox = |m: &Mailbox| -> Result<LettreMailbox, Error> {
        let address = call.secrets.fill(&m.address);
        let parsed = address.trim().parse().map_err(|e| {
            Error::Invalid(call.secrets.describe(&format!("address {address:?}: {e}")))
        })?;
        Ok(LettreMailbox::new(
            m.name.as_ref().map(|n| call.secrets.fill(n)),
            parsed,
        ))
    };
    let mut builder = Message::builder()
        .from(mailbox(&email.sender)?)
        .subject(email.subject.clone());
    if email.to.is_empty() {
        return Err(Error::Invalid("no recipient".into()));
    }
    for to in &email.to {
        builder = builder.to(mailbox(to)?);
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(email.text.clone());
    let built = match &email.html {
        Some(html) => builder.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
        ),
        None => builder.singlepart(text),
    };
    built.map_err(|e| Error::Invalid(call.secrets.describe(&e.to_string())))
}

/// lettre's error with its causes, secrets masked.
fn describe_error(call: &CallContext, e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    call.secrets.describe(&why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::allow::{AllowList, HostPattern};
    use crate::plugin::secrets::Secrets;
    use crate::plugin::types::Limits;
    use std::time::Duration;

    fn io(allowed: &str) -> CallContext {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pattern: HostPattern = allowed.parse().unwrap();
        CallContext {
            channel: "test".into(),
            allow: std::sync::Arc::new(AllowList::resolve(&[pattern], |_| None)),
            secrets: Secrets::new(),
            limits: Limits::default(),
            deadline: Instant::now() + Duration::from_secs(5),
            requests: 0,
            reserved: None,
        }
    }

    fn email() -> Email {
        Email {
            sender: Mailbox {
                name: None,
                address: "a@example.org".into(),
            },
            to: vec![Mailbox {
                name: None,
                address: "b@example.org".into(),
            }],
            subject: "s".into(),
            text: "t".into(),
            html: None,
        }
    }

    #[test]
    fn the_smtp_host_must_be_allowed_like_http() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut io = io("smtp.example.org");
        let server = Server {
            host: "smtp.elsewhere.test".into(),
            port: 25,
            security: Security::Plain,
            user: None,
            password: None,
        };
        let err = rt.block_on(send(&mut io, server, email())).unwrap_err();
        assert!(
            matches!(&err, Error::Denied(m) if m.contains("smtp.elsewhere.test:25 is not an allowed host")),
            "{err:?}"
        );
        // A bad address is refused before any connection.
        let mut bad = email();
        bad.to[0].address = "not an address".into();
        let server = Server {
            host: "smtp.example.org".into(),
            port: 25,
            security: Security::Plain,
            user: None,
            password: None,
        };
        let err = rt.block_on(send(&mut io, server, bad)).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    }
}
