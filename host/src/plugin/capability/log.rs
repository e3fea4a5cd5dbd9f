//! The `log` capability: a plugin's leveled log lines, tagged with the
//! channel, secrets masked, capped in length and in number per call.

use super::context::CallContext;
use crate::plugin::types::cap_text;

/// Log lines one call may write; the rest are counted and dropped.
const MAX_LOG_LINES: u32 = 64;
const MAX_LOG_LINE: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// The `log` capability's part of a call: the lines it has written.
#[derive(Debug, Default)]
pub(crate) struct LogState {
    lines: u32,
}

impl LogState {
    pub(crate) fn log(&mut self, call: &CallContext, level: Level, message: String) {
        self.lines += 1;
        if self.lines > MAX_LOG_LINES {
            if self.lines == MAX_LOG_LINES + 1 {
                tracing::warn!(channel = %call.channel, "plugin log limit reached; dropping further lines");
            }
            return;
        }
        let mut text = call.secrets.describe(&message);
        cap_text(&mut text, MAX_LOG_LINE);
        let channel = &call.channel;
        match level {
            Level::Trace => tracing::trace!(target: "plugin", %channel, "{text}"),
            Level::Debug => tracing::debug!(target: "plugin", %channel, "{text}"),
            Level::Info => tracing::info!(target: "plugin", %channel, "{text}"),
            Level::Warn => tracing::warn!(target: "plugin", %channel, "{text}"),
            Level::Error => tracing::error!(target: "plugin", %channel, "{text}"),
        }
    }
}
