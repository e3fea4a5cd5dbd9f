//! The agents' own hook formats, read into one [`AgentEvent`].
//!
//! Sources (each agent's documentation):
//! - Claude Code, "Hooks reference" (code.claude.com/docs/en/hooks): JSON on
//!   standard input with `session_id`, `transcript_path`, `cwd`,
//!   `hook_event_name`; `UserPromptSubmit` adds `prompt`; `Stop` and
//!   `SubagentStop` add `stop_hook_active` (and, in recent versions,
//!   `last_assistant_message`); `Notification` adds `message` and
//!   `notification_type` (`permission_prompt`, `idle_prompt`,
//!   `auth_success`, `elicitation_dialog`).
//! - Codex, "Configuration: notify" (github.com/openai/codex docs/config.md):
//!   the program named by `notify` gets one JSON argument,
//!   `{"type": "agent-turn-complete", "thread-id", "turn-id", "cwd",
//!   "input-messages", "last-assistant-message"}`. Codex says nothing when a
//!   turn starts, so its turns have no duration.
//! - Gemini CLI, "Hooks reference" (geminicli.com/docs/hooks/reference): JSON
//!   on standard input with `session_id`, `transcript_path`, `cwd`,
//!   `hook_event_name`, `timestamp`; `BeforeAgent` adds `prompt`;
//!   `AfterAgent` adds `prompt`, `prompt_response`, `stop_hook_active`;
//!   `Notification` adds `notification_type` (`ToolPermission`), `message`,
//!   `details`.
//!
//! Unknown events and fields are not errors: agents add both, and a hook
//! must never break its agent.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    #[value(name = "claude-code")]
    ClaudeCode,
    Codex,
    Gemini,
}

impl Agent {
    pub fn slug(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "Claude Code",
            Agent::Codex => "Codex",
            Agent::Gemini => "Gemini CLI",
        }
    }
}

/// What happened in the agent, whichever agent it was.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    TurnStarted {
        session_id: String,
        cwd: Option<String>,
        prompt: Option<String>,
    },
    TurnEnded {
        session_id: String,
        cwd: Option<String>,
        /// The agent's last reply, when the payload carries it.
        reply: Option<String>,
        /// Another stop hook made the agent go on (`stop_hook_active`).
        continued: bool,
    },
    SubagentEnded {
        session_id: String,
        cwd: Option<String>,
    },
    /// A permission prompt, or the agent idle and waiting for input.
    NeedsYou {
        session_id: String,
        cwd: Option<String>,
        message: String,
        idle: bool,
    },
    /// An event the hook has nothing to say about.
    Ignored { event: String },
}

impl AgentEvent {
    pub fn session_id(&self) -> Option<&str> {
        match self {
            AgentEvent::TurnStarted { session_id, .. }
            | AgentEvent::TurnEnded { session_id, .. }
            | AgentEvent::SubagentEnded { session_id, .. }
            | AgentEvent::NeedsYou { session_id, .. } => Some(session_id),
            AgentEvent::Ignored { .. } => None,
        }
    }

    pub fn cwd(&self) -> Option<&str> {
        match self {
            AgentEvent::TurnStarted { cwd, .. }
            | AgentEvent::TurnEnded { cwd, .. }
            | AgentEvent::SubagentEnded { cwd, .. }
            | AgentEvent::NeedsYou { cwd, .. } => cwd.as_deref(),
            AgentEvent::Ignored { .. } => None,
        }
    }

    /// The reply read from a transcript, for a payload that lacked it.
    pub fn set_reply(&mut self, text: String) {
        if let AgentEvent::TurnEnded { reply, .. } = self {
            *reply = Some(text);
        }
    }

