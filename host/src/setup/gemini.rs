//! Gemini CLI: `~/.gemini/settings.json` holds both the MCP server
//! (`mcpServers.<name>.command/args`, "MCP servers with the Gemini CLI",
//! geminicli.com/docs/tools/mcp-server) and the hooks ("Hooks reference",
//! geminicli.com/docs/hooks/reference: `hooks.<Event>` lists definitions of
//! `{matcher, hooks: [{type, command, name, timeout}]}`, timeout in
//! milliseconds).

use super::json_doc::Doc;
use super::{Edited, Wanted, json_entries};
use crate::hook::Agent;
use serde_json::json;

const EVENTS: [&str; 3] = ["BeforeAgent", "AfterAgent", "Notification"];

const TIMEOUT_MS: u64 = 15_000;

pub(super) fn settings(text: &str, wanted: &Wanted, uninstall: bool) -> Result<Edited, String> {
    let mut doc = Doc::parse(text)?;
    let (mut changes, mut notes) = (Vec::new(), Vec::new());
    let entry = json!({
        "command": wanted.launcher.program,
        "args": wanted.launcher.argv(&["mcp"]),
    });
    json_entries::server(&mut doc, entry, uninstall, &mut changes, &mut notes)?;
    let group = json!({
        "hooks": [{
            "name": "mcp-push",
            "type": "command",
            "command": wanted.hook_command(Agent::Gemini),
            "timeout": TIMEOUT_MS,
        }]
    });
    json_entries::hooks(
        &mut doc,
        Agent::Gemini,
        &EVENTS,
        &group,
        uninstall,
        &mut changes,
    )?;
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

    #[test]
    fn server_and_hooks_in_one_file_and_out_again() {
        let wanted = Wanted {
            launcher: Launcher::parse("npx -y mcp-push").unwrap(),
            hook_flags: vec!["--cooldown".into(), "5m".into()],
        };
        let before = "{\n  \"theme\": \"GitHub\",\n  \"mcpServers\": {\n    \"fs\": {\"command\": \"npx\", \"args\": [\"fs-server\"]}\n  }\n}\n";
        let first = settings(before, &wanted, false).unwrap();
        let v: serde_json::Value = serde_json::from_str(&first.text).unwrap();
        assert_eq!(
            v["mcpServers"]["mcp-push"],
            json!({"command": "npx", "args": ["-y", "mcp-push", "mcp"]})
        );
        assert_eq!(v["mcpServers"]["fs"]["args"][0], "fs-server");
        assert_eq!(
            v["hooks"]["AfterAgent"][0]["hooks"][0]["command"],
            "npx -y mcp-push hook gemini --cooldown 5m"
        );
        assert_eq!(v["hooks"]["AfterAgent"][0]["hooks"][0]["timeout"], 15000);
        assert_eq!(first.changes.len(), 2);
        assert!(
            settings(&first.text, &wanted, false)
                .unwrap()
                .changes
                .is_empty()
        );
        assert_eq!(settings(&first.text, &wanted, true).unwrap().text, before);
    }
}
