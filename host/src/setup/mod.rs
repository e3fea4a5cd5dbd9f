//! `mcp-push setup`: register the MCP server and the hooks in an agent's own
//! configuration files, idempotently, and take exactly that out again.
//!
//! Each agent's editor is a pure function from a file's text to its new text
//! and the list of changes; [`apply`] does the file work (a backup of what
//! was there, an atomic replace). Our entries are known by what they run (a
//! command that runs `mcp-push … hook <agent>` or `mcp-push … mcp`), so a
//! second run changes nothing and `--uninstall` leaves everything else.

mod claude_code;
mod codex;
mod gemini;
mod json_doc;
mod json_entries;

use crate::hook::Agent;
use std::path::{Path, PathBuf};

/// How the agent starts mcp-push: `mcp-push`, an absolute path, or a
/// launcher such as `uvx mcp-push`.
#[derive(Debug, Clone, PartialEq)]
pub struct Launcher {
    pub program: String,
    pub args: Vec<String>,
}

impl Launcher {
    /// `uvx mcp-push` → program `uvx`, args `["mcp-push"]`.
    pub fn parse(command: &str) -> Option<Launcher> {
        let mut words = command.split_whitespace().map(String::from);
        Some(Launcher {
            program: words.next()?,
            args: words.collect(),
        })
    }

    /// The argument list of a run with `more` after the launcher's own.
    pub fn argv(&self, more: &[&str]) -> Vec<String> {
        self.args
            .iter()
            .cloned()
            .chain(more.iter().map(|s| s.to_string()))
            .collect()
    }

