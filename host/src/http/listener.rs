//! Accepting connections for `serve`, so that clients that never finish a
//! request cannot hold the server: how long a client may take to send its
//! headers, how long an idle keep-alive connection stays open, how long a
//! request body may take, and how many connections are open at once.
//!
//! Before this, 1,000 half-open connections (partial headers, partial body,
//! idle keep-alive) were held forever and, with the file descriptors gone,
//! `/healthz` stopped answering. hyper keeps the header and idle clocks
//! (`header_read_timeout` also runs while a kept-alive connection waits for its
//! next request), [`read_body`] keeps the body's, and a semaphore the count;
//! connections over the count are closed at once instead of waiting in the
//! kernel's queue, and the process's descriptor limit is raised so the count
//! is reached long before the descriptors run out.

use super::error::ApiError;
use super::rest::BODY_LIMIT;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How long clients may take, and how many may be connected.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From a connection's first byte (or from the end of its previous
    /// response) to the end of the request's headers.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the body, whatever the
    /// pace: a body trickled a byte at a time is cut off too.
    pub body_timeout: Duration,
    /// Open connections at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
}

/// The defaults of `serve`'s flags. 20 s for headers and 30 s for a body
/// (at most 256 KiB) are generous for any client on a working network.
pub const HEADER_TIMEOUT_SECS: u64 = 20;
pub const BODY_TIMEOUT_SECS: u64 = 30;
pub const MAX_CONNECTIONS: u64 = 1024;

/// Descriptors kept for everything but clients: the database, plugins, the
/// compile cache, and the deliveries' outgoing connections (64 send slots).
const RESERVED_FDS: usize = 256;

impl Limits {
    /// The connection count this process can really hold: the soft
    /// descriptor limit is raised to the hard one, and the count kept under
    /// it with [`RESERVED_FDS`] to spare, so that accepting never fails for
    /// want of a descriptor (which is what silenced `/healthz`).
    pub fn fitted_to_descriptors(mut self) -> Self {
        if let Some(fds) = raise_fd_limit() {
            let room = fds.saturating_sub(RESERVED_FDS).max(1);
            if room < self.max_connections {
                tracing::warn!(
                    "at most {room} connections at once (the process may open {fds} files); \
                     raise `ulimit -n` to allow {}",
                    self.max_connections
                );
                self.max_connections = room;
            }
        }
        self
    }
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit; the limit now in force.
#[cfg(unix)]
fn raise_fd_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    Some(usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX))
}

#[cfg(not(unix))]
fn raise_fd_limit() -> Option<usize> {
    None
}

/// Serve `router` (with [`read_body`] among its layers) on `listener` until
/// `shutdown`; then let the connections finish their requests and return
/// once they are all closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut full = false;
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept:
                    // wait a moment rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if !full {
                tracing::warn!(
                    "{} connections open: closing new ones until some finish",
                    limits.max_connections
                );
                full = true;
            }
            drop(stream);
            continue;
        };
        full = false;
        let _ = stream.set_nodelay(true);
        // Each request carries its socket, for the live stream.
        let peer = super::peer::Peer::of(&stream);
        let service = {
            let router = router.clone();
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(peer);
                let mut router = router.clone();
                async move { tower_service::Service::call(&mut router, req).await }
            })
        };
        let conn = http
            .serve_connection(
                TokioIo::new(super::bare_errors::Shaped::new(stream)),
                service,
            )
            .with_upgrades();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(conn);
            let done = tokio::select! {
                done = conn.as_mut() => done,
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = done {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    // Every slot back means every connection has closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// Read the whole request body within `body_timeout` and at most
/// [`BODY_LIMIT`] bytes before any handler runs (a declared length over the
/// limit is refused from the header alone). Layered inside the token check,
/// so only an authorised client can make the server buffer a body.
pub async fn read_body(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return closing(too_large());
    }
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, BODY_LIMIT);
    match tokio::time::timeout(limits.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => closing(too_large()),
        Ok(Err(e)) => closing(ApiError::invalid(
            "",
            format!("cannot read the request body: {e}"),
        )),
        Err(_) => closing(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} s: send the whole body at once",
                limits.body_timeout.as_secs_f64()
            ),
        )),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the request body is larger than {} KiB: shorten `content` (a notification should \
             be a short message; link to anything long)",
            BODY_LIMIT / 1024
        ),
    )
}

/// The rest of the body is not read, so the connection cannot carry another request.
fn closing(e: ApiError) -> Response {
    let mut response = e.into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}
