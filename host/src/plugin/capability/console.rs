//! The `console` capability: for channels whose delivery is a printed
//! message (notify.py's console), the host's standard error, secrets masked
//! and capped per send.

use super::context::CallContext;
use crate::plugin::types::cap_text;
use std::io::Write as _;

/// What one `print` may write.
const MAX_CONSOLE_BYTES: usize = 64 << 10;

/// What one send may write on the console in all its prints: a notification
/// and then some. One send once wrote 2.5 GB in 64 KiB prints.
const MAX_CONSOLE_BYTES_PER_SEND: usize = 256 << 10;
const MAX_CONSOLE_LINES_PER_SEND: usize = 1000;

/// The `console` capability's part of a call: what it has printed so far.
#[derive(Debug, Default)]
pub(crate) struct ConsoleState {
    bytes: usize,
    lines: usize,
    /// The limit was reached and said so.
    full: bool,
}

impl ConsoleState {
    /// `text` as far as this send may still print it, counted; and whether
    /// the limit was reached (the first time only).
    fn admit(&mut self, mut text: String) -> (Option<String>, bool) {
        if self.full {
            return (None, false);
        }
        let left_bytes = MAX_CONSOLE_BYTES_PER_SEND.saturating_sub(self.bytes);
        let left_lines = MAX_CONSOLE_LINES_PER_SEND.saturating_sub(self.lines);
        if let Some((cut, _)) = text.match_indices('\n').nth(left_lines.saturating_sub(1)) {
            text.truncate(cut);
            self.full = true;
        }
        // One byte for the newline `print` adds.
        if text.len() + 1 > left_bytes {
            cap_text(&mut text, left_bytes.saturating_sub(4));
            self.full = true;
        }
        self.bytes += text.len() + 1;
        self.lines += text.lines().count().max(1);
        if self.bytes >= MAX_CONSOLE_BYTES_PER_SEND || self.lines >= MAX_CONSOLE_LINES_PER_SEND {
            self.full = true;
        }
        (Some(text), self.full)
    }
}

impl ConsoleState {
    /// Writes `text` to the host's standard error, secrets masked.
    pub(crate) fn print(&mut self, call: &CallContext, text: String) {
        if self.full {
            return;
        }
        let mut text = call.secrets.describe(&text);
        cap_text(&mut text, MAX_CONSOLE_BYTES);
        let (shown, reached) = self.admit(text);
        let mut out = shown.map(|t| format!("{t}\n")).unwrap_or_default();
        if reached {
            out.push_str(&format!(
                "[mcp-push: console limit reached for channel {} ({} KiB or {} lines a send); \
                 dropping further output]\n",
                call.channel,
                MAX_CONSOLE_BYTES_PER_SEND >> 10,
                MAX_CONSOLE_LINES_PER_SEND
            ));
        }
        // One write, so that concurrent channels do not interleave mid-line.
        let _ = std::io::stderr().write_all(out.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_output_is_capped_per_send_in_bytes_and_lines_once() {
        let mut spent = ConsoleState::default();
        let big = "y".repeat(60 << 10);
        let outs: Vec<_> = (0..10).map(|_| spent.admit(big.clone())).collect();
        let shown: usize = outs
            .iter()
            .filter_map(|(t, _)| t.as_ref())
            .map(|t| t.len() + 1)
            .sum();
        assert!(shown <= MAX_CONSOLE_BYTES_PER_SEND, "{shown}");
        assert!(shown > MAX_CONSOLE_BYTES_PER_SEND - (4 << 10), "{shown}");
        assert_eq!(outs.iter().filter(|(_, r)| *r).count(), 1, "one note");

        let mut spent = ConsoleState::default();
        let (text, reached) = spent.admit("line\n".repeat(5000));
        assert_eq!(text.unwrap().lines().count(), MAX_CONSOLE_LINES_PER_SEND);
        assert!(reached);
        assert_eq!(spent.admit("more".into()), (None, false));

        let mut spent = ConsoleState::default();
        assert_eq!(spent.admit("a\nb".into()), (Some("a\nb".into()), false));
        assert_eq!((spent.bytes, spent.lines), (4, 2));
    }
}
