//! The two entries Claude Code and Gemini CLI share a shape for: an MCP
//! server under `mcpServers`, and hook groups under `hooks.<Event>`
//! (`[{"matcher": …, "hooks": [{"type": "command", "command": …}]}]`).

use super::json_doc::{Doc, Node};
use super::{is_our_hook, is_our_server};
use crate::hook::Agent;
use serde_json::Value;

/// The server's name in the agent's list.
pub const SERVER: &str = "mcp-push";

/// Register `entry` as the `mcp-push` server, unless one is there already
/// (the user's own, with the environment it needs, is kept); or take ours out.
pub fn server(
    doc: &mut Doc,
    entry: Value,
    uninstall: bool,
    changes: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let mut servers = doc.object("mcpServers")?;
    let existing = servers.get(SERVER);
    let ours = existing.as_ref().is_some_and(|v| {
        let command = v.get("command").and_then(Value::as_str).unwrap_or("");
        let args: Vec<String> = v
            .get("args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        is_our_server(command, &args)
    });
    match (uninstall, existing) {
        (false, None) => {
            let line = describe_server(&entry);
            servers.set(SERVER, Node::New(entry));
            doc.set("mcpServers", Node::Obj(servers));
            changes.push(format!("added the MCP server \"{SERVER}\" ({line})"));
        }
        (false, Some(v)) if v != entry => notes.push(format!(
            "an MCP server named \"{SERVER}\" is registered already ({}): kept as it is",
            describe_server(&v)
        )),
        (false, Some(_)) | (true, None) => {}
        (true, Some(v)) if !ours => notes.push(format!(
            "the MCP server \"{SERVER}\" ({}) does not run mcp-push: left alone",
            describe_server(&v)
        )),
        (true, Some(_)) => {
            servers.remove(SERVER);
            if servers.is_empty() {
                doc.remove("mcpServers");
            } else {
                doc.set("mcpServers", Node::Obj(servers));
            }
            changes.push(format!("removed the MCP server \"{SERVER}\""));
        }
    }
    Ok(())
}

fn describe_server(v: &Value) -> String {
    let mut words = vec![
        v.get("command")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
    ];
    if let Some(args) = v.get("args").and_then(Value::as_array) {
        words.extend(args.iter().filter_map(|a| a.as_str().map(String::from)));
    }
    words.join(" ")
}

/// Put `group` under each of `events` (replacing an older group of ours,
/// keeping everyone else's); with `uninstall`, take every hook of ours out
/// of every event.
pub fn hooks(
    doc: &mut Doc,
    agent: Agent,
    events: &[&str],
    group: &Value,
    uninstall: bool,
    changes: &mut Vec<String>,
) -> Result<(), String> {
    let mut all = doc.object("hooks")?;
    let names = if uninstall {
        all.keys()
    } else {
        events.iter().map(|e| e.to_string()).collect()
    };
    let mut touched = Vec::new();
    for event in names {
        let mut list = all.list(&event).map_err(|e| format!("hooks: {e}"))?;
        let before = list.len();
        let mine: Vec<usize> = (0..list.len())
            .filter(|&i| has_ours(&list[i].value(), agent))
            .collect();
        if uninstall {
            let mut changed = false;
            for &i in mine.iter().rev() {
                match without_ours(list[i].value(), agent) {
                    Some(rest) => list[i] = Node::New(rest),
                    None => {
                        list.remove(i);
                    }
                }
                changed = true;
            }
            if !changed {
                continue;
            }
            if list.is_empty() {
                all.remove(&event);
            } else {
                all.set(&event, Node::List(list));
            }
        } else {
            if mine.len() == 1 && list[mine[0]].value() == *group {
                continue;
            }
            // One group of ours, where the first one was (or at the end).
            let at = mine.first().copied().unwrap_or(before);
            for &i in mine.iter().rev() {
                list.remove(i);
            }
            list.insert(at.min(list.len()), Node::New(group.clone()));
            all.set(&event, Node::List(list));
        }
        touched.push(event);
    }
    if touched.is_empty() {
        return Ok(());
    }
    if all.is_empty() {
        doc.remove("hooks");
    } else {
        doc.set("hooks", Node::Obj(all));
    }
    changes.push(if uninstall {
        format!("removed the hooks {}", touched.join(", "))
    } else {
        format!(
            "hooks {} run `{}`",
            touched.join(", "),
            group["hooks"][0]["command"].as_str().unwrap_or("")
        )
    });
    Ok(())
}

fn commands(group: &Value) -> impl Iterator<Item = &str> {
    group
        .get("hooks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| h.get("command").and_then(Value::as_str))
}

fn has_ours(group: &Value, agent: Agent) -> bool {
    commands(group).any(|c| is_our_hook(c, agent))
}

/// The group with our hooks taken out; `None` when nothing else is left.
fn without_ours(mut group: Value, agent: Agent) -> Option<Value> {
    let hooks = group.get_mut("hooks")?.as_array_mut()?;
    hooks.retain(|h| {
        !h.get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| is_our_hook(c, agent))
    });
    (!hooks.is_empty()).then_some(group)
}
