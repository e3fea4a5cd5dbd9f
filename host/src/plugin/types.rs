//! The plugin module's shared vocabulary: the limits and options a runtime
//! is built with, and what goes in and out of a call in the host's terms.
//! It imports nothing from its siblings, so that the runtime, the engine, the
//! keeper, the sandbox and the capabilities can all use it without importing
//! each other.

use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// What one call into a plugin may use, and what all calls at once may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: usize,
    pub deadline: Duration,
    pub max_fetches: u32,
    pub max_response_bytes: usize,
    /// Guest memory of every call at once, process-wide.
    pub memory_budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 32 << 20,
            deadline: Duration::from_secs(15),
            max_fetches: mcp_push_policy::budget::DEFAULT_REQUESTS,
            max_response_bytes: 1 << 20,
            // 16 sends at their full 32 MiB; ordinary sends use 1-2 MiB each,
            // so hundreds still fit.
            memory_budget_bytes: 512 << 20,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    pub limits: Limits,
    /// Where compiled components are kept; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// How a plugin with no compiled copy at hand is compiled.
    pub compiler: Compiler,
}

/// Which of wasmtime's compilers turns a plugin into machine code, when
/// neither the executable nor the compile cache holds it compiled already.
/// The sandbox is the engine's and the same for both (memory limits,
/// epoch deadlines, the allowed hosts); only compile time and code speed
/// differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Compiler {
    /// Cranelift: optimized code, for a process that sends many times
    /// (`serve`, `mcp`): the webhook plugin in about 115 ms on 2 cores.
    #[default]
    Optimizing,
    /// Winch, wasmtime's baseline compiler: the same plugin in about 22 ms,
    /// for a command that sends once and exits, whose first run would
    /// otherwise wait mostly for the compiler. Its code is slower, but a
    /// send computes for microseconds. Where Winch does not run (it compiles
    /// for x86_64 only), Cranelift is used.
    Baseline,
}

impl Compiler {
    /// The compiler's own name, for logs and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Optimizing => "Cranelift",
            Compiler::Baseline => "Winch",
        }
    }
}

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum PluginSource {
    Bundled,
    File(PathBuf),
}

impl std::fmt::Display for PluginSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginSource::Bundled => f.write_str("bundled"),
            PluginSource::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

/// One setting of a channel instance, as the host holds it (real values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingValue {
    pub key: String,
    pub value: String,
    pub secret: bool,
}

/// Proof of a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub remote_id: Option<String>,
}

/// Cut `text` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn cap_text(text: &mut String, max: usize) {
    if text.len() > max {
        let cut = (0..=max)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
}

/// A question as a replying channel's `ask` gets it (see `wit/replies.wit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatQuestion {
    pub ask_id: String,
    pub title: String,
    /// The question with how to answer and its reply link, plain text.
    pub text: String,
    pub choices: Vec<String>,
    pub link: Option<String>,
}

/// An answer given in the chat, as the channel read it (its text already
/// masked: it came from the component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    pub ask_id: String,
    pub answer: String,
    /// Which of the question's choices (from 0), when the service says.
    pub choice: Option<u32>,
    /// Who answered, as the service names them.
    pub from: String,
}

/// What one `poll-replies` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    pub replies: Vec<ChatReply>,
    /// Where the next poll starts; `None`: where this one did.
    pub cursor: Option<String>,
    /// Updates the channel passed over, each with why, for the log.
    pub ignored: Vec<String>,
}
