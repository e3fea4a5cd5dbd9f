//! `mcp-push mcp` (stdio) and `mcp-push serve` (HTTP): long-running processes.

use super::{Cli, fail};
use crate::http::{self, Auth};
use crate::mcp::McpServer;
use crate::store::ClaimScope;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT (`localhost:8787`, `0.0.0.0:8787`, `[::1]:8787`).
    /// Beyond loopback, MCP_PUSH_TOKEN must be set and clients must send it as
    /// `Authorization: Bearer <token>`
    #[arg(long, value_name = "ADDR", default_value = http::DEFAULT_LISTEN)]
    listen: String,
    /// Seconds a client may take to send a request's headers; also how long
    /// an idle keep-alive connection stays open
    #[arg(long, value_name = "SECS", env = "MCP_PUSH_HEADER_TIMEOUT",
          default_value_t = http::HEADER_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a client may take to send a request's body
    #[arg(long, value_name = "SECS", env = "MCP_PUSH_BODY_TIMEOUT",
          default_value_t = http::BODY_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Connections open at once; more are closed as soon as they arrive
    #[arg(long, value_name = "N", env = "MCP_PUSH_MAX_CONNECTIONS",
          default_value_t = http::MAX_CONNECTIONS, value_parser = clap::value_parser!(u64).range(1..1_000_000))]
    max_connections: u64,
}

impl ServeArgs {
    fn limits(&self) -> http::Limits {
        http::Limits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout),
            body_timeout: std::time::Duration::from_secs(self.body_timeout),
            max_connections: self.max_connections as usize,
        }
    }
}

pub async fn mcp(cli: &Cli) -> ExitCode {
    let (app, store) = match super::load_with_server_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    tracing::info!(
        channels = app.loaded().config.channels.len(),
        "MCP server on stdio (JSON-RPC on stdout, logs on stderr)"
    );
    let hub = Arc::new(app.hub(store));
    let worker = hub.spawn_worker(ClaimScope::All);
    // Answers given in the chat, for channels that can take them.
    let replies = crate::ask::spawn_poller(hub.clone(), false);
    let _retention =
        crate::hub::retention::spawn(hub.store().clone(), app.retention, hub.clock().clone());
    // Kept for the server's life: dropping it stops the watchers' task.
    let watching = match app.start_watchers(&hub).await {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    let server =
        McpServer::new(app, hub).with_watchers(watching.as_ref().map(|w| w.runner.clone()));
    let hot_load = server.watch_plugins();
    let served = server.serve_stdio().await;
    // The client hung up: sends in flight finish and are recorded; what is
    // still due later stays in the outbox for the next mcp-push.
    drop(hot_load);
    drop(watching);
    replies.finish().await;
    worker.finish().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

pub async fn serve(cli: &Cli, args: &ServeArgs) -> ExitCode {
    let listen = match resolve(&args.listen).await {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let token = std::env::var("MCP_PUSH_TOKEN").ok();
    // Checked before anything loads, so a refused start is quick and clear.
    // (The refusal never quotes the token.)
    let auth = match Auth::for_listen(listen, token.clone()) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    crate::redact::register(token);
    let (app, store) = match super::load_with_server_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let channels = app.loaded().config.channels.len();
    let required = auth.required();
    let mcp = |m: http::McpMount| {
        let server = McpServer::shared(m.app, m.hub).with_watchers(m.watchers);
        axum::Router::new().fallback_service(server.http_service(m.shutdown, m.any_host))
    };
    let result = http::serve(app, store, listen, auth, args.limits(), mcp, |addr| {
        // On stderr, always: scripts and tests wait for this line.
        eprintln!(
            "mcp-push serve: listening on http://{addr} (dashboard http://{addr}/, MCP /mcp, \
             REST /v1, stream /v1/stream, /metrics; {channels} channel{}; bearer token {})",
            if channels == 1 { "" } else { "s" },
            if required {
                "required"
            } else {
                "not required on loopback"
            }
        );
    })
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

/// `--listen`: an address as it is, or a host name looked up (the first
/// address it has; `localhost` is loopback either way).
async fn resolve(listen: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let hint = "write HOST:PORT, e.g. --listen localhost:8787 or --listen 0.0.0.0:8787";
    if listen
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        return Err(format!("--listen {listen:?}: no port; {hint}"));
    }
    let mut found = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| format!("--listen {listen:?}: cannot resolve the host ({e}); {hint}"))?;
    found
        .next()
        .ok_or_else(|| format!("--listen {listen:?}: the host has no address; {hint}"))
}
