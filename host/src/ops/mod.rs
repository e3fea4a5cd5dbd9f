//! The operations every front end shares: send a notification or a run's
//! event and wait for its deliveries, read runs, deliveries and events. Each
//! returns a typed result or an [`OpError`]; the MCP tools, the REST API and
//! the CLI turn their own syntax into these calls and only render what comes
//! back. Stops at rendering: nothing here knows JSON-RPC, HTTP statuses or
//! exit codes. Delivery workers are the caller's, except for a process that
//! has none (the CLI): `send::send_alone` runs one for its own event.

pub mod asks;
pub mod deliveries;
mod error;
pub mod events;
pub mod names;
pub mod runs;
pub mod send;
pub mod status;
pub mod watchers;

pub use error::OpError;
