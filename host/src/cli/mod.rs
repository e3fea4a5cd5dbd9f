//! The command line: clap commands that call into the hub; nothing else.

mod ask;
mod channel_table;
mod channels;
mod deliveries;
mod event;
mod hook;
mod inline;
mod migrate;
mod outbox;
mod output;
mod plugin;
mod prune;
mod runs;
mod scaffold;
mod send;
mod server;
mod setup;
mod targets;
mod watch;

use crate::app::{App, AppOptions};
use crate::plugin::Compiler;
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Parser, Debug)]
#[command(
    name = "mcp-push",
    version,
    about = "Deliver notifications from agents and scripts to every channel you use",
    after_help = "Channels turn themselves on from the classic notify.py environment names \
                  (WEBHOOK_URL, TG_BOT_TOKEN, ...) or come from the config file. \
                  `mcp-push channels` lists what is available."
)]
pub struct Cli {
    // The four paths read their environment variables in `app_options`, not
    // through clap's `env`: clap counts a value from the environment as
    // given on the command line, and so printed these optional flags in
    // every usage line (`Usage: mcp-push send --db <FILE> <TITLE>`).
    /// Config file [env: MCP_PUSH_CONFIG] [default: the platform config dir's mcp-push/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of third-party plugins (*.wasm) [env: MCP_PUSH_PLUGINS_DIR] [default: the
    /// platform data dir's mcp-push/plugins]
    #[arg(long, global = true, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
    /// Directory for compiled components [env: MCP_PUSH_CACHE_DIR] [default: the platform
    /// cache dir's mcp-push/components]
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// The event store: a SQLite file, or postgres://USER:PASS@HOST/DB for hubs sharing one
    /// PostgreSQL [env: MCP_PUSH_DB] [default: the platform data dir's mcp-push/mcp-push.db]
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug); MCP_PUSH_LOG takes a filter
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Send a message to every configured channel (or the ones named)
    Send(send::SendArgs),
    /// Report a step of a long run: start, update, end or error
    Event(event::EventArgs),
    /// List runs, or show one run's status and timeline
    Runs(runs::RunsArgs),
    /// List deliveries (all, --failed or --pending), newest first
    Deliveries(deliveries::DeliveriesArgs),
    /// Send a failed or waiting delivery again, now
    Retry(deliveries::RetryArgs),
    /// Send every delivery that is due in the outbox (for setups where no
    /// `serve` or `mcp` runs: run it from cron or a systemd timer)
    Flush(outbox::FlushArgs),
    /// Forget what is done and older than the store's window (`serve` and
    /// `mcp` do it by themselves): [store] keep_days, default 30
    Prune(prune::PruneArgs),
    /// Copy a SQLite store (events, runs, deliveries, watchers) into an empty
    /// PostgreSQL database, for hubs sharing one store
    Migrate(migrate::MigrateArgs),
    /// List the plugins found and the channels configured
    Channels(channels::ChannelsArgs),
    /// Run the MCP server on stdin/stdout (for Claude Code, Codex, Gemini CLI)
    Mcp,
    /// One port for MCP (/mcp), REST (/v1), the live stream (/v1/stream), the
    /// dashboard (/), /metrics and /healthz; runs the delivery worker
    Serve(server::ServeArgs),
    /// Third-party channels: new, check, install, remove, list
    Plugin(plugin::PluginArgs),
    /// Notify from an agent's hook: a turn that ended, or the agent waiting
    /// for you (register it with `mcp-push setup`)
    Hook(hook::HookArgs),
    /// Watchers: schedules, web pages, feeds and thresholds that send by
    /// themselves while `serve` or `mcp` runs (add, list, show, edit, pause,
    /// resume, rm, run)
    Watch(Box<watch::WatchArgs>),
    /// Ask the user a question on their channels and wait for the answer:
    /// prints it, exits 0 answered, 4 timed out (printing the default), 5 cancelled
    Ask(ask::AskArgs),
    /// Answer a question asked with `ask` or ask_user
    Answer(ask::AnswerArgs),
    /// Register the MCP server and the hooks in Claude Code's, Codex's or
    /// Gemini CLI's configuration (--uninstall takes them out)
    Setup(setup::SetupArgs),
}

impl Command {
    /// A server sends many times and keeps its compiled plugins; a command
    /// that sends once and exits, on a first run with nothing compiled yet,
    /// would otherwise spend most of its time in the optimizing compiler
    /// (a first `send` 132 ms against 37 with Winch, warm 10.5 either way).
    fn compiler(&self) -> Compiler {
        match self {
            Command::Mcp | Command::Serve(_) => Compiler::Optimizing,
            _ => Compiler::Baseline,
        }
    }
}

/// Exit codes: 0 delivered, 1 a delivery failed, 2 usage or configuration,
/// 3 nothing failed but some deliveries still wait in the outbox.
pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;
pub(crate) const EXIT_QUEUED: u8 = 3;

pub fn main() -> ExitCode {
    // SAFETY: the process has no other thread yet.
    unsafe { crate::store::configure_process() };
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let mut builder = match runtime() {
        Ok(builder) => builder,
        Err(e) => return fail(&e),
    };
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let hook = matches!(cli.command, Command::Hook(_));
    let code = rt.block_on(run(cli));
    if hook {
        // A send cut off by the hook's budget must not hold the agent at exit.
        rt.shutdown_timeout(std::time::Duration::from_millis(100));
    }
    code
}

