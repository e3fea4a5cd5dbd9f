//! E-mail over SMTP (notify.py's `SMTP_*`, Apprise's `mailto://` and
//! `mailtos://`), sent by the host: plain, STARTTLS or implicit TLS, with
//! authentication, several recipients, a sender name, text and HTML bodies.
//!
//! Sources: qinglong's sample/notify.py `smtp` for the `SMTP_*` names
//! (`SMTP_SSL=true` is implicit TLS, as notify.py's `smtplib.SMTP_SSL`),
//! Apprise's `mailto://`/`mailtos://` plugin for the one-line form and its
//! defaults (mailtos without a port: STARTTLS on 587). SMTP itself has no
//! size limit this file relies on.

use mcp_push_sdk::mail::{self, Email, Mailbox, Security, Server};
use mcp_push_sdk::prelude::*;

struct EmailChannel;

impl Channel for EmailChannel {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "email",
            "E-mail (SMTP)",
            env!("CARGO_PKG_VERSION"),
            "Sends e-mail through your SMTP server",
        )
        .formats(&["text", "html"])
        .setting(
            Setting::new("server", "SMTP server as host:port (smtp.example.com:465)")
                .env(&["SMTP_SERVER"])
                .required(),
        )
        .setting(
            Setting::new(
                "ssl",
                "true: TLS from the start (465); starttls: upgrade (587); false: no TLS",
            )
            .env(&["SMTP_SSL"])
            .default_value("false"),
        )
        .setting(
            Setting::new("email", "Sender address, also the login")
                .env(&["SMTP_EMAIL"])
                .required(),
        )
        .setting(
            Setting::new("password", "Password (or app password) of the login")
                .env(&["SMTP_PASSWORD"])
                .secret(),
        )
        .setting(Setting::new("name", "Sender name").env(&["SMTP_NAME"]))
        .setting(
            Setting::new("to", "Recipients, `;`-separated (default: the sender)")
                .env(&["SMTP_EMAIL_TO"]),
        )
        .setting(Setting::new(
            "user",
            "Login, when it is not the sender address",
        ))
        .allow_host("setting:server")
        .schemes(&["mailto", "mailtos"])
    }

    /// `mailto[s]://USER:PASSWORD@HOST[:PORT][?to=A;B&from=ADDR&name=NAME&mode=starttls]`
    /// (mailtos means TLS: STARTTLS on 587 unless a port says otherwise, as
    /// Apprise does; implicit TLS on 465).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["mailto", "mailtos"])?;
        let secure = u.scheme == "mailtos";
        let port = u.port.unwrap_or(if secure { 587 } else { 25 });
        let ssl = match (u.param("mode"), secure, port) {
            (Some(mode), _, _) => match mode {
                "ssl" | "tls" => "true",
                "starttls" => "starttls",
                "insecure" | "plain" => "false",
                other => return Err(format!("mode={other}: use ssl, starttls or insecure")),
            },
            (None, true, 465) => "true",
            (None, true, _) => "starttls",
            (None, false, _) => "false",
        };
        let Some(user) = u.user.clone() else {
            return Err("mailto:// needs a login: mailtos://USER:PASSWORD@HOST".into());
        };
        let from = match u.param("from") {
            Some(from) => from.to_string(),
            None if user.contains('@') => user.clone(),
            None => format!("{user}@{}", u.host),
        };
        Pairs::new()
            .set("server", format!("{}:{port}", u.host))
            .set("ssl", ssl)
            .set("email", from)
            .set("user", user)
            .maybe("password", u.password.clone())
            .maybe("name", u.param("name"))
            .maybe("to", u.param("to"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let server = settings.require("server")?;
        let (host, port) = match server.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>().map_err(|_| {
                    SendError::Config(format!(
                        "setting `server` (SMTP_SERVER) must be host:port, not {server:?}"
                    ))
                })?,
            ),
            None => (server, 0),
        };
        let security = match settings
            .get_or("ssl", "false")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "true" | "1" | "yes" | "ssl" | "tls" => Security::Tls,
            "starttls" => Security::Starttls,
            "false" | "0" | "no" => Security::Plain,
            other => {
                return Err(SendError::Config(format!(
                    "setting `ssl` (SMTP_SSL) must be true, false or starttls, not {other:?}"
                )));
            }
        };
        let port = match (port, security) {
            (0, Security::Tls) => 465,
            (0, Security::Starttls) => 587,
            (0, Security::Plain) => 25,
            (p, _) => p,
        };
        let sender = settings.require("email")?;
        // notify.py splits SMTP_EMAIL_TO at `;` and the full-width `；`.
        let recipients = match settings.list("to", &[';', '；', ',']) {
            list if list.is_empty() => vec![Mailbox::new(None, sender)],
            list => list.into_iter().map(|a| Mailbox::new(None, a)).collect(),
        };
        let password = settings.get("password");
        let user = password.map(|_| settings.get_or("user", sender).to_string());
        let email = Email {
            sender: Mailbox::new(settings.get("name"), sender),
            to: recipients,
            subject: msg.headline(200),
            text: msg.body_with_link(),
            html: msg.is_html().then(|| msg.body.clone()),
        };
        mail::send(
            &Server {
                host: host.to_string(),
                port,
                security,
                user,
                password: password.map(String::from),
            },
            &email,
        )?;
        Ok(Receipt::none())
    }
}

