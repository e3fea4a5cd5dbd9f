//! Channels as sandboxed WebAssembly components.
//!
//! One [`Runtime`] holds the wasmtime engine, the linker with the host imports,
//! the shared HTTP client and the on-disk compile cache. Each [`Plugin`] is a
//! compiled component with its `InstancePre`; every call gets a fresh `Store`
//! with its own memory cap, deadline and request budget.

mod allow;
mod budget;
mod cache;
mod deadline;
mod delivery;
mod engine;
mod error;
mod fetch;
mod info;
mod keeper;
mod mail;
pub mod manage;
pub mod precompiled;
pub mod proxy;
mod registry;
mod runtime;
mod sandbox;
mod secret_parts;
mod secrets;
mod tls;
pub mod trust;
mod watch;
mod wit_v0_1;

pub use allow::{AllowList, HostPattern};
pub use delivery::Progress;
pub use error::{DeliveryError, LoadError};
pub use info::{PluginInfo, SettingSpec};
pub use registry::{Held, LoadWarning, Registry};
pub use runtime::{Limits, Plugin, PluginSource, Receipt, Runtime, RuntimeOptions, SettingValue};
pub use watch::{Watcher, watch};
pub use wit_v0_1::WIT_VERSION;

/// The channels built into this binary by `build.rs`.
pub mod bundled {
    pub struct Bundled {
        /// The plugin's directory under `plugins/`.
        pub name: &'static str,
        pub wasm: &'static [u8],
        /// Hashed at build time, so a start does not hash every bundled plugin.
        pub sha256: &'static str,
    }

    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}
