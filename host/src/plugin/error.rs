pub use crate::model::DeliveryError;

/// Why a `.wasm` file could not become a plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a WebAssembly file")]
    NotWasm,
    #[error(
        "a core WebAssembly module, not a component: build it for wasm32-wasip2 with mcp-push-sdk"
    )]
    CoreModule,
    #[error("not a valid component: {0}")]
    Invalid(String),
    #[error("built for {found}; this mcp-push supports mcp-push:channel@0.1.x")]
    WrongVersion { found: String },
    #[error("does not export mcp-push:channel/channel (is it an mcp-push channel?)")]
    MissingExport,
    #[error("imports something this host does not supply: {0}")]
    Imports(String),
    #[error("its info() is not valid: {0}")]
    BadInfo(String),
    #[error("it failed while describing itself: {0}")]
    Trap(String),
}
