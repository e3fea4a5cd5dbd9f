//! A certificate authority made for one test, a server certificate for
//! 127.0.0.1 and localhost signed by it, and a small HTTPS server using it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct TestCa {
    /// The CA's certificate, for `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    /// The server's certificate and key as PEM files, for servers run as
    /// programs (mosquitto).
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    leaf: CertificateDer<'static>,
    key: Vec<u8>,
    pub dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mcp-push test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .unwrap()
                .signed_by(&leaf_key, &ca, &ca_key)
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        let (cert_file, key_file) = (dir.path().join("server.pem"), dir.path().join("server.key"));
        std::fs::write(&cert_file, leaf.pem()).unwrap();
        std::fs::write(&key_file, leaf_key.serialize_pem()).unwrap();
        TestCa {
            ca_file,
            cert_file,
            key_file,
            leaf: CertificateDer::from(leaf.der().to_vec()),
            key: leaf_key.serialize_der(),
            dir,
        }
    }

    pub fn server_config(&self) -> ServerConfig {
        ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![self.leaf.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone())),
            )
            .unwrap()
    }
}

/// An HTTPS server on 127.0.0.1 answering every request `200 ok` (one
/// request per connection), counting the requests that reached it.
pub struct HttpsSink {
    pub addr: SocketAddr,
    pub ca: TestCa,
    requests: Arc<AtomicUsize>,
}

impl HttpsSink {
    pub fn start() -> HttpsSink {
        let ca = TestCa::new();
        let acceptor = TlsAcceptor::from(Arc::new(ca.server_config()));
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let addr = super::on_loopback(move |listener| async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let (acceptor, count) = (acceptor.clone(), count.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        HttpsSink { addr, ca, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
