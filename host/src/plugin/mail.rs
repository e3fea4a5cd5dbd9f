//! The host side of the `mail` import: SMTP submission with lettre, under the
//! same rules as `http.fetch` (allowed hosts, request budget, deadline,
//! secrets put in only on the way out).

use super::sandbox::HostIo;
use super::wit_v0_1::mail;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Instant;

impl mail::Host for HostIo {
    async fn send(&mut self, server: mail::Server, email: mail::Email) -> Result<(), mail::Error> {
        let shown = format!("SMTP {}:{}", server.host, server.port);
        let result = self.send_mail(server, email).await;
        match &result {
            Ok(()) => tracing::debug!(channel = %self.channel, "{shown} -> sent"),
            Err(e) => tracing::debug!(channel = %self.channel, "{shown} -> {e:?}"),
        }
        result
    }
}

impl HostIo {
    async fn send_mail(
        &mut self,
        server: mail::Server,
        email: mail::Email,
    ) -> Result<(), mail::Error> {
        self.spend_request().map_err(mail::Error::Denied)?;
        let host = self.secrets.fill(&server.host);
        let from_secret = mcp_push_policy::Secrets::looks_secret(server.host.as_bytes());
        if let Some(why) = self.host_denied(&host, server.port, "", from_secret) {
            return Err(mail::Error::Denied(why));
        }
        let message = self.build_message(&email)?;
        let builder = match server.security {
            mail::Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
            mail::Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
            mail::Security::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &host,
            )),
        }
        .map_err(|e| mail::Error::Unavailable(self.describe_error(&e)))?;
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(mail::Error::Timeout);
        }
        let mut builder = builder.port(server.port).timeout(Some(remaining));
        if let Some(user) = &server.user {
            builder = builder.credentials(Credentials::new(
                self.secrets.fill(user),
                self.secrets.fill(server.password.as_deref().unwrap_or("")),
            ));
        }
        // The call's deadline bounds the whole exchange (see
        // `runtime::invoke`); lettre's own timeout covers each socket step.
        let transport = builder.build();
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_timeout() => Err(mail::Error::Timeout),
            // Permanent replies, and what the client cannot do with this
            // server (no STARTTLS offered): sending again cannot help.
            Err(e) if e.is_permanent() || e.is_client() => {
                Err(mail::Error::Rejected(self.describe_error(&e)))
            }
            Err(e) => Err(mail::Error::Unavailable(self.describe_error(&e))),
        }
    }

    fn build_message(&self, email: &mail::Email) -> Result<Message, mail::Error> {
        let mailbox = |m: &mail::Mailbox| -> Result<Mailbox, mail::Error> {
            let address = self.secrets.fill(&m.address);
            let parsed = address.trim().parse().map_err(|e| {
                mail::Error::Invalid(self.secrets.describe(&format!("address {address:?}: {e}")))
            })?;
            Ok(Mailbox::new(
                m.name.as_ref().map(|n| self.secrets.fill(n)),
                parsed,
            ))
        };
        let mut builder = Message::builder()
            .from(mailbox(&email.sender)?)
            .subject(email.subject.clone());
        if email.to.is_empty() {
            return Err(mail::Error::Invalid("no recipient".into()));
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
        built.map_err(|e| mail::Error::Invalid(self.secrets.describe(&e.to_string())))
    }

    /// lettre's error with its causes, secrets masked.
    fn describe_error(&self, e: &dyn std::error::Error) -> String {
        let mut why = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            why.push_str(": ");
            why.push_str(&s.to_string());
            source = s.source();
        }
        self.secrets.describe(&why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::allow::{AllowList, HostPattern};
    use crate::plugin::runtime::Limits;
    use crate::plugin::secrets::Secrets;
    use std::time::Duration;

    fn io(allowed: &str) -> HostIo {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pattern: HostPattern = allowed.parse().unwrap();
        HostIo {
            channel: "test".into(),
            allow: std::sync::Arc::new(AllowList::resolve(&[pattern], |_| None)),
            secrets: Secrets::new(),
            client: reqwest::Client::new(),
            limits: Limits::default(),
            deadline: Instant::now() + Duration::from_secs(5),
            fetches: 0,
            log_lines: 0,
            shapes: Default::default(),
            console: Default::default(),
            delivery: Default::default(),
        }
    }

    fn email() -> mail::Email {
        mail::Email {
            sender: mail::Mailbox {
                name: None,
                address: "a@example.org".into(),
            },
            to: vec![mail::Mailbox {
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
        let server = mail::Server {
            host: "smtp.elsewhere.test".into(),
            port: 25,
            security: mail::Security::Plain,
            user: None,
            password: None,
        };
        let err = rt
            .block_on(mail::Host::send(&mut io, server, email()))
            .unwrap_err();
        assert!(
            matches!(&err, mail::Error::Denied(m) if m.contains("smtp.elsewhere.test:25 is not an allowed host")),
            "{err:?}"
        );
        // A bad address is refused before any connection.
        let mut bad = email();
        bad.to[0].address = "not an address".into();
        let server = mail::Server {
            host: "smtp.example.org".into(),
            port: 25,
            security: mail::Security::Plain,
            user: None,
            password: None,
        };
        let err = rt
            .block_on(mail::Host::send(&mut io, server, bad))
            .unwrap_err();
        assert!(matches!(err, mail::Error::Invalid(_)), "{err:?}");
    }
}
