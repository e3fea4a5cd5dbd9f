//! The operations' names as agents call them (the MCP tools), kept apart
//! from the MCP server so that `/metrics` can label tool calls without
//! depending on it.

pub const NOTIFY_SEND: &str = "notify_send";
pub const NOTIFY_EVENT: &str = "notify_event";
pub const LIST_CHANNELS: &str = "list_channels";
pub const GET_RUN: &str = "get_run";
pub const LIST_RUNS: &str = "list_runs";
pub const GET_DELIVERIES: &str = "get_deliveries";
pub const WATCH_CREATE: &str = "watch_create";
pub const WATCH_LIST: &str = "watch_list";
pub const WATCH_GET: &str = "watch_get";
pub const WATCH_UPDATE: &str = "watch_update";
pub const WATCH_PAUSE: &str = "watch_pause";
pub const WATCH_RESUME: &str = "watch_resume";
pub const WATCH_DELETE: &str = "watch_delete";
pub const WATCH_RUN: &str = "watch_run";
pub const HUB_STATUS: &str = "hub_status";
pub const ASK_USER: &str = "ask_user";
pub const ASK_STATUS: &str = "ask_status";
pub const ASK_CANCEL: &str = "ask_cancel";
pub const NAMES: [&str; 18] = [
    NOTIFY_SEND,
    NOTIFY_EVENT,
    LIST_CHANNELS,
    GET_RUN,
    LIST_RUNS,
    GET_DELIVERIES,
    WATCH_CREATE,
    WATCH_LIST,
    WATCH_GET,
    WATCH_UPDATE,
    WATCH_PAUSE,
    WATCH_RESUME,
    WATCH_DELETE,
    WATCH_RUN,
    HUB_STATUS,
    ASK_USER,
    ASK_STATUS,
    ASK_CANCEL,
];