    /// A shell command line (hooks run through a shell), quoted as needed.
    pub fn shell(&self, more: &[&str]) -> String {
        std::iter::once(self.program.clone())
            .chain(self.argv(more))
            .map(|w| shell_quote(&w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What to register.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub launcher: Launcher,
    /// Flags for the hook command (`--min-duration 2m`, `-c phone`).
    pub hook_flags: Vec<String>,
}

impl Wanted {
    /// `mcp-push hook <agent> [flags]`, as a shell command.
    fn hook_command(&self, agent: Agent) -> String {
        let mut more = vec!["hook", agent.slug()];
        more.extend(self.hook_flags.iter().map(String::as_str));
        self.launcher.shell(&more)
    }
}

/// Whether a command line is one of ours for `agent`'s hook.
fn is_our_hook(command: &str, agent: Agent) -> bool {
    command.contains("mcp-push") && command.contains(&format!(" hook {}", agent.slug()))
}

/// Whether an MCP server entry (`command` + `args`) runs `mcp-push … mcp`.
fn is_our_server(command: &str, args: &[String]) -> bool {
    let all: Vec<&str> = std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect();
    all.iter().any(|w| w.contains("mcp-push")) && all.last() == Some(&"mcp")
}

/// One configuration file's change.
#[derive(Debug)]
pub struct Edit {
    pub path: PathBuf,
    /// The file as it was (`None`: it did not exist).
    pub before: Option<String>,
    pub after: String,
    /// What changed, in words; empty when nothing did.
    pub changes: Vec<String>,
    /// What was left alone on purpose, and why.
    pub notes: Vec<String>,
}

/// What one editor makes of a file's text.
#[derive(Debug)]
struct Edited {
    text: String,
    changes: Vec<String>,
    notes: Vec<String>,
}

/// Where an agent keeps its configuration, from the environment it would
/// read (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`, `GEMINI_CLI_HOME`, `HOME`).
pub struct Places {
    pub home: PathBuf,
    pub env: fn(&str) -> Option<String>,
}

impl Places {
    pub fn from_process(home: PathBuf) -> Places {
        Places {
            home,
            env: |name| std::env::var(name).ok().filter(|v| !v.is_empty()),
        }
    }

    fn files(&self, agent: Agent) -> Vec<PathBuf> {
        let env = |name: &str| (self.env)(name).map(PathBuf::from);
        match agent {
            Agent::ClaudeCode => match env("CLAUDE_CONFIG_DIR") {
                Some(dir) => vec![dir.join("settings.json"), dir.join(".claude.json")],
                None => vec![
                    self.home.join(".claude/settings.json"),
                    self.home.join(".claude.json"),
                ],
            },
            Agent::Codex => vec![
                env("CODEX_HOME")
                    .unwrap_or_else(|| self.home.join(".codex"))
                    .join("config.toml"),
            ],
            Agent::Gemini => vec![
                env("GEMINI_CLI_HOME")
                    .unwrap_or_else(|| self.home.clone())
                    .join(".gemini/settings.json"),
            ],
        }
    }
}

/// The edits `setup` (or `setup --uninstall`) makes for `agent`, read from
/// the files as they are now; nothing is written.
pub fn plan(
    agent: Agent,
    places: &Places,
    wanted: &Wanted,
    uninstall: bool,
) -> Result<Vec<Edit>, String> {
    places
        .files(agent)
        .into_iter()
        .enumerate()
        .map(|(i, path)| {
            let before = read(&path)?;
            let text = before.as_deref().unwrap_or("");
            let edited = match (agent, i) {
                (Agent::ClaudeCode, 0) => claude_code::hooks(text, wanted, uninstall),
                (Agent::ClaudeCode, _) => claude_code::server(text, wanted, uninstall),
                (Agent::Codex, _) => codex::config(text, wanted, uninstall),
                (Agent::Gemini, _) => gemini::settings(text, wanted, uninstall),
            }
            .map_err(|e| {
                format!(
                    "{}: {e}; fix or move the file, then run setup again (nothing was changed)",
                    path.display()
                )
            })?;
            Ok(Edit {
                path,
                before,
                after: edited.text,
                changes: edited.changes,
                notes: edited.notes,
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Write an edit that changes something: the old file is copied to
/// `<name>.<time>.mcp-push.bak` first, and the new one replaces it whole.
/// Returns the backup's path.
pub fn apply(edit: &Edit, stamp: &str) -> Result<Option<PathBuf>, String> {
    if edit.changes.is_empty() {
        return Ok(None);
    }
    let fail =
        |what: &str, e: std::io::Error| format!("cannot {what} {}: {e}", edit.path.display());
    if let Some(dir) = edit.path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of", e))?;
    }
    let backup = match &edit.before {
        Some(_) => {
            let name = edit.path.file_name().unwrap_or_default().to_string_lossy();
            let backup = edit
                .path
                .with_file_name(format!("{name}.{stamp}.mcp-push.bak"));
            // A copy keeps the original's permissions (~/.claude.json is private).
            std::fs::copy(&edit.path, &backup).map_err(|e| fail("back up", e))?;
            Some(backup)
        }
        None => None,
    };
    let tmp = edit.path.with_extension("mcp-push.tmp");
    std::fs::write(&tmp, &edit.after).map_err(|e| fail("write", e))?;
    if let Ok(meta) = std::fs::metadata(&edit.path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, &edit.path).map_err(|e| fail("replace", e))?;
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launchers_and_quoting() {
        let l = Launcher::parse("uvx mcp-push").unwrap();
        assert_eq!(l.shell(&["hook", "codex"]), "uvx mcp-push hook codex");
        assert_eq!(l.argv(&["mcp"]), ["mcp-push", "mcp"]);
        let l = Launcher::parse("/opt/my tools/mcp-push").unwrap();
        assert_eq!(l.program, "/opt/my");
        let l = Launcher {
            program: "/opt/my tools/mcp-push".into(),
            args: vec![],
        };
        assert_eq!(l.shell(&["mcp"]), "'/opt/my tools/mcp-push' mcp");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert!(Launcher::parse("  ").is_none());
    }

    #[test]
    fn ours_is_known_by_what_it_runs() {
        assert!(is_our_hook(
            "mcp-push hook claude-code --min-duration 2m",
            Agent::ClaudeCode
        ));
        assert!(is_our_hook("'/x/mcp-push' hook gemini", Agent::Gemini));
        assert!(!is_our_hook("mcp-push hook gemini", Agent::ClaudeCode));
        assert!(!is_our_hook("notify-send done", Agent::ClaudeCode));
        assert!(is_our_server("uvx", &["mcp-push".into(), "mcp".into()]));
        assert!(is_our_server("/usr/bin/mcp-push", &["mcp".into()]));
        assert!(!is_our_server("npx", &["other-server".into()]));
    }
}
