//! Watchers: mcp-push raising events by itself, on a schedule, when a web
//! page or a feed changes, or when a number crosses a level.
//!
//! One module per job, each readable alone: `model` (what a watcher is, and
//! its checks), `schedule` (when), `fetch` (getting a URL without becoming a
//! way into the hub's network), `web`, `feed` and `threshold` (each kind's
//! rule, pure functions of the last memory and the new answer), `template`
//! (titles with the values found), `check` (one check: fetch, then the
//! rule) and `runner` (the task that leases due checks and sends what they
//! found through the hub). Stops at the hub: what a watcher sends is an
//! ordinary event, routed and delivered like any other. The surfaces
//! (MCP tools, CLI, REST) go through `ops::watchers`.

pub mod check;
pub mod feed;
pub mod fetch;
pub mod model;
pub mod runner;
pub mod schedule;
pub mod template;
pub mod threshold;
pub mod web;

pub use check::{Checked, Memory};
pub use fetch::{Fetch, FetchError, Fetched, Fetcher};
pub use model::{Plan, WatchKind, WatchSettings, WatcherSpec};
pub use runner::{CheckReport, Runner, RunnerTask, Watching, start};
pub use schedule::Schedule;
