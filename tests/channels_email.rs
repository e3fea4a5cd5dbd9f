//! E-mail end to end: notify.py's `SMTP_*` through the host's lettre client to
//! an SMTP server running in the test, plain, STARTTLS and implicit TLS.

mod support;

use support::smtp::{Security, SmtpServer};
use support::{Sandbox, failure_of, send_ok};

const PASSWORD: &str = "smtp-app-password-123";

fn home(server: &SmtpServer, ssl: &str, password: &str) -> Sandbox {
    Sandbox::new()
        .env("SMTP_SERVER", format!("127.0.0.1:{}", server.addr.port()))
        .env("SMTP_SSL", ssl)
        .env("SMTP_EMAIL", "ci@example.org")
        .env("SMTP_PASSWORD", password)
        .env("SMTP_NAME", "CI Bot")
        .env("SMTP_EMAIL_TO", "alice@example.org;bob@example.org")
        // The test CA, trusted through the standard variable.
        .env("SSL_CERT_FILE", server.ca_file.display().to_string())
}

#[test]
fn plain_smtp_with_auth_several_recipients_and_a_sender_name() {
    let server = SmtpServer::start(Security::Plain, "ci@example.org", PASSWORD);
    send_ok(
        &home(&server, "false", PASSWORD),
        &["send", "-vv", "Nightly build", "all 12 steps passed"],
        &[PASSWORD],
    );
    let mails = server.received();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(!m.tls);
    assert_eq!(
        m.login,
        Some(("ci@example.org".to_string(), PASSWORD.to_string()))
    );
    assert_eq!(m.from, "ci@example.org");
    assert_eq!(m.to, vec!["alice@example.org", "bob@example.org"]);
    assert!(
        m.data.contains("From: \"CI Bot\" <ci@example.org>"),
        "{}",
        m.data
    );
    assert!(m.data.contains("Subject: Nightly build"), "{}", m.data);
    assert!(m.data.contains("Content-Type: text/plain"), "{}", m.data);
    assert!(m.data.contains("all 12 steps passed"), "{}", m.data);
}

#[test]
fn implicit_tls_with_an_html_body() {
    let server = SmtpServer::start(Security::ImplicitTls, "ci@example.org", PASSWORD);
    send_ok(
        &home(&server, "true", PASSWORD),
        &["send", "Report", "<b>3</b> failures", "--format", "html"],
        &[PASSWORD],
    );
    let m = &server.received()[0];
    assert!(m.tls);
    assert!(m.data.contains("multipart/alternative"), "{}", m.data);
    assert!(m.data.contains("Content-Type: text/html"), "{}", m.data);
    assert!(m.data.contains("<b>3</b> failures"), "{}", m.data);
}

#[test]
fn starttls_upgrades_before_the_login() {
    let server = SmtpServer::start(Security::StartTls, "ci@example.org", PASSWORD);
    send_ok(
        &home(&server, "starttls", PASSWORD),
        &["send", "T", "over STARTTLS"],
        &[PASSWORD],
    );
    let m = &server.received()[0];
    assert!(m.tls, "the message must come after the upgrade");
    assert!(m.login.is_some());
}

#[test]
fn a_wrong_password_is_rejected_and_never_shown() {
    let server = SmtpServer::start(Security::Plain, "ci@example.org", PASSWORD);
    let run = home(&server, "false", "wrong-password-456").run(&["send", "-vv", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = failure_of(&run, "email");
    assert!(line.contains("rejected") && line.contains("535"), "{run:?}");
    assert!(!run.all_output().contains("wrong-password-456"));
    assert!(server.received().is_empty());
}

#[test]
fn a_server_without_tls_fails_a_tls_channel() {
    // STARTTLS demanded, but the server does not offer it: nothing is sent in
    // the clear.
    let server = SmtpServer::start(Security::Plain, "ci@example.org", PASSWORD);
    let run = home(&server, "starttls", PASSWORD).run(&["send", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(failure_of(&run, "email").contains("failed"), "{run:?}");
    assert!(server.received().is_empty());
}

#[test]
fn mailto_url_in_the_config_file() {
    let server = SmtpServer::start(Security::StartTls, "ops", PASSWORD);
    let home = Sandbox::new()
        .env("SSL_CERT_FILE", server.ca_file.display().to_string())
        .config(&format!(
            "[channels.mail]\nurl = \"mailtos://ops:{PASSWORD}@127.0.0.1:{}?to=carol@example.org&from=ops@example.org\"\n",
            server.addr.port()
        ));
    send_ok(&home, &["send", "T", "B"], &[PASSWORD]);
    let m = &server.received()[0];
    assert!(m.tls);
    assert_eq!(m.to, vec!["carol@example.org"]);
    assert_eq!(m.from, "ops@example.org");
}
