//! `mcp-push serve`: one port for the MCP endpoint (`/mcp`), the REST API
//! (`/v1`), the live stream (`/v1/stream`), the dashboard (`/`), `/metrics`
//! and `/healthz`, behind the bearer-token check.

mod asks;
mod auth;
mod bare_errors;
mod dashboard;
mod deliveries;
mod error;
mod listener;
mod metrics;
mod openapi;
mod peer;
mod rest;
mod stream;
mod watchers;

pub use auth::{Auth, MIN_TOKEN_LEN};
pub use error::ApiError;
pub use listener::{BODY_TIMEOUT_SECS, HEADER_TIMEOUT_SECS, Limits, MAX_CONNECTIONS};
pub use metrics::Metrics;
pub use rest::{BODY_LIMIT, ROUTES};
pub use stream::{CLIENT_QUEUE, PING_EVERY};

use crate::app::App;
use crate::hub::Hub;
use crate::store::{ClaimScope, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    app: Arc<App>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    /// The watchers' runner (`None`: watchers could not start).
    watchers: Option<Arc<crate::watch::Runner>>,
    /// When `serve` started, for `/v1/status`.
    started_at: crate::store::UnixMillis,
    /// Cancelled on SIGINT/SIGTERM: stream clients are closed with a reason.
    shutdown: CancellationToken,
}

impl AppState {
    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    fn app(&self) -> &App {
        &self.app
    }
}

/// What the service mounted at `/mcp` is built from. The MCP server is not
/// this module's: whoever composes `serve` builds it (`cli::server`).
pub struct McpMount {
    pub app: Arc<App>,
    pub hub: Arc<Hub>,
    /// Cancelled at shutdown.
    pub shutdown: CancellationToken,
    /// Bound beyond loopback: no Host-header check (the bearer token guards).
    pub any_host: bool,
    /// The watchers' runner, for the watch tools (`None`: watchers are off).
    pub watchers: Option<Arc<crate::watch::Runner>>,
}

/// Serve until SIGINT or SIGTERM, with the router `mcp` builds at `/mcp`.
/// `ready` is told the bound address (the port may have been 0).
pub async fn serve(
    app: App,
    store: Arc<dyn Store>,
    listen: SocketAddr,
    auth: Auth,
    limits: Limits,
    mcp: impl FnOnce(McpMount) -> axum::Router,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let started_at = crate::store::UnixMillis::now();
    let app = Arc::new(app);
    let hub = Arc::new(app.hub(store));
    let worker = hub.spawn_worker(ClaimScope::All);
    // Answers given in the chat, for channels that can take them.
    let replies_poller = crate::ask::spawn_poller(hub.clone(), false);
    let _retention =
        crate::hub::retention::spawn(hub.store().clone(), app.retention, hub.clock().clone());
    let watching = app
        .start_watchers(&hub)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let channels: Vec<_> = hub.channels().iter().map(|c| c.id.clone()).collect();
    let metrics = Arc::new(Metrics::new(&channels));
    {
        let (metrics, live) = (metrics.clone(), hub.subscribe());
        tokio::spawn(async move { metrics.watch(live).await });
    }
    let _hot_load = crate::app::watch_plugins(&app, &hub);
    let mcp = mcp(McpMount {
        app: app.clone(),
        hub: hub.clone(),
        shutdown: shutdown.child_token(),
        any_host: !listen.ip().is_loopback(),
        watchers: watching.as_ref().map(|w| w.runner.clone()),
    });
    let replies = hub.clone();
    let state = AppState {
        app: app.clone(),
        hub,
        metrics,
        watchers: watching.as_ref().map(|w| w.runner.clone()),
        started_at,
        shutdown: shutdown.clone(),
    };
    let router = rest::router()
        .nest_service(
            "/mcp",
            tower_layer::Layer::layer(&axum::middleware::from_fn(mcp_edges), mcp),
        )
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            limits,
            listener::read_body,
        ))
        .layer(axum::middleware::from_fn_with_state(auth, auth::check));
    let socket = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let bound = socket.local_addr()?;
    // Reply links point here unless MCP_PUSH_REPLY_URL says where people
    // reach this server; an address that is every interface says nothing.
    if !bound.ip().is_unspecified() {
        replies.replies().offer_base(format!("http://{bound}"));
    } else if replies.replies().base().is_none() {
        tracing::warn!(
            "questions (ask_user) go without reply links: set MCP_PUSH_REPLY_URL to the \
             address people reach this server at, e.g. https://push.example.org"
        );
    }
    ready(bound);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("shutting down");
        app.cut_plugin_calls(crate::app::SHUTDOWN_GRACE);
        stop.cancel();
    });
    let served = listener::serve(socket, router, limits.fitted_to_descriptors(), shutdown).await;
    // Sends in flight finish (or are cut after the grace) and are recorded;
    // queued ones stay in the outbox.
    replies_poller.finish().await;
    worker.finish().await;
    served?;
    Ok(())
}

async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// What MCP clients expect at the edges of `/mcp`, which the SDK's service
/// answers otherwise: a GET without a session has no stream to open (405,
/// which clients take as "no server-initiated stream", where a 406 made
/// some give up), and nothing lives below `/mcp` (404 for the
/// `/mcp/.well-known/...` discovery probes, not 406).
async fn mcp_edges(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{Method, StatusCode, header};
    use axum::response::IntoResponse;
    let path = req.uri().path();
    if !(path.is_empty() || path == "/") {
        return error::ApiError::not_found(format!(
            "nothing at /mcp{path}: the MCP endpoint is /mcp itself"
        ))
        .into_response();
    }
    if req.method() == Method::GET && !req.headers().contains_key("mcp-session-id") {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST, DELETE")],
            axum::Json(serde_json::json!({
                "error": {
                    "code": "method_not_allowed",
                    "message": "GET /mcp opens a session's event stream: initialize with POST first and send its Mcp-Session-Id"
                }
            })),
        )
            .into_response();
    }
    next.run(req).await
}
