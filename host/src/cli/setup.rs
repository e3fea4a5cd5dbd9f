//! `mcp-push setup claude-code|codex|gemini [--uninstall]`: register the MCP
//! server and the hooks in the agent's own configuration, show what changed.

use super::inline::parse_wait;
use super::output::outln;
use super::{Cli, fail};
use crate::hook::Agent;
use crate::setup::{self, Launcher, Places, Wanted};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    /// The agent to set up
    #[arg(value_enum)]
    agent: Agent,
    /// Take out what setup added (its hooks and its MCP server entry), nothing else
    #[arg(long)]
    uninstall: bool,
    /// Show what would change; write nothing
    #[arg(long)]
    dry_run: bool,
    /// How the agent starts mcp-push, e.g. "uvx mcp-push" or "npx -y mcp-push"
    /// [default: `mcp-push` when that is this program, else this program's path]
    #[arg(long, value_name = "COMMAND")]
    command: Option<String>,
    /// For the hook: tell of a turn only when it took at least this long (2m)
    #[arg(long, value_name = "TIME", value_parser = time_word)]
    min_duration: Option<String>,
    /// For the hook: after a notification, hold the session's next ones this long
    #[arg(long, value_name = "TIME", value_parser = time_word)]
    cooldown: Option<String>,
    /// For the hook: send only to this channel (repeatable)
    #[arg(long = "channel", short = 'c', value_name = "NAME")]
    channels: Vec<String>,
}

/// A time as the user wrote it, checked the way the hook will read it.
fn time_word(s: &str) -> Result<String, String> {
    parse_wait(s).map(|_| s.to_string())
}

pub async fn run(_cli: &Cli, args: &SetupArgs) -> ExitCode {
    let Some(home) = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()) else {
        return fail("no home directory: set HOME");
    };
    let launcher = match &args.command {
        Some(c) => match Launcher::parse(c) {
            Some(l) => l,
            None => return fail("--command is empty; write e.g. --command \"uvx mcp-push\""),
        },
        None => this_program(),
    };
    let mut hook_flags = Vec::new();
    if let Some(t) = &args.min_duration {
        hook_flags.extend(["--min-duration".to_string(), t.clone()]);
    }
    if let Some(t) = &args.cooldown {
        hook_flags.extend(["--cooldown".to_string(), t.clone()]);
    }
    for c in &args.channels {
        hook_flags.extend(["--channel".to_string(), c.clone()]);
    }
    let wanted = Wanted {
        launcher,
        hook_flags,
    };
    let places = Places::from_process(home.clone());
    let edits = match setup::plan(args.agent, &places, &wanted, args.uninstall) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    let mut changed = false;
    for edit in &edits {
        let path = tilde(&edit.path, &home);
        if edit.changes.is_empty() {
            outln!("{path}: nothing to change");
        }
        for change in &edit.changes {
            outln!("{path}: {change}");
        }
        for note in &edit.notes {
            outln!("{path}: {note}");
        }
        if args.dry_run || edit.changes.is_empty() {
            continue;
        }
        changed = true;
        match setup::apply(edit, &stamp) {
            Ok(Some(backup)) => outln!("{path}: the old file is kept as {}", tilde(&backup, &home)),
            Ok(None) => {}
            Err(e) => return fail(&e),
        }
    }
    let agent = args.agent.display();
    if args.dry_run {
        outln!("(--dry-run: nothing was written)");
    } else if !changed {
        outln!(
            "{agent} was {} already.",
            if args.uninstall {
                "without mcp-push"
            } else {
                "set up"
            }
        );
    } else if args.uninstall {
        outln!("mcp-push is out of {agent}'s configuration.");
    } else {
        outln!(
            "{agent} will notify through mcp-push: restart it to load the hooks. Channels come \
             from mcp-push's config file or the environment {agent} runs in \
             (`mcp-push channels` lists them)."
        );
    }
    ExitCode::SUCCESS
}

/// `mcp-push` when the one on PATH is this program, else this program's
/// full path (a copy that `uvx` or `npx` unpacked somewhere is better named
/// with `--command`).
fn this_program() -> Launcher {
    let exe = std::env::current_exe().ok();
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("mcp-push"))
            .find(|p| p.is_file())
    });
    let same = match (&exe, &on_path) {
        (Some(a), Some(b)) => a.canonicalize().ok() == b.canonicalize().ok(),
        _ => false,
    };
    let program = if same || exe.is_none() {
        "mcp-push".to_string()
    } else {
        exe.map(|p| p.display().to_string()).unwrap_or_default()
    };
    Launcher {
        program,
        args: Vec::new(),
    }
}

fn tilde(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) => PathBuf::from("~").join(rest).display().to_string(),
        Err(_) => path.display().to_string(),
    }
}
