//! A loopback endpoint that counts, per notification, the requests carrying
//! its marker (`marker N` as the webhook body's `content`): what the
//! exact-once and several-hubs tests read to tell lost and doubled sends.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use tokio::sync::watch;

/// A loopback endpoint that counts each marker it receives and answers 200.
/// Now and then it closes a keep-alive connection: after the answer with
/// `Connection: close`, or without a word just after the answer went out (the
/// client may be writing its next request onto it as it closes).
pub struct Sink {
    pub addr: SocketAddr,
    pub seen: Arc<Vec<AtomicU32>>,
    /// Requests without a marker of this run (never expected).
    pub strays: Arc<AtomicUsize>,
    /// Requests answered so far, marker or not.
    pub arrived: Arc<AtomicUsize>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// While false, requests are read and counted but not answered.
    pub open: watch::Sender<bool>,
}

/// How the sink treats its connections.
#[derive(Clone, Copy)]
pub struct Closing {
    /// Every this many requests on a connection, the answer says `Connection: close`.
    pub with_header: u32,
    /// Every this many requests, the connection is dropped right after the answer.
    pub silently: u32,
}

impl Closing {
    pub const NEVER: Closing = Closing {
        with_header: 0,
        silently: 0,
    };
}

impl Sink {
    pub async fn start(markers: usize, closing: Closing) -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Vec<AtomicU32>> = Arc::new((0..markers).map(|_| AtomicU32::new(0)).collect());
        let strays = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (open, gate) = watch::channel(true);
        let (s, st, ar, co) = (
            seen.clone(),
            strays.clone(),
            arrived.clone(),
            connections.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                co.fetch_add(1, Ordering::SeqCst);
                let (seen, strays, arrived, gate) =
                    (s.clone(), st.clone(), ar.clone(), gate.clone());
                tokio::spawn(connection(stream, closing, seen, strays, arrived, gate));
            }
        });
        Sink {
            addr,
            seen,
            strays,
            arrived,
            connections,
            open,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Markers received other than exactly once: (marker, times).
    pub fn not_once(&self) -> Vec<(usize, u32)> {
        self.not_exactly(1)
    }

    /// Markers received other than `times` times: (marker, times).
    pub fn not_exactly(&self, times: u32) -> Vec<(usize, u32)> {
        self.seen
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n.load(Ordering::SeqCst)))
            .filter(|(_, n)| *n != times)
            .collect()
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    closing: Closing,
    seen: Arc<Vec<AtomicU32>>,
    strays: Arc<AtomicUsize>,
    arrived: Arc<AtomicUsize>,
    gate: watch::Receiver<bool>,
) {
    let served = Arc::new(AtomicU32::new(0));
    let drop_now = Arc::new(tokio::sync::Notify::new());
    let (d, s) = (drop_now.clone(), served.clone());
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let (seen, strays, arrived, d, s) = (
            seen.clone(),
            strays.clone(),
            arrived.clone(),
            d.clone(),
            s.clone(),
        );
        let mut gate = gate.clone();
        async move {
            let body = req.into_body().collect().await?.to_bytes();
            match marker(&body).filter(|m| *m < seen.len()) {
                Some(m) => {
                    seen[m].fetch_add(1, Ordering::SeqCst);
                }
                None => {
                    strays.fetch_add(1, Ordering::SeqCst);
                }
            }
            let _ = gate.wait_for(|open| *open).await;
            arrived.fetch_add(1, Ordering::SeqCst);
            let n = s.fetch_add(1, Ordering::SeqCst) + 1;
            let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"ok")));
            if closing.with_header > 0 && n % closing.with_header == 0 {
                resp.headers_mut()
                    .insert("connection", "close".parse().unwrap());
            } else if closing.silently > 0 && n % closing.silently == 0 {
                d.notify_one();
            }
            Ok::<_, hyper::Error>(resp)
        }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = drop_now.notified() => {}
    }
    // The answer is on its way out: let hyper finish writing it, then close
    // the now idle connection (graceful shutdown closes an idle one at once,
    // with no `Connection: close` the client could have seen).
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// `N` from a webhook JSON body whose content is `marker N`.
pub fn marker(body: &[u8]) -> Option<usize> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["content"].as_str()?.strip_prefix("marker ")?.parse().ok()
}
