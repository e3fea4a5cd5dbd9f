//! A private mosquitto per test: its own config in a temp dir, a plain
//! listener on a free port of 127.0.0.1, optionally a TLS listener with a
//! certificate from a CA made for the test and a login from a password file
//! (`mosquitto_passwd -b`), and subscribers (rumqttc) that record what
//! arrives. Without mosquitto `Mosquitto::start` prints `skipped` and gives
//! `None`, except under `CI`, where it fails.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default, Clone, Copy)]
pub struct Options<'a> {
    /// Only this username and password may connect (none: anyone).
    pub login: Option<(&'a str, &'a str)>,
    /// A TLS listener too, on [`Mosquitto::tls_port`].
    pub tls: bool,
}

pub struct Mosquitto {
    child: Child,
    pub port: u16,
    pub tls_port: u16,
    /// The test CA's certificate, for `SSL_CERT_FILE` (with `tls`).
    pub ca_file: Option<PathBuf>,
    login: Option<(String, String)>,
    log: PathBuf,
    _ca: Option<super::tls::TestCa>,
    _dir: tempfile::TempDir,
}

/// One message a subscriber got.
#[derive(Debug, Clone)]
pub struct Got {
    pub topic: String,
    pub payload: String,
    pub qos: u8,
    pub retain: bool,
}

pub struct Subscriber {
    got: Arc<Mutex<Vec<Got>>>,
    stop: Arc<AtomicBool>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Mosquitto {
    pub fn start(options: Options) -> Option<Mosquitto> {
        let Some(mosquitto) = program("mosquitto") else {
            if std::env::var_os("CI").is_some() {
                panic!("mosquitto is not installed (Debian's package `mosquitto`)");
            }
            println!("skipped: no mosquitto");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let (port, tls_port) = (free_port(), free_port());
        let log = dir.path().join("mosquitto.log");
        let mut conf = format!(
            "per_listener_settings false\npersistence false\nlog_dest file {}\nlog_type all\n\
             listener {port} 127.0.0.1\n",
            log.display()
        );
        // As root mosquitto drops to the `mosquitto` user, which cannot read
        // the test's files.
        if is_root() {
            conf.push_str("user root\n");
        }
        let ca = options.tls.then(super::tls::TestCa::new);
        if let Some(ca) = &ca {
            conf.push_str(&format!(
                "listener {tls_port} 127.0.0.1\ncertfile {}\nkeyfile {}\n",
                ca.cert_file.display(),
                ca.key_file.display()
            ));
        }
        match options.login {
            None => conf.push_str("allow_anonymous true\n"),
            Some((user, password)) => {
                let file = dir.path().join("passwd");
                let made = Command::new(program("mosquitto_passwd").expect("mosquitto_passwd"))
                    .args(["-c", "-b"])
                    .arg(&file)
                    .args([user, password])
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(made.success(), "mosquitto_passwd failed");
                conf.push_str(&format!(
                    "allow_anonymous false\npassword_file {}\n",
                    file.display()
                ));
            }
        }
        let conf_file = dir.path().join("mosquitto.conf");
        std::fs::write(&conf_file, conf).unwrap();
        let child = Command::new(mosquitto)
            .arg("-c")
            .arg(&conf_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let broker = Mosquitto {
            child,
            port,
            tls_port,
            ca_file: ca.as_ref().map(|c| c.ca_file.clone()),
            login: options.login.map(|(u, p)| (u.to_string(), p.to_string())),
            log,
            _ca: ca,
            _dir: dir,
        };
        broker.wait_listening(port);
        if options.tls {
            broker.wait_listening(tls_port);
        }
        Some(broker)
    }

    fn wait_listening(&self, port: u16) {
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "mosquitto did not listen on {port}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// The broker's own log (connections, CONNACKs, what it got).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A subscriber to `filter` (QoS 2, so it gets each message at the QoS
    /// it was published with), subscribed when this returns.
    pub fn subscribe(&self, filter: &str) -> Subscriber {
        let mut opts =
            MqttOptions::new(format!("test-sub-{}", free_port()), "127.0.0.1", self.port);
        // rumqttc's default cap (10 KiB) would drop a long message.
        opts.set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1 << 20, 1 << 20);
        if let Some((user, password)) = &self.login {
            opts.set_credentials(user, password);
        }
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, subscribed) = std::sync::mpsc::channel();
        let (log, stopped, filter) = (got.clone(), stop.clone(), filter.to_string());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (client, mut events) = AsyncClient::new(opts, 16);
                client.subscribe(filter, QoS::ExactlyOnce).await.unwrap();
                while !stopped.load(Ordering::Relaxed) {
                    match events.poll().await {
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            let _ = ready.send(());
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            log.lock().unwrap().push(Got {
                                topic: p.topic,
                                payload: String::from_utf8_lossy(&p.payload).into_owned(),
                                qos: p.qos as u8,
                                retain: p.retain,
                            });
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            });
        });
        subscribed
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("the subscriber did not subscribe: {}", self.log()));
        Subscriber { got, stop }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Subscriber {
    /// What arrived once `n` messages have (or 10 s have passed).
    pub fn wait_for(&self, n: usize) -> Vec<Got> {
        let until = Instant::now() + Duration::from_secs(10);
        while self.got.lock().unwrap().len() < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.got()
    }

    /// What arrived so far.
    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
