//! Codex: `~/.codex/config.toml` (`$CODEX_HOME`) names one `notify` program,
//! which gets each turn's JSON as its last argument, and lists MCP servers as
//! `[mcp_servers.<name>]` with `command` and `args` ("Configuration",
//! github.com/openai/codex docs/config.md). The file is edited with
//! toml_edit, so the user's comments and layout stay.

use super::{Edited, Wanted, is_our_server};
use crate::hook::Agent;
use toml_edit::{Array, DocumentMut, Item, Table, value};

pub(super) fn config(text: &str, wanted: &Wanted, uninstall: bool) -> Result<Edited, String> {
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| format!("not valid TOML ({})", e.to_string().trim()))?;
    let (mut changes, mut notes) = (Vec::new(), Vec::new());

    let mut hook = vec!["hook", Agent::Codex.slug()];
    hook.extend(wanted.hook_flags.iter().map(String::as_str));
    let notify: Vec<String> = std::iter::once(wanted.launcher.program.clone())
        .chain(wanted.launcher.argv(&hook))
        .collect();
    let current = doc.get("notify").map(strings);
    let current_is_ours = current.as_ref().is_some_and(|words| {
        words.iter().any(|w| w.contains("mcp-push"))
            && words.windows(2).any(|w| w[0] == "hook" && w[1] == "codex")
    });
    match (uninstall, current) {
        (false, None) => {
            doc.insert("notify", value(array(&notify)));
            changes.push(format!("notify runs `{}`", notify.join(" ")));
        }
        (false, Some(words)) if current_is_ours && words != notify => {
            doc.insert("notify", value(array(&notify)));
            changes.push(format!("notify runs `{}`", notify.join(" ")));
        }
        (false, Some(words)) if !current_is_ours => notes.push(format!(
            "Codex runs one notify program and it is `{}` already: left as it is. To keep \
             it and notify too, have it also run `mcp-push hook codex \"$JSON\"` with the \
             JSON argument it gets",
            words.join(" ")
        )),
        (true, Some(_)) if current_is_ours => {
            doc.remove("notify");
            changes.push("removed notify".to_string());
        }
        _ => {}
    }

    let servers = doc
        .entry("mcp_servers")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_like_mut()
        .ok_or("mcp_servers is not a table")?;
    let existing: Option<(String, Vec<String>)> = servers.get("mcp-push").map(|s| {
        let command = s
            .get("command")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string();
        let args = s.get("args").map(strings).unwrap_or_default();
        (command, args)
    });
    let args = wanted.launcher.argv(&["mcp"]);
    match (uninstall, existing) {
        (false, None) => {
            let mut t = Table::new();
            t.insert("command", value(wanted.launcher.program.as_str()));
            t.insert("args", value(array(&args)));
            servers.insert("mcp-push", Item::Table(t));
            changes.push(format!(
                "added the MCP server \"mcp-push\" ({} {})",
                wanted.launcher.program,
                args.join(" ")
            ));
        }
        (false, Some((c, a))) if (c.as_str(), &a) != (wanted.launcher.program.as_str(), &args) => {
            notes.push(format!(
                "an MCP server named \"mcp-push\" is registered already ({c} {}): kept as it is",
                a.join(" ")
            ))
        }
        (true, Some((c, a))) if is_our_server(&c, &a) => {
            servers.remove("mcp-push");
            changes.push("removed the MCP server \"mcp-push\"".to_string());
        }
        _ => {}
    }
    if doc
        .get("mcp_servers")
        .and_then(Item::as_table_like)
        .is_some_and(|t| t.is_empty())
    {
        doc.remove("mcp_servers");
    }
    Ok(Edited {
        text: doc.to_string(),
        changes,
        notes,
    })
}

fn strings(item: &Item) -> Vec<String> {
    item.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn array(words: &[String]) -> Array {
    words.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::Launcher;

    fn wanted() -> Wanted {
        Wanted {
            launcher: Launcher::parse("mcp-push").unwrap(),
            hook_flags: vec![],
        }
    }

    const CONFIG: &str = r#"# my codex settings
model = "gpt-5-codex"

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-server"]  # keep this comment
"#;

    #[test]
    fn notify_and_server_are_added_beside_the_users_settings_and_taken_out_again() {
        let first = config(CONFIG, &wanted(), false).unwrap();
        assert_eq!(first.changes.len(), 2, "{:?}", first.changes);
        assert!(first.text.starts_with("# my codex settings\nmodel = \"gpt-5-codex\"\nnotify = [\"mcp-push\", \"hook\", \"codex\"]\n"), "{}", first.text);
        assert!(
            first
                .text
                .contains("args = [\"-y\", \"docs-server\"]  # keep this comment")
        );
        assert!(
            first
                .text
                .contains("[mcp_servers.mcp-push]\ncommand = \"mcp-push\"\nargs = [\"mcp\"]\n"),
            "{}",
            first.text
        );
        let parsed: toml::Table = toml::from_str(&first.text).unwrap();
        assert_eq!(
            parsed["mcp_servers"]["docs"]["command"].as_str(),
            Some("npx")
        );

        let second = config(&first.text, &wanted(), false).unwrap();
        assert!(second.changes.is_empty(), "{:?}", second.changes);
        assert_eq!(second.text, first.text);

        let removed = config(&first.text, &wanted(), true).unwrap();
        assert_eq!(removed.text, CONFIG);
    }

    #[test]
    fn another_notify_program_is_kept_and_named() {
        let other = "notify = [\"python3\", \"/home/me/notify.py\"]\n";
        let out = config(other, &wanted(), false).unwrap();
        assert!(out.text.starts_with(other));
        assert!(
            out.notes[0].contains("python3 /home/me/notify.py"),
            "{:?}",
            out.notes
        );
        let out = config(other, &wanted(), true).unwrap();
        assert_eq!(out.text, other);
        assert!(
            config("x = [", &wanted(), false)
                .unwrap_err()
                .contains("not valid TOML")
        );
    }

    #[test]
    fn an_empty_file_gets_both() {
        let out = config("", &wanted(), false).unwrap();
        assert_eq!(
            out.text,
            "notify = [\"mcp-push\", \"hook\", \"codex\"]\n\n[mcp_servers.mcp-push]\ncommand = \"mcp-push\"\nargs = [\"mcp\"]\n"
        );
        assert_eq!(config(&out.text, &wanted(), true).unwrap().text, "");
    }
}
