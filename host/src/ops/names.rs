//! The operations' names as agents call them (the MCP tools), kept apart
//! from the MCP server so that `/metrics` can label tool calls without
//! depending on it.

pub const NOTIFY_SEND: &str = "notify_send";
pub const NOTIFY_EVENT: &str = "notify_event";
pub const LIST_CHANNELS: &str = "list_channels";
pub const GET_RUN: &str = "get_run";
pub const LIST_RUNS: &str = "list_runs";
pub const GET_DELIVERIES: &str = "get_deliveries";
pub const NAMES: [&str; 6] = [
    NOTIFY_SEND,
    NOTIFY_EVENT,
    LIST_CHANNELS,
    GET_RUN,
    LIST_RUNS,
    GET_DELIVERIES,
];
