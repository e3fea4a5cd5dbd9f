//! Channels as sandboxed WebAssembly components.
//!
//! One [`Runtime`] holds the wasmtime engine, the linker with the host imports,
//! the shared HTTP client and the on-disk compile cache. Each [`Plugin`] is a
//! compiled component with its `InstancePre`; every call gets a fresh `Store`
//! with its own memory cap, deadline and request budget.

//!
//! Layers, each importing only those below it: `types` (limits, options,
//! what goes in and out of a call) and the small leaves (`allow`, `secrets`,
//! `budget`, `deadline`, `error`, `info`, `cache`, `trailer`); `capability`
//! (the host imports on host types); `sandbox` (the store); `wit` (every
//! WIT version and the dispatch on it); `engine` and `keeper`; `runtime`,
//! which orchestrates them; and above it discovery and management
//! (`registry`, `manage`, `trust`, `precompiled`, `dir_watch`).

mod allow;
mod budget;
mod cache;
mod capability;
mod deadline;
#[cfg(test)]
mod described_file;
mod dir_watch;
mod engine;
mod error;
mod info;
mod keeper;
pub mod manage;
pub mod precompiled;
pub mod proxy;
mod registry;
mod runtime;
mod sandbox;
mod secrets;
mod tls;
mod trailer;
pub mod trust;
mod types;
mod wit;

pub use allow::{AllowList, HostPattern};
pub use capability::delivery::Progress;
pub use dir_watch::{PluginsDirWatcher, watch_plugins_dir};
pub use error::{DeliveryError, LoadError};
pub use info::{PluginInfo, SettingSpec};
pub use registry::{Held, LoadWarning, Registry};
pub use runtime::{Plugin, Runtime};
/// TLS as the plugins' requests have it, for the watchers' own client.
pub(crate) use tls::client_config as tls_client_config;
pub use types::{
    ChatQuestion, ChatReply, Compiler, Limits, PluginSource, Polled, Receipt, RuntimeOptions,
    SettingValue,
};
pub use wit::WIT_VERSION;

/// The channels built into this binary by `build.rs`.
pub mod bundled {
    pub struct Bundled {
        /// The plugin's directory under `plugins/`.
        pub name: &'static str,
        pub wasm: &'static [u8],
        /// Hashed at build time, so a start does not hash every bundled plugin.
        pub sha256: &'static str,
        /// The hash of the sources it was built from (its crate, the SDK,
        /// the WIT contract).
        pub source: &'static str,
        /// What it says about itself, from `plugins/described.json` when
        /// that was written from the same sources.
        pub described: Option<&'static str>,
    }

    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

    #[cfg(test)]
    mod tests {
        use super::BUNDLED;

        /// A start reads every plugin's name, hash and description but no
        /// component: the components lie back to back, so that what is read
        /// does not lie beside each of them (see `build.rs`).
        #[test]
        fn the_components_are_one_block() {
            for pair in BUNDLED.windows(2) {
                assert_eq!(
                    pair[0].wasm.as_ptr_range().end,
                    pair[1].wasm.as_ptr(),
                    "{} and {}",
                    pair[0].name,
                    pair[1].name
                );
            }
        }
    }
}