export_channel!(EmailChannel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<EmailChannel>();
    }

    #[test]
    fn parses_mailto_urls() {
        let s =
            EmailChannel::parse_url("mailtos://bob:pw@smtp.example.com?to=a@x.org;b@y.org&name=CI")
                .unwrap();
        let get = |k: &str| s.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        // Apprise's default for mailtos:// without a port: STARTTLS on 587.
        assert_eq!(get("server"), Some("smtp.example.com:587"));
        assert_eq!(get("ssl"), Some("starttls"));
        assert_eq!(get("email"), Some("bob@smtp.example.com"));
        assert_eq!(get("to"), Some("a@x.org;b@y.org"));
        let s = EmailChannel::parse_url("mailtos://me@x.org:pw@smtp.x.org:587").unwrap();
        assert_eq!(s[1].1, "starttls");
        let s = EmailChannel::parse_url("mailtos://me@x.org:pw@smtp.x.org:465").unwrap();
        assert_eq!(s[1].1, "true");
    }

    #[test]
    fn recipients_split_at_full_width_semicolons_too() {
        use mcp_push_sdk::testing::{Harness, message};
        let h = Harness::new::<EmailChannel>()
            .setting("server", "smtp.example.com:465")
            .setting("ssl", "true")
            .setting("email", "ci@example.com")
            .setting("password", "pw-123456")
            .setting("to", "a@x.org；b@y.org;c@z.org");
        h.send(&message("t", "b")).unwrap();
        let to: Vec<String> = h.mails()[0]
            .email
            .to
            .iter()
            .map(|m| m.address.clone())
            .collect();
        assert_eq!(to, ["a@x.org", "b@y.org", "c@z.org"]);
    }

    /// notify.py's `SMTP_*` as the server and the e-mail the host is handed
    /// (what tests/channels_email.rs sees through a real SMTP conversation):
    /// `SMTP_SSL` true, starttls and false, the login, the sender's name,
    /// several recipients, an HTML body beside its text.
    #[test]
    fn smtp_settings_become_the_server_and_the_email() {
        use mcp_push_sdk::testing::{Harness, message};
        let with_ssl = |ssl: &str| {
            Harness::new::<EmailChannel>()
                .setting("server", "smtp.example.org:2525")
                .setting("ssl", ssl)
                .setting("email", "ci@example.org")
                .setting("password", "smtp-app-password-123")
                .setting("name", "CI Bot")
                .setting("to", "alice@example.org;bob@example.org")
        };
        let h = with_ssl("false");
        h.send(&message("Nightly build", "all 12 steps passed"))
            .unwrap();
        let sent = &h.mails()[0];
        assert_eq!(sent.server.host, "smtp.example.org");
        assert_eq!(sent.server.port, 2525);
        assert!(matches!(sent.server.security, Security::Plain));
        assert_eq!(sent.server.user.as_deref(), Some("ci@example.org"));
        let password = sent.server.password.clone().unwrap();
        assert_ne!(password, "smtp-app-password-123", "a placeholder");
        assert_eq!(h.reveal(&password), "smtp-app-password-123");
        let email = &sent.email;
        assert_eq!(email.sender.name.as_deref(), Some("CI Bot"));
        assert_eq!(email.sender.address, "ci@example.org");
        let to: Vec<&str> = email.to.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(to, ["alice@example.org", "bob@example.org"]);
        assert_eq!(email.subject, "Nightly build");
        assert!(email.text.contains("all 12 steps passed"), "{}", email.text);
        assert!(email.html.is_none());

        let h = with_ssl("true");
        let mut html = message("Report", "<b>3</b> failures");
        html.format = Format::Html;
        h.send(&html).unwrap();
        let sent = &h.mails()[0];
        assert!(matches!(sent.server.security, Security::Tls));
        assert_eq!(sent.email.html.as_deref(), Some("<b>3</b> failures"));

        let h = with_ssl("starttls");
        h.send(&message("T", "over STARTTLS")).unwrap();
        assert!(matches!(h.mails()[0].server.security, Security::Starttls));
    }
}
