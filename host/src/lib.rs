//! mcp-push: a notification hub for AI agents and scripts.
//!
//! Data flows one way: a [`notification::Notification`] comes in through the
//! [`cli`], the [`hub`] routes it to the channel instances that [`config`] built,
//! and each instance's [`plugin`] (a sandboxed WebAssembly component) sends it.

pub mod app;
pub mod ask;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod hook;
pub(crate) mod html;
pub mod http;
pub mod hub;
pub mod mcp;
pub mod model;
pub mod notification;
pub mod ops;
pub mod plugin;
pub mod redact;
pub mod setup;
pub mod store;
pub mod watch;
