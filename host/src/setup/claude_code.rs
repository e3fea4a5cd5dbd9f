//! Claude Code: hooks in `~/.claude/settings.json` ("Hooks reference",
//! code.claude.com/docs/en/hooks: `hooks.<Event>` lists matcher groups, a
//! command hook's `timeout` is in seconds) and the MCP server in
//! `~/.claude.json`'s `mcpServers`, where `claude mcp add --scope user`
//! writes it (both under `$CLAUDE_CONFIG_DIR` when that is set).

use super::json_doc::Doc;
use super::{Edited, Wanted, json_entries};
use crate::hook::Agent;
use serde_json::json;

/// The events the hook tells of (see hook/payload.rs).
const EVENTS: [&str; 4] = ["UserPromptSubmit", "Stop", "SubagentStop", "Notification"];

/// Seconds Claude Code gives the hook: the hook's own budget is 5 s.
const TIMEOUT_S: u64 = 15;

pub(super) fn hooks(text: &str, wanted: &Wanted, uninstall: bool) -> Result<Edited, String> {
    let mut doc = Doc::parse(text)?;
    let mut changes = Vec::new();
    let group = json!({
        "hooks": [{
            "type": "command",
            "command": wanted.hook_command(Agent::ClaudeCode),
            "timeout": TIMEOUT_S,
        }]
    });
    json_entries::hooks(
        &mut doc,
        Agent::ClaudeCode,
        &EVENTS,
        &group,
        uninstall,
        &mut changes,
    )?;
    Ok(Edited {
        text: doc.to_text(),
        changes,
        notes: Vec::new(),
    })
}

pub(super) fn server(text: &str, wanted: &Wanted, uninstall: bool) -> Result<Edited, String> {
    let mut doc = Doc::parse(text)?;
    let (mut changes, mut notes) = (Vec::new(), Vec::new());
    let entry = json!({
        "type": "stdio",
        "command": wanted.launcher.program,
        "args": wanted.launcher.argv(&["mcp"]),
        "env": {},
    });
    json_entries::server(&mut doc, entry, uninstall, &mut changes, &mut notes)?;
    Ok(Edited {
        text: doc.to_text(),
        changes,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::Launcher;

    fn wanted(flags: &[&str]) -> Wanted {
        Wanted {
            launcher: Launcher::parse("mcp-push").unwrap(),
            hook_flags: flags.iter().map(|f| f.to_string()).collect(),
        }
    }

    const SETTINGS: &str = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "afplay /System/Library/Sounds/Glass.aiff"
          }
        ]
      }
    ],
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [{"type": "command", "command": "./check.sh"}]
      }
    ]
  },
  "permissions": {"allow": ["Bash(npm test)"]}
}
"#;

    #[test]
    fn setup_adds_its_hooks_beside_the_users_and_a_second_run_changes_nothing() {
        let first = hooks(SETTINGS, &wanted(&[]), false).unwrap();
        assert_eq!(first.changes.len(), 1, "{:?}", first.changes);
        let v: serde_json::Value = serde_json::from_str(&first.text).unwrap();
        assert_eq!(v["model"], "opus");
        assert_eq!(v["permissions"]["allow"][0], "Bash(npm test)");
        assert_eq!(v["hooks"]["PreToolUse"][0]["matcher"], "Bash");
        let stop = v["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2);
        assert_eq!(
            stop[0]["hooks"][0]["command"],
            "afplay /System/Library/Sounds/Glass.aiff"
        );
        assert_eq!(stop[1]["hooks"][0]["command"], "mcp-push hook claude-code");
        assert_eq!(stop[1]["hooks"][0]["timeout"], 15);
        for e in EVENTS {
            assert!(v["hooks"][e].as_array().is_some(), "{e}");
        }
        // The user's lines keep their text: the old file is a prefix-wise subset.
        assert!(first.text.starts_with("{\n  \"model\": \"opus\",\n  \"hooks\": {\n    \"Stop\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\","));
        assert!(
            first
                .text
                .contains("\"hooks\": [{\"type\": \"command\", \"command\": \"./check.sh\"}]")
        );

        let second = hooks(&first.text, &wanted(&[]), false).unwrap();
        assert!(second.changes.is_empty(), "{:?}", second.changes);
        assert_eq!(second.text, first.text);

        // New flags replace our group in place, not beside it.
        let third = hooks(&first.text, &wanted(&["--min-duration", "2m"]), false).unwrap();
        let v: serde_json::Value = serde_json::from_str(&third.text).unwrap();
        let stop = v["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2);
        assert_eq!(
            stop[1]["hooks"][0]["command"],
            "mcp-push hook claude-code --min-duration 2m"
        );

        let removed = hooks(&third.text, &wanted(&[]), true).unwrap();
        assert_eq!(
            removed.text, SETTINGS,
            "uninstall gives the file back as it was"
        );
    }

    #[test]
    fn the_server_is_added_once_and_a_users_own_entry_is_kept() {
        let empty = server("", &wanted(&[]), false).unwrap();
        let v: serde_json::Value = serde_json::from_str(&empty.text).unwrap();
        assert_eq!(
            v["mcpServers"]["mcp-push"],
            json!({"type": "stdio", "command": "mcp-push", "args": ["mcp"], "env": {}})
        );
        assert!(
            server(&empty.text, &wanted(&[]), false)
                .unwrap()
                .changes
                .is_empty()
        );
        let own = r#"{"numStartups": 4, "mcpServers": {"mcp-push": {"command": "mcp-push", "args": ["mcp"], "env": {"TG_BOT_TOKEN": "x"}}}}"#;
        let kept = server(own, &wanted(&[]), false).unwrap();
        assert!(kept.changes.is_empty());
        assert!(kept.notes[0].contains("kept as it is"), "{:?}", kept.notes);
        let gone = server(&empty.text, &wanted(&[]), true).unwrap();
        assert_eq!(gone.text, "{}\n");
        let other =
            r#"{"mcpServers": {"mcp-push": {"command": "npx", "args": ["something-else"]}}}"#;
        let left = server(other, &wanted(&[]), true).unwrap();
        assert!(left.changes.is_empty() && left.notes[0].contains("left alone"));
    }

    #[test]
    fn a_broken_file_is_refused() {
        assert!(hooks("{\"hooks\": ", &wanted(&[]), false).is_err());
        assert!(
            hooks("{\"hooks\": []}", &wanted(&[]), false)
                .unwrap_err()
                .contains("not an object")
        );
    }
}
