//! The host capabilities a component imports (`http`, `mail`, `secrets`,
//! `console`, `crypto`, `log`, `delivery`, `cache`, `desktop`, `keys`, `mqtt`), each in its own module,
//! written on the host's own types and owning its part of a call's state.
//! No WIT type is named here: each WIT version (see `plugin::wit`) converts
//! its types to these and delegates.

pub(crate) mod cache;
pub(crate) mod console;
pub(crate) mod context;
pub(crate) mod crypto;
pub(crate) mod delivery;
pub(crate) mod desktop;
pub(crate) mod http;
pub(crate) mod keys;
pub(crate) mod log;
pub(crate) mod mail;
pub(crate) mod mqtt;
pub(crate) mod secrets;

use crate::plugin::allow::AllowList;
use crate::plugin::secrets::Secrets;
use crate::plugin::types::Limits;
use std::sync::Arc;
use std::time::Instant;

use context::CallContext;

/// What the capabilities work with during one call: what they share, and
/// each one's own part. The store's data holds one (`sandbox::SendState`),
/// replaced for every call.
pub(crate) struct HostState {
    pub call: CallContext,
    pub http: http::HttpState,
    pub secrets: secrets::SecretsState,
    pub console: console::ConsoleState,
    pub log: log::LogState,
    pub delivery: delivery::DeliveryState,
    pub cache: cache::CacheState,
    pub keys: keys::KeysState,
}

impl HostState {
    /// The state of a call for `channel`, its deadline starting now.
    pub(crate) fn new(
        client: &reqwest::Client,
        limits: Limits,
        channel: &str,
        allow: Arc<AllowList>,
        secrets: Secrets,
    ) -> Self {
        HostState {
            call: CallContext {
                channel: channel.to_string(),
                allow,
                secrets,
                limits,
                deadline: Instant::now() + limits.deadline,
                requests: 0,
                reserved: None,
            },
            http: http::HttpState {
                client: client.clone(),
            },
            secrets: Default::default(),
            console: Default::default(),
            log: Default::default(),
            delivery: Default::default(),
            cache: Default::default(),
            keys: Default::default(),
        }
    }
}