/// The async runtime: one worker for every two cores (at least one), unless
/// `TOKIO_WORKER_THREADS` sets the count. Beside the workers, the store's
/// writer thread is busy whenever they are; and with a worker per core, each
/// hand-off of a lone request (to the writer and back, to the network and
/// back) woke the other worker as well. On 2 cores, one worker against two:
/// one client waiting for delivery +21 to +28%, 16 clients +10%, 64 clients
/// +2 to +4% (README, `serve_http`).
///
/// The count is read here rather than by tokio, which panics on a bad value.
fn runtime() -> Result<tokio::runtime::Builder, String> {
    let workers = match std::env::var_os("TOKIO_WORKER_THREADS") {
        Some(value) => worker_count(&value.to_string_lossy())?,
        None => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            (cores / 2).max(1)
        }
    };
    let pin = match std::env::var_os("MCP_PUSH_PIN_THREADS") {
        Some(value) => pin_threads(&value.to_string_lossy())?,
        None => true,
    };
    crate::hub::placement::plan(pin);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .enable_all()
        .worker_threads(workers)
        .on_thread_start(crate::hub::placement::thread_starts)
        .on_thread_park(crate::hub::placement::worker_parks);
    Ok(builder)
}

fn pin_threads(value: &str) -> Result<bool, String> {
    match value.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(format!(
            "MCP_PUSH_PIN_THREADS must be 1 (the store's writer on a core of its own, the \
             default) or 0 (every thread where the scheduler puts it), not {value:?}"
        )),
    }
}

fn worker_count(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "TOKIO_WORKER_THREADS must be a whole number above 0, not {value:?}; \
             unset it to use one worker for every two cores"
        )),
    }
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Send(ref args) => send::run(&cli, args).await,
        Command::Event(ref args) => event::run(&cli, args).await,
        Command::Runs(ref args) => runs::run(&cli, args).await,
        Command::Deliveries(ref args) => deliveries::list(&cli, args).await,
        Command::Retry(ref args) => deliveries::retry(&cli, args).await,
        Command::Flush(ref args) => outbox::flush(&cli, args).await,
        Command::Prune(ref args) => prune::run(&cli, args).await,
        Command::Migrate(ref args) => migrate::run(&cli, args).await,
        Command::Channels(ref args) => channels::run(&cli, args).await,
        Command::Mcp => server::mcp(&cli).await,
        Command::Serve(ref args) => server::serve(&cli, args).await,
        Command::Plugin(ref args) => plugin::run(&cli, args).await,
        Command::Hook(ref args) => hook::run(&cli, args).await,
        Command::Setup(ref args) => setup::run(&cli, args).await,
        Command::Watch(ref args) => watch::run(&cli, args).await,
        Command::Ask(ref args) => ask::ask(&cli, args).await,
        Command::Answer(ref args) => ask::answer(&cli, args).await,
    }
}

/// Plugins and configuration loaded, or the reason on stderr (exit 2).
pub(crate) async fn load(cli: &Cli) -> Result<App, ExitCode> {
    App::load(&cli.app_options()).await.map_err(|e| fail(&e))
}

/// The event store without loading plugins (for `runs` and `deliveries`).
pub(crate) fn store_only(cli: &Cli) -> Result<Arc<dyn Store>, ExitCode> {
    App::store_only(&cli.app_options()).map_err(|e| fail(&e))
}

/// [`load`], and the event store opened for a command that exits when done.
pub(crate) async fn load_with_store(cli: &Cli) -> Result<(App, Arc<dyn Store>), ExitCode> {
    let app = load(cli).await?;
    let store = app.open_store_brief().map_err(|e| fail(&e))?;
    Ok((app, store))
}

/// [`load`], and the event store opened for `serve` or `mcp`.
pub(crate) async fn load_with_server_store(cli: &Cli) -> Result<(App, Arc<dyn Store>), ExitCode> {
    let app = load(cli).await?;
    let store = app.open_store().map_err(|e| fail(&e))?;
    Ok((app, store))
}

pub(crate) fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", crate::redact::redact(message));
    ExitCode::from(EXIT_USAGE)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug,wasmtime=info,cranelift=info,hyper_util=info,reqwest=info",
    };
    let filter = std::env::var("MCP_PUSH_LOG").unwrap_or_else(|_| default.to_string());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(crate::redact::RedactingStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let logging = tracing_subscriber::registry();
    // A list of `target=level` needs no regex; `EnvFilter` compiles its
    // directive patterns first thing, a measurable part of a one-shot
    // `send`, so it is kept for the span and field filters only it reads.
    match filter.parse::<Targets>() {
        Ok(targets) => logging.with(fmt.with_filter(targets)).init(),
        Err(_) => logging
            .with(fmt.with_filter(tracing_subscriber::EnvFilter::new(filter)))
            .init(),
    }
}

impl Cli {
    pub(crate) fn app_options(&self) -> AppOptions {
        // The flag, else its environment variable (an empty one is unset).
        let path = |flag: &Option<PathBuf>, env: &str| {
            flag.clone().or_else(|| {
                std::env::var_os(env)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
        };
        AppOptions {
            config: path(&self.config, "MCP_PUSH_CONFIG"),
            plugins_dir: path(&self.plugins_dir, "MCP_PUSH_PLUGINS_DIR"),
            cache_dir: path(&self.cache_dir, "MCP_PUSH_CACHE_DIR"),
            db: path(&self.db, "MCP_PUSH_DB"),
            compiler: self.command.compiler(),
        }
    }
}
