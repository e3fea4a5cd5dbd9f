//! The MCP server (rmcp): the notification tools, the guidelines prompt and the
//! channels resource, over stdio (`mcp-push mcp`) or streamable HTTP (`/mcp` on
//! `mcp-push serve`).

mod ask_tools;
mod framing;
mod guide;
pub(crate) mod tools;
mod watch_tools;

use crate::app::App;
use crate::catalog::Catalog;
use crate::hub::{Hub, Live, ToolPhase};
use crate::notification::RunId;
use crate::ops::{self, OpError};
use crate::store::UnixMillis;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    GetPromptResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, Prompt, PromptMessage,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const CHANNELS_URI: &str = "push://channels";
const RUNS_URI: &str = "push://runs";
const RUN_TEMPLATE: &str = "push://runs/{run_id}";

/// One per process; cheap to clone (every HTTP session gets a clone).
#[derive(Clone)]
pub struct McpServer {
    shared: Arc<Shared>,
}

struct Shared {
    app: Arc<App>,
    hub: Arc<Hub>,
    /// The process's watchers; `None` when they are off (the watch tools
    /// then say why).
    watchers: Option<Arc<crate::watch::Runner>>,
    started_at: UnixMillis,
}

impl McpServer {
    /// The caller runs the hub's delivery worker; the server only submits and reads.
    pub fn new(app: App, hub: Arc<Hub>) -> Self {
        McpServer::shared(Arc::new(app), hub)
    }

    /// [`McpServer::new`] for an app that other front ends use as well.
    pub fn shared(app: Arc<App>, hub: Arc<Hub>) -> Self {
        McpServer {
            shared: Arc::new(Shared {
                app,
                hub,
                watchers: None,
                started_at: UnixMillis::now(),
            }),
        }
    }

    /// Answer the watch tools with `runner` (the caller keeps its task
    /// running for as long as the server serves).
    pub fn with_watchers(self, runner: Option<Arc<crate::watch::Runner>>) -> Self {
        let s = &self.shared;
        McpServer {
            shared: Arc::new(Shared {
                app: s.app.clone(),
                hub: s.hub.clone(),
                watchers: runner,
                started_at: s.started_at,
            }),
        }
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.shared.hub
    }

    pub fn app(&self) -> &App {
        &self.shared.app
    }

    /// Hot load: reload the plugins whenever the plugins directory changes,
    /// and deliver to the channels built from them. Stops when dropped.
    pub fn watch_plugins(&self) -> Option<crate::plugin::PluginsDirWatcher> {
        crate::app::watch_plugins(&self.shared.app, &self.shared.hub)
    }

    /// Serve one client on stdin/stdout until it hangs up. Nothing but
    /// JSON-RPC is written to stdout; logs go to stderr.
    pub async fn serve_stdio(self) -> anyhow::Result<()> {
        let (transport, writer) = framing::StdioFront::new();
        let served = async {
            let running = self
                .serve(transport)
                .await
                .map_err(|e| anyhow::anyhow!("the MCP handshake failed: {e}"))?;
            running.waiting().await?;
            anyhow::Ok(())
        }
        .await;
        // The transport is gone: the writer ends once the last answer is out.
        let _ = writer.await;
        served
    }

