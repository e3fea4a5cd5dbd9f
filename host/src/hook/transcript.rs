//! The agent's last reply, read from Claude Code's transcript when the Stop
//! payload does not carry it (versions before `last_assistant_message`).
//!
//! The transcript is JSON Lines; an assistant entry looks like
//! `{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"…"}]}}`.
//! Only the file's tail is read: a long session's transcript runs to many
//! megabytes, and a hook must stay quick.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const TAIL: u64 = 256 * 1024;

/// The text of the last assistant entry that has text, if any.
pub fn last_assistant_text(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(TAIL).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // Past the start of the file, the first line is likely cut: skip it.
    let lines = text.lines().skip(usize::from(start > 0));
    lines
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find_map(assistant_text)
}

fn assistant_text(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("type")?.as_str()? != "assistant" {
        return None;
    }
    let content = v.get("message")?.get("content")?;
    let text = match content {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(|t| t.as_str()) == Some("text"))
            .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_assistant_text_wins_and_tool_calls_are_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let lines = [
            r#"{"type":"user","message":{"role":"user","content":"fix it"}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Looking."}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Fixed the test."},{"type":"text","text":"All green."}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}}]}}"#,
            "{broken",
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        assert_eq!(
            last_assistant_text(&path).as_deref(),
            Some("Fixed the test.\nAll green.")
        );
        assert_eq!(last_assistant_text(&dir.path().join("missing")), None);
    }

    #[test]
    fn only_the_tail_of_a_long_transcript_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let filler = format!(
            "{{\"type\":\"user\",\"message\":{{\"content\":\"{}\"}}}}\n",
            "x".repeat(1000)
        );
        let mut text = String::from(
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"early"}]}}"#,
        );
        text.push('\n');
        text.push_str(&filler.repeat(400));
        std::fs::write(&path, &text).unwrap();
        assert_eq!(
            last_assistant_text(&path),
            None,
            "the early reply is past the tail"
        );
    }
}
