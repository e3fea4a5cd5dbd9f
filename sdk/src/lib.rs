//! # mcp-push-sdk
//!
//! Everything a channel author needs to turn "send this message" into a request
//! to one service, compiled to a `wasm32-wasip2` component that mcp-push loads
//! at run time.
//!
//! ```ignore
//! use mcp_push_sdk::prelude::*;
//!
//! struct Echo;
//!
//! impl Channel for Echo {
//!     fn info() -> ChannelInfo {
//!         ChannelInfo::new("echo", "Echo", env!("CARGO_PKG_VERSION"), "Posts JSON to example.com")
//!             .setting(Setting::new("token", "API token").env(&["ECHO_TOKEN"]).required().secret())
//!             .allow_host("api.example.com")
//!     }
//!
//!     fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
//!         let token = settings.require("token")?;
//!         Request::post("https://api.example.com/send")
//!             .bearer(token)
//!             .json(&json!({ "title": msg.title, "text": msg.body }))
//!             .send()?
//!             .error_for_status()?;
//!         Ok(Receipt::none())
//!     }
//! }
//!
//! export_channel!(Echo);
//! ```
//!
//! The host never hands the component a secret's value: `settings.require("token")`
//! returns an opaque placeholder, which the host swaps for the value in requests
//! to the allowed hosts and inside [`crypto::hmac_sha256`]. Build and send it as
//! you would the real value; never transform it (base64, hashing) yourself.

pub mod bindings {
    //! The raw WIT bindings (package `mcp-push:channel@0.1.0`). Prefer the
    //! wrappers in the crate root.
    wit_bindgen::generate!({
        // `sdk/wit` links to the workspace's `wit/`, so the SDK carries the
        // contract wherever it is used from (a path dependency, a package).
        path: "wit",
        world: "shaped-plugin",
        pub_export_macro: true,
        default_bindings_module: "mcp_push_sdk::bindings",
        export_macro_name: "export",
        additional_derives: [PartialEq],
    });
}

pub mod aws;
pub mod cache;
pub mod crypto;
pub mod delivery;
pub mod desktop;
pub mod encode;
mod host;
pub mod http;
mod info;
pub mod keys;
pub mod log;
pub mod mail;
pub mod markdown;
pub mod mqtt;
pub mod oauth2;
pub mod priority;
pub mod replies;
pub mod reply;
pub mod secrets;
mod settings;
pub mod sms;
pub mod template;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod text;
pub mod url;

pub use bindings::mcp_push::channel::types::{
    ChannelInfo, EventKind, Format, Message, Priority, Receipt, RunEvent, SendError, Setting,
};
pub use http::{Request, Response};
pub use serde_json::{self, json};
pub use settings::Settings;

/// The WIT package version this SDK builds components for.
pub const WIT_VERSION: &str = "0.1.0";

/// One channel: what it is ([`Channel::info`]), how its one-line URL reads
/// ([`Channel::parse_url`]) and how it sends ([`Channel::send`]).
pub trait Channel {
    fn info() -> ChannelInfo;

    /// Turn a one-line URL (a scheme listed in `info().schemes`) into settings.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        Err(format!(
            "this channel has no one-line URL form (got {url:?})"
        ))
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError>;

    /// What the host may look at in the values of secret settings, and what
    /// it hands over in clear (see [`secrets::Shape`]). Most channels need
    /// none: a secret used whole reaches them as one placeholder.
    fn shapes() -> Vec<secrets::Shape> {
        Vec::new()
    }
}