    /// The streamable HTTP endpoint, to mount at `/mcp`. `any_host` turns off
    /// the Host-header check that guards a loopback server against DNS
    /// rebinding (a server bound beyond loopback is reached by other names
    /// and is guarded by its bearer token instead).
    pub fn http_service(
        &self,
        shutdown: CancellationToken,
        any_host: bool,
    ) -> StreamableHttpService<McpServer, LocalSessionManager> {
        // No SSE priming event (an empty `data:` with `retry:`): clients of
        // protocols before 2025-11-25 (Gemini CLI with the TypeScript SDK
        // 1.23) parse every event's data as JSON-RPC, fail on it and never
        // list the tools. Priming is only for resuming a stream, which this
        // server does not offer (no event store).
        let mut config = StreamableHttpServerConfig::default()
            .with_cancellation_token(shutdown)
            .with_sse_retry(None);
        if any_host {
            config = config.disable_allowed_hosts();
        }
        // The session layer primes its request streams on its own.
        let mut sessions = LocalSessionManager::default();
        sessions.session_config.sse_retry = None;
        let server = self.clone();
        StreamableHttpService::new(
            move || Ok(server.clone()),
            std::sync::Arc::new(sessions),
            config,
        )
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("mcp-push", env!("CARGO_PKG_VERSION"))
                .with_title("mcp-push notifications"),
        )
        .with_instructions(guide::INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::definitions()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let shared = &self.shared;
        let args = request.arguments.unwrap_or_default();
        let tool = request.name.to_string();
        let shown = mask_arguments(&args);
        let started = std::time::Instant::now();
        shared.hub.publish(Live::ToolExecution {
            tool: tool.clone(),
            phase: ToolPhase::Started,
            arguments: shown.clone(),
            duration_ms: None,
            error: None,
            at: UnixMillis::now(),
        });
        let result = match request.name.as_ref() {
            tools::NOTIFY_SEND => tools::notify_send(&shared.hub, &shared.app, args).await,
            tools::NOTIFY_EVENT => tools::notify_event(&shared.hub, &shared.app, args).await,
            tools::LIST_CHANNELS => tools::list_channels(&shared.app),
            tools::GET_RUN => tools::get_run(&shared.hub, args).await,
            tools::LIST_RUNS => tools::list_runs(&shared.hub, args).await,
            tools::GET_DELIVERIES => tools::get_deliveries(&shared.hub, args).await,
            tools::HUB_STATUS => {
                watch_tools::hub_status(&shared.hub, shared.started_at, args).await
            }
            tools::ASK_USER => ask_tools::ask_user(&shared.hub, args, &context).await,
            tools::ASK_STATUS => ask_tools::ask_status(&shared.hub, args).await,
            tools::ASK_CANCEL => ask_tools::ask_cancel(&shared.hub, args).await,
            tools::WATCH_CREATE
            | tools::WATCH_LIST
            | tools::WATCH_GET
            | tools::WATCH_UPDATE
            | tools::WATCH_PAUSE
            | tools::WATCH_RESUME
            | tools::WATCH_DELETE
            | tools::WATCH_RUN => watch_tools::call(&tool, shared.watchers.as_ref(), args).await,
            other => {
                let message = format!(
                    "unknown tool `{other}` (tools: {})",
                    tools::NAMES.join(", ")
                );
                shared.hub.publish(Live::ToolExecution {
                    tool,
                    phase: ToolPhase::Error,
                    arguments: shown,
                    duration_ms: Some(started.elapsed().as_millis() as u64),
                    error: Some(crate::redact::redact(&message)),
                    at: UnixMillis::now(),
                });
                return Err(ErrorData::invalid_params(message, None));
            }
        };
        let failed = result.is_error == Some(true);
        let error = failed.then(|| {
            result
                .structured_content
                .as_ref()
                .and_then(|s| s.get("error").and_then(|e| e.as_str()).map(String::from))
                .unwrap_or_else(|| {
                    result
                        .content
                        .iter()
                        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        });
        shared.hub.publish(Live::ToolExecution {
            tool,
            phase: if failed {
                ToolPhase::Error
            } else {
                ToolPhase::Success
            },
            arguments: shown,
            duration_ms: Some(started.elapsed().as_millis() as u64),
            error: error.map(|e| crate::redact::redact(&e)),
            at: UnixMillis::now(),
        });
        Ok(result.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(vec![Prompt::new(
            guide::PROMPT_NAME,
            Some(guide::PROMPT_DESCRIPTION),
            None,
        )]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if request.name != guide::PROMPT_NAME {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown prompt `{}` (prompts: {})",
                    request.name,
                    guide::PROMPT_NAME
                ),
                None,
            ));
        }
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, guide::GUIDELINES)])
                .with_description(guide::PROMPT_DESCRIPTION)
                .into(),
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(CHANNELS_URI, "channels")
                .with_title("Channels")
                .with_description(
                    "Configured channels (secrets masked) and the plugins available, as JSON",
                )
                .with_mime_type("application/json"),
            Resource::new(RUNS_URI, "runs")
                .with_title("Runs")
                .with_description(
                    "The 50 newest runs with status, progress and last message, as JSON",
                )
                .with_mime_type("application/json"),
        ]))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(RUN_TEMPLATE, "run")
                .with_title("One run")
                .with_description("A run with its timeline of events and deliveries, as JSON")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.as_str();
        let store = self.shared.hub.store();
        let json = if uri == CHANNELS_URI {
            Catalog::of(&self.shared.app).to_json()
        } else if uri == RUNS_URI {
            let runs = ops::runs::list(store, None, 50, 0)
                .await
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            let runs = serde_json::to_value(&runs).unwrap_or_default();
            crate::redact::redact(&serde_json::to_string_pretty(&runs).unwrap_or_default())
        } else if let Some(run_id) = uri.strip_prefix("push://runs/").filter(|r| !r.is_empty()) {
            // `%2F` and friends in a run id taken from a URI.
            let run_id = percent_encoding::percent_decode_str(run_id)
                .decode_utf8_lossy()
                .into_owned();
            match ops::runs::detail(store, RunId(run_id.clone()), ops::runs::TIMELINE).await {
                Ok(detail) => {
                    let v = serde_json::to_value(&detail).unwrap_or_default();
                    crate::redact::redact(&serde_json::to_string_pretty(&v).unwrap_or_default())
                }
                Err(OpError::NoSuchRun(_)) => {
                    return Err(ErrorData::resource_not_found(
                        format!("no run {run_id:?} (push://runs lists the runs)"),
                        None,
                    ));
                }
                Err(e) => return Err(ErrorData::internal_error(e.to_string(), None)),
            }
        } else {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource {uri} (resources: {CHANNELS_URI}, {RUNS_URI}, {RUN_TEMPLATE})"
                ),
                None,
            ));
        };
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(json, uri).with_mime_type("application/json"),
        ])
        .into())
    }
}

/// Tool arguments as the live stream shows them: registered secrets redacted,
/// the values of fields whose names say they hold a credential masked, and
/// URLs' passwords and secret-looking query values masked.
pub fn mask_arguments(args: &rmcp::model::JsonObject) -> serde_json::Value {
    fn mask(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let lower = k.to_ascii_lowercase();
                        let secret = ["token", "password", "secret", "authorization", "apikey"]
                            .iter()
                            .any(|w| lower.replace(['_', '-'], "").contains(w));
                        let v = if secret && !v.is_null() {
                            Value::String("***".into())
                        } else {
                            mask(v)
                        };
                        (k, v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(mask).collect()),
            // A watcher's URL may carry a password or a token in its query.
            Value::String(s)
                if s.get(..8).is_some_and(|p| {
                    let p = p.to_ascii_lowercase();
                    p.starts_with("http://") || p == "https://"
                }) =>
            {
                Value::String(crate::redact::mask_url(&s))
            }
            other => other,
        }
    }
    crate::redact::redact_json(mask(serde_json::Value::Object(args.clone())))
}
