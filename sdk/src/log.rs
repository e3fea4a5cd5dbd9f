//! Log lines, shown by the host with the channel's name (secrets redacted).

pub use crate::bindings::mcp_push::channel::log::Level;

pub fn log(level: Level, message: &str) {
    crate::host::log(level, message)
}

pub fn debug(message: &str) {
    log(Level::Debug, message)
}

pub fn info(message: &str) {
    log(Level::Info, message)
}

pub fn warn(message: &str) {
    log(Level::Warn, message)
}

/// Print `text` on the host's terminal (standard error), secrets masked: the
/// delivery of a console channel, not a log line.
pub fn print(text: &str) {
    crate::host::print(text)
}