    /// The directory the hook runs in, for a payload that lacked it.
    pub fn set_cwd(&mut self, dir: String) {
        match self {
            AgentEvent::TurnStarted { cwd, .. }
            | AgentEvent::TurnEnded { cwd, .. }
            | AgentEvent::SubagentEnded { cwd, .. }
            | AgentEvent::NeedsYou { cwd, .. } => *cwd = Some(dir),
            AgentEvent::Ignored { .. } => {}
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the {agent} hook input is not JSON ({error}); is this hook registered for {agent}?")]
    NotJson { agent: &'static str, error: String },
    #[error("the {agent} hook input has no {field:?}; is this hook registered for {agent}?")]
    Missing {
        agent: &'static str,
        field: &'static str,
    },
}

/// Claude Code's and Gemini CLI's hook input (the fields either may send).
#[derive(Debug, Deserialize)]
struct HookInput {
    hook_event_name: Option<String>,
    session_id: Option<String>,
    cwd: Option<String>,
    transcript_path: Option<String>,
    prompt: Option<String>,
    #[serde(default)]
    stop_hook_active: bool,
    last_assistant_message: Option<String>,
    prompt_response: Option<String>,
    message: Option<String>,
    notification_type: Option<String>,
}

/// Codex's `notify` argument.
#[derive(Debug, Deserialize)]
struct CodexNotify {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "thread-id")]
    thread_id: Option<String>,
    #[serde(rename = "turn-id")]
    turn_id: Option<String>,
    cwd: Option<String>,
    #[serde(rename = "last-assistant-message")]
    last_assistant_message: Option<String>,
}

/// The event, and the transcript to read the last reply from when the
/// payload does not carry it.
pub fn parse(agent: Agent, input: &str) -> Result<(AgentEvent, Option<String>), PayloadError> {
    let not_json = |e: serde_json::Error| PayloadError::NotJson {
        agent: agent.display(),
        error: e.to_string(),
    };
    if agent == Agent::Codex {
        let n: CodexNotify = serde_json::from_str(input).map_err(not_json)?;
        return Ok((codex(n)?, None));
    }
    let h: HookInput = serde_json::from_str(input).map_err(not_json)?;
    let name = h.hook_event_name.clone().ok_or(PayloadError::Missing {
        agent: agent.display(),
        field: "hook_event_name",
    })?;
    let session_id = h.session_id.clone().unwrap_or_default();
    let cwd = h.cwd.clone();
    let event = match (agent, name.as_str()) {
        (Agent::ClaudeCode, "UserPromptSubmit") | (Agent::Gemini, "BeforeAgent") => {
            AgentEvent::TurnStarted {
                session_id,
                cwd,
                prompt: h.prompt,
            }
        }
        (Agent::ClaudeCode, "Stop") | (Agent::Gemini, "AfterAgent") => AgentEvent::TurnEnded {
            session_id,
            cwd,
            reply: h.last_assistant_message.or(h.prompt_response),
            continued: h.stop_hook_active,
        },
        (Agent::ClaudeCode, "SubagentStop") => AgentEvent::SubagentEnded { session_id, cwd },
        (_, "Notification") => match h.notification_type.as_deref() {
            // A login that worked is nothing to be woken for.
            Some("auth_success") => AgentEvent::Ignored { event: name },
            kind => AgentEvent::NeedsYou {
                session_id,
                cwd,
                message: h.message.unwrap_or_default(),
                idle: kind == Some("idle_prompt"),
            },
        },
        _ => AgentEvent::Ignored { event: name },
    };
    let transcript = match &event {
        AgentEvent::TurnEnded { reply: None, .. } => h.transcript_path,
        _ => None,
    };
    Ok((event, transcript))
}

fn codex(n: CodexNotify) -> Result<AgentEvent, PayloadError> {
    let kind = n.kind.ok_or(PayloadError::Missing {
        agent: Agent::Codex.display(),
        field: "type",
    })?;
    if kind != "agent-turn-complete" {
        return Ok(AgentEvent::Ignored { event: kind });
    }
    // A thread is Codex's session; each turn has an id of its own.
    let session_id = n.thread_id.or(n.turn_id).unwrap_or_default();
    Ok(AgentEvent::TurnEnded {
        session_id,
        cwd: n.cwd,
        reply: n.last_assistant_message,
        continued: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded in the shape each agent's documentation gives.
    const CLAUDE_PROMPT: &str = r#"{"session_id":"abc123","transcript_path":"/home/me/.claude/projects/x/abc123.jsonl","cwd":"/home/me/shop","permission_mode":"default","hook_event_name":"UserPromptSubmit","prompt":"Write a function to calculate the factorial"}"#;
    const CLAUDE_STOP: &str = r#"{"session_id":"abc123","transcript_path":"/t.jsonl","cwd":"/home/me/shop","permission_mode":"default","hook_event_name":"Stop","stop_hook_active":false}"#;
    const CLAUDE_NOTIFY: &str = r#"{"session_id":"abc123","transcript_path":"/t.jsonl","cwd":"/home/me/shop","hook_event_name":"Notification","message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}"#;
    const CODEX: &str = r#"{"type":"agent-turn-complete","thread-id":"b5f6c1c2-1111-2222-3333-444455556666","turn-id":"12345","cwd":"/Users/me/api","input-messages":["Rename `foo` to `bar` and update the callsites."],"last-assistant-message":"Rename complete and verified `cargo build` succeeds."}"#;
    const GEMINI_AFTER: &str = r#"{"session_id":"g1","transcript_path":"/g.json","cwd":"/w/site","hook_event_name":"AfterAgent","timestamp":"2026-12-02T10:00:00Z","prompt":"fix css","prompt_response":"Done: the header is centred.","stop_hook_active":false}"#;

    #[test]
    fn claude_code_events() {
        let (e, t) = parse(Agent::ClaudeCode, CLAUDE_PROMPT).unwrap();
        assert!(
            matches!(e, AgentEvent::TurnStarted { ref prompt, .. } if prompt.as_deref() == Some("Write a function to calculate the factorial"))
        );
        assert_eq!(t, None);
        let (e, t) = parse(Agent::ClaudeCode, CLAUDE_STOP).unwrap();
        assert!(matches!(
            e,
            AgentEvent::TurnEnded {
                reply: None,
                continued: false,
                ..
            }
        ));
        assert_eq!(
            t.as_deref(),
            Some("/t.jsonl"),
            "no reply given: read the transcript"
        );
        let (e, _) = parse(Agent::ClaudeCode, CLAUDE_NOTIFY).unwrap();
        assert_eq!(
            e,
            AgentEvent::NeedsYou {
                session_id: "abc123".into(),
                cwd: Some("/home/me/shop".into()),
                message: "Claude needs your permission to use Bash".into(),
                idle: false
            }
        );
        let with_reply = CLAUDE_STOP.replace(
            "\"stop_hook_active\":false",
            "\"stop_hook_active\":true,\"last_assistant_message\":\"All green.\"",
        );
        let (e, t) = parse(Agent::ClaudeCode, &with_reply).unwrap();
        assert!(
            matches!(e, AgentEvent::TurnEnded { ref reply, continued: true, .. } if reply.as_deref() == Some("All green."))
        );
        assert_eq!(t, None);
    }

    #[test]
    fn codex_turns_end_with_their_reply() {
        let (e, _) = parse(Agent::Codex, CODEX).unwrap();
        assert_eq!(
            e,
            AgentEvent::TurnEnded {
                session_id: "b5f6c1c2-1111-2222-3333-444455556666".into(),
                cwd: Some("/Users/me/api".into()),
                reply: Some("Rename complete and verified `cargo build` succeeds.".into()),
                continued: false
            }
        );
        let (e, _) = parse(Agent::Codex, r#"{"type":"something-new"}"#).unwrap();
        assert_eq!(
            e,
            AgentEvent::Ignored {
                event: "something-new".into()
            }
        );
    }

    #[test]
    fn gemini_events() {
        let (e, _) = parse(Agent::Gemini, GEMINI_AFTER).unwrap();
        assert!(
            matches!(e, AgentEvent::TurnEnded { ref reply, .. } if reply.as_deref() == Some("Done: the header is centred."))
        );
        let before = GEMINI_AFTER.replace("AfterAgent", "BeforeAgent");
        assert!(matches!(
            parse(Agent::Gemini, &before).unwrap().0,
            AgentEvent::TurnStarted { .. }
        ));
    }

    #[test]
    fn unknown_events_are_ignored_and_bad_input_is_named() {
        let pre = CLAUDE_STOP.replace("\"Stop\"", "\"PreToolUse\"");
        assert_eq!(
            parse(Agent::ClaudeCode, &pre).unwrap().0,
            AgentEvent::Ignored {
                event: "PreToolUse".into()
            }
        );
        let auth = CLAUDE_NOTIFY.replace("permission_prompt", "auth_success");
        assert!(matches!(
            parse(Agent::ClaudeCode, &auth).unwrap().0,
            AgentEvent::Ignored { .. }
        ));
        let err = parse(Agent::ClaudeCode, "not json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not JSON") && err.contains("Claude Code"),
            "{err}"
        );
        let err = parse(Agent::Gemini, "{}").unwrap_err().to_string();
        assert!(err.contains("hook_event_name"), "{err}");
    }
}
