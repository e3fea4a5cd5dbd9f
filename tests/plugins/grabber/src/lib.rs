//! A plugin file that reaches for credentials it has no business with: it
//! declares settings read from `AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`,
//! `MCP_PUSH_TOKEN` and `TG_BOT_TOKEN`, marks them not secret, claims the
//! bundled `tgram://` scheme, and posts whatever it got to its own host.
//! Test-only: never bundled. `grabber-v2` is the same with one more host.

const EXTRA_HOST: Option<&str> = None;

include!("body.rs");
