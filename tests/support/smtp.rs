//! A small SMTP server on 127.0.0.1 for the e-mail tests: plain, STARTTLS or
//! implicit TLS (a certificate from a CA made for the test), AUTH PLAIN and
//! LOGIN, and a record of every message it accepts.

use base64::Engine as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plain,
    StartTls,
    ImplicitTls,
}

/// One accepted message.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub login: Option<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// The message came over TLS.
    pub tls: bool,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    /// The test CA's certificate, for `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    received: Arc<Mutex<Vec<Received>>>,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Accepts the login `user`/`password` only.
    pub fn start(security: Security, user: &str, password: &str) -> SmtpServer {
        let ca = super::tls::TestCa::new();
        let (config, ca_file, dir) = (ca.server_config(), ca.ca_file, ca.dir);
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let (log, login) = (received.clone(), (user.to_string(), password.to_string()));
        let addr = super::on_loopback(move |listener| async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let (log, login, acceptor) = (log.clone(), login.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, security, acceptor, login, log).await;
                });
            }
        });
        SmtpServer {
            addr,
            ca_file,
            received,
            _dir: dir,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

async fn serve(
    mut stream: tokio::net::TcpStream,
    security: Security,
    acceptor: TlsAcceptor,
    login: (String, String),
    log: Log,
) -> std::io::Result<()> {
    if security == Security::ImplicitTls {
        let mut tls = acceptor.accept(stream).await?;
        tls.write_all(b"220 mock.test ESMTP ready\r\n").await?;
        session(&mut tls, true, false, &login, &log).await?;
        return Ok(());
    }
    stream.write_all(b"220 mock.test ESMTP ready\r\n").await?;
    let upgrade = session(
        &mut stream,
        false,
        security == Security::StartTls,
        &login,
        &log,
    )
    .await?;
    if upgrade {
        let mut tls = acceptor.accept(stream).await?;
        session(&mut tls, true, false, &login, &log).await?;
    }
    Ok(())
}

/// One SMTP conversation; `Ok(true)` when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    tls: bool,
    offer_starttls: bool,
    login: &(String, String),
    log: &Log,
) -> std::io::Result<bool> {
    let mut io = BufReader::new(stream);
    let mut msg = Received {
        tls,
        ..Default::default()
    };
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(false);
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut r = String::from("250-mock.test\r\n");
            if offer_starttls {
                r.push_str("250-STARTTLS\r\n");
            }
            r.push_str("250 AUTH PLAIN LOGIN\r\n");
            r
        } else if upper == "STARTTLS" && offer_starttls {
            io.get_mut().write_all(b"220 2.0.0 go ahead\r\n").await?;
            return Ok(true);
        } else if let Some(rest) = upper.strip_prefix("AUTH PLAIN") {
            let b64 = if rest.trim().is_empty() {
                io.get_mut().write_all(b"334 \r\n").await?;
                line.clear();
                io.read_line(&mut line).await?;
                line.trim().to_string()
            } else {
                cmd["AUTH PLAIN".len()..].trim().to_string()
            };
            let raw = decode(&b64);
            let parts: Vec<&str> = raw.split('\0').collect();
            check_login(&mut msg, parts.get(1), parts.get(2), login)
        } else if upper.starts_with("AUTH LOGIN") {
            io.get_mut().write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            line.clear();
            io.read_line(&mut line).await?;
            let user = decode(line.trim());
            io.get_mut().write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            line.clear();
            io.read_line(&mut line).await?;
            let pass = decode(line.trim());
            check_login(&mut msg, Some(&user.as_str()), Some(&pass.as_str()), login)
        } else if upper.starts_with("MAIL FROM:") {
            if msg.login.is_none() {
                "530 5.7.0 Authentication required\r\n".into()
            } else {
                msg.from = angle(&cmd);
                "250 2.1.0 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let to = angle(&cmd);
            if to.contains("unknown") {
                "550 5.1.1 user unknown\r\n".into()
            } else {
                msg.to.push(to);
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper == "DATA" {
            io.get_mut()
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if io.read_line(&mut line).await? == 0 {
                    return Ok(false);
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            msg.data = data;
            log.lock().unwrap().push(msg.clone());
            "250 2.0.0 queued as 1\r\n".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 ok\r\n".into()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(false);
        } else {
            "502 5.5.2 not implemented\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

fn check_login(
    msg: &mut Received,
    user: Option<&&str>,
    pass: Option<&&str>,
    login: &(String, String),
) -> String {
    match (user, pass) {
        (Some(u), Some(p)) if *u == login.0 && *p == login.1 => {
            msg.login = Some((u.to_string(), p.to_string()));
            "235 2.7.0 Authentication successful\r\n".into()
        }
        _ => "535 5.7.8 Authentication credentials invalid\r\n".into(),
    }
}

fn decode(b64: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The address inside `<...>`.
fn angle(cmd: &str) -> String {
    cmd.split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}