/// Export a type implementing [`Channel`] as the component's `channel` interface.
///
/// `export_channel!(Type, replies)` also exports the optional `replies`
/// interface, for a type implementing [`replies::Replies`]: the host then
/// asks questions with its `ask` and polls for answers given in the chat.
#[macro_export]
macro_rules! export_channel {
    ($ty:ty, replies) => {
        $crate::export_channel!($ty);

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __McpPushReplies;

            impl $crate::replies::bindings::exports::mcp_push::channel::replies::Guest
                for __McpPushReplies
            {
                fn ask(
                    settings: Vec<(String, String)>,
                    q: $crate::replies::Question,
                ) -> Result<$crate::replies::Asked, $crate::SendError> {
                    <$ty as $crate::replies::Replies>::ask(&$crate::Settings::from(settings), &q)
                }

                fn poll_replies(
                    settings: Vec<(String, String)>,
                    cursor: Option<String>,
                ) -> Result<$crate::replies::Polled, $crate::SendError> {
                    <$ty as $crate::replies::Replies>::poll_replies(
                        &$crate::Settings::from(settings),
                        cursor.as_deref(),
                    )
                }
            }

            $crate::replies::bindings::export!(
                __McpPushReplies with_types_in $crate::replies::bindings
            );
        };

        /// The channel's reply entry points in a native build, for tests.
        #[cfg(not(target_arch = "wasm32"))]
        #[doc(hidden)]
        pub fn __mcp_push_replies() -> $crate::replies::NativeReplies {
            $crate::replies::NativeReplies {
                ask: <$ty as $crate::replies::Replies>::ask,
                poll_replies: <$ty as $crate::replies::Replies>::poll_replies,
            }
        }
    };
    ($ty:ty) => {
        // Only a component has exports; a native build (the author's unit
        // tests) keeps the type and skips symbols no native linker accepts.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __McpPushExport;

            impl $crate::bindings::exports::mcp_push::channel::channel::Guest for __McpPushExport {
                fn info() -> $crate::ChannelInfo {
                    <$ty as $crate::Channel>::info()
                }

                fn parse_url(url: String) -> Result<Vec<(String, String)>, String> {
                    <$ty as $crate::Channel>::parse_url(&url)
                }

                fn send(
                    settings: Vec<(String, String)>,
                    msg: $crate::Message,
                ) -> Result<$crate::Receipt, $crate::SendError> {
                    <$ty as $crate::Channel>::send(&$crate::Settings::from(settings), &msg)
                }
            }

            impl $crate::bindings::exports::mcp_push::channel::shapes::Guest for __McpPushExport {
                fn shapes() -> Vec<$crate::secrets::Shape> {
                    <$ty as $crate::Channel>::shapes()
                }
            }

    $crate::bindings::export!(__McpPushExport with_types_in $crate::bindings);
        };

        /// The channel's entry points in a native build, for tests.
        #[cfg(not(target_arch = "wasm32"))]
        #[doc(hidden)]
        pub fn __mcp_push_channel() -> $crate::NativeChannel {
            $crate::NativeChannel {
                info: <$ty as $crate::Channel>::info,
                parse_url: <$ty as $crate::Channel>::parse_url,
                send: <$ty as $crate::Channel>::send,
                shapes: <$ty as $crate::Channel>::shapes,
            }
        }
    };
}

/// Settings as key/value pairs, as `parse-url` returns them.
pub type Pairs = Vec<(String, String)>;

/// A channel's functions in a native build (what [`export_channel!`] gives
/// tests instead of component exports).
#[doc(hidden)]
pub struct NativeChannel {
    pub info: fn() -> ChannelInfo,
    pub parse_url: fn(&str) -> Result<Pairs, String>,
    pub send: fn(&Settings, &Message) -> Result<Receipt, SendError>,
    pub shapes: fn() -> Vec<secrets::Shape>,
}

/// `use mcp_push_sdk::prelude::*;` brings in what a channel file usually needs.
pub mod prelude {
    pub use crate::encode::{form_encode, url_encode};
    pub use crate::reply::{Check, Expect, id_at};
    pub use crate::secrets::Shape;
    pub use crate::template::{Escape, fill};
    pub use crate::text::{Bold, CUT_MARKER, Limit, heading, join_title, split, truncate};
    pub use crate::url::{OneLine, Pairs, refusal};
    pub use crate::{
        Channel, ChannelInfo, EventKind, Format, Message, Priority, Receipt, Request, Response,
        SendError, Setting, Settings, cache, delivery, export_channel, json,
    };
}

impl Receipt {
    /// Sent, and the service gave no id worth keeping.
    pub fn none() -> Self {
        Receipt { remote_id: None }
    }

    /// Sent; `id` lets a later update of the same run edit this message.
    pub fn id(id: impl Into<String>) -> Self {
        Receipt {
            remote_id: Some(id.into()),
        }
    }

    /// Sent, with the id when there is one.
    pub fn maybe(id: Option<String>) -> Self {
        Receipt { remote_id: id }
    }

    /// Sent; the id is the reply's value at `path` (dotted, see
    /// [`reply::lookup`]), if it has one.
    pub fn from_reply(reply: &serde_json::Value, path: &str) -> Self {
        Receipt::maybe(reply::id_at(reply, path))
    }
}
