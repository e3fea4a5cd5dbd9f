//! `mcp-push hook claude-code|codex|gemini`: an agent's hook notifies by itself.
//!
//! A hook must never slow or break its agent: it records the notification,
//! makes one attempt within `--budget`, leaves a retry to the next mcp-push
//! process, prints nothing on standard output (Claude Code adds a prompt
//! hook's output to the model's context; Gemini CLI reads it as JSON), and
//! always exits 0, with a line on standard error when something went wrong.

use super::Cli;
use super::inline::{self, parse_wait};
use super::outbox::Along;
use crate::app::App;
use crate::hook::{self, Agent, Quiet, SessionStore};
use crate::hub::{Report, Submission};
use crate::redact::redact;
use crate::store::{DeliveryState, Location, Source, UnixMillis};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// More than any hook payload; a runaway pipe is cut here.
const MAX_INPUT: u64 = 4 * 1024 * 1024;

/// Deliveries waiting in the outbox a hook takes along: few, to stay quick.
const ALONG: usize = 4;

#[derive(clap::Args, Debug)]
pub struct HookArgs {
    /// The agent that runs this hook
    #[arg(value_enum)]
    pub agent: Agent,
    /// Codex passes its event as the last argument; Claude Code and Gemini
    /// CLI write it on standard input
    #[arg(value_name = "JSON")]
    pub payload: Option<String>,
    /// Tell of a turn only when it took at least this long, measured from the
    /// prompt (90s, 2m; Codex says nothing when a turn starts, so not for codex)
    #[arg(long, value_name = "TIME", default_value = "0", value_parser = parse_wait)]
    pub min_duration: Duration,
    /// After a notification, hold the same session's next ones for this long
    #[arg(long, value_name = "TIME", default_value = "0", value_parser = parse_wait)]
    pub cooldown: Duration,
    /// Send only to this channel (repeatable)
    #[arg(long = "channel", short = 'c', value_name = "NAME")]
    pub channels: Vec<String>,
    /// The longest the hook keeps the agent waiting; what is not sent by then
    /// waits in the outbox for the next mcp-push
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = parse_wait)]
    pub budget: Duration,
}

pub async fn run(cli: &Cli, args: &HookArgs) -> ExitCode {
    let who = args.agent.slug();
    match tokio::time::timeout(args.budget, handle(cli, args)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("mcp-push hook {who}: {}", redact(&e)),
        Err(_) => eprintln!(
            "mcp-push hook {who}: not delivered within --budget {:?}; it waits in the outbox \
             for the next mcp-push (send, flush, mcp or serve)",
            args.budget
        ),
    }
    if args.agent == Agent::Gemini {
        // Gemini CLI parses a hook's standard output as JSON: nothing to decide.
        println!("{{}}");
    }
    ExitCode::SUCCESS
}

async fn handle(cli: &Cli, args: &HookArgs) -> Result<(), String> {
    let input = match &args.payload {
        Some(p) => p.clone(),
        None => read_stdin().map_err(|e| format!("cannot read the hook input: {e}"))?,
    };
    let (mut event, transcript) = hook::parse(args.agent, &input).map_err(|e| e.to_string())?;
    let Some(session_id) = event.session_id().map(String::from) else {
        return Ok(());
    };
    if let Some(text) = transcript.and_then(|t| hook::last_assistant_text(Path::new(&t))) {
        event.set_reply(text);
    }
    // Claude Code runs hooks in the project's directory; older Stop payloads
    // carry no `cwd`.
    if event.cwd().is_none()
        && let Ok(dir) = std::env::current_dir()
    {
        event.set_cwd(dir.display().to_string());
    }
    let options = cli.app_options();
    let sessions = SessionStore::new(hooks_dir(options.db.clone())?.join(args.agent.slug()));
    let quiet = Quiet {
        min_duration: args.min_duration,
        cooldown: args.cooldown,
    };
    let before = sessions.load(&session_id);
    let (outgoing, after) = hook::plan(args.agent, &event, before, quiet, UnixMillis::now());
    // Saved before sending: a send cut short by the budget must not lose
    // when the turn began.
    sessions
        .save(&session_id, &after)
        .map_err(|e| format!("cannot keep the session's state: {e}"))?;
    if outgoing.is_empty() {
        return Ok(());
    }
    let app = App::load(&options).await?;
    super::targets::warm_up(&app, None, &args.channels);
    let store = app.open_store_brief()?;
    let along = Along::start(&app, store.clone(), ALONG).await;
    let mut problems = Vec::new();
    for o in outgoing {
        let title = o.notification.title.clone();
        let sub = Submission {
            notification: o.notification,
            source: Source::Cli,
            watcher: None,
            only: args.channels.clone(),
            idempotency_key: None,
            hold: o.hold,
        };
        // One attempt; a retry is the outbox's.
        match inline::deliver(&app, store.clone(), sub, None, Duration::ZERO).await {
            Ok(report) => problems.extend(trouble(&title, &report)),
            // inline::deliver has said why on standard error.
            Err(_) => problems.push(format!("{title:?} was not recorded")),
        }
    }
    along.finish().await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// A line for each delivery that did not go out (held ones are on purpose).
fn trouble(title: &str, report: &Report) -> Vec<String> {
    let Report::Delivered { outcomes, .. } = report else {
        return match report {
            Report::StoreFailed(e) => vec![format!("{title:?}: {e}")],
            _ => Vec::new(),
        };
    };
    outcomes
        .iter()
        .filter(|o| matches!(o.state, DeliveryState::Failed | DeliveryState::Pending))
        .map(|o| {
            let why = o.error.as_deref().unwrap_or("not sent yet");
            let what = if o.state == DeliveryState::Failed {
                "failed"
            } else {
                "waits in the outbox"
            };
            format!("{title:?} to {}: {what} ({why})", o.channel)
        })
        .collect()
}

/// Session files live beside the event store, in `hooks/`.
/// (With the store on a PostgreSQL server, in the platform data dir.)
fn hooks_dir(db: Option<PathBuf>) -> Result<PathBuf, String> {
    let dir = Location::resolve(db).and_then(|at| at.local_dir()).ok_or(
        "no place for the hook's state: there is no home or data directory; set MCP_PUSH_DB",
    )?;
    Ok(dir.join("hooks"))
}

fn read_stdin() -> std::io::Result<String> {
    let mut s = String::new();
    std::io::stdin().take(MAX_INPUT).read_to_string(&mut s)?;
    Ok(s)
}
