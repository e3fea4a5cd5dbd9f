//! The per-call `Store`: WASI with nothing in it, a memory cap, a deadline, and
//! the host side of the `crypto` and `log` imports.

use super::allow::AllowList;
use super::runtime::Limits;
use super::secrets::Secrets;
use super::wit_v0_1::{crypto, log, types};
use hmac::{Hmac, Mac};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Log lines one call may write; the rest are counted and dropped.
const MAX_LOG_LINES: u32 = 64;
const MAX_LOG_LINE: usize = 2048;

pub(crate) struct SendState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    pub io: HostIo,
    /// What the guest wrote to stderr: a Rust guest's panic message.
    pub stderr: MemoryOutputPipe,
}

/// Caps a call's memory and remembers that it did, so that a failure can be
/// reported as "out of memory" without reading wasmtime's error text.
pub(crate) struct Limiter {
    memory_bytes: usize,
    pub memory_refused: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_refused = true;
            // An error (rather than `false`) traps the guest at once, instead of
            // letting its allocator turn the failure into an abort.
            wasmtime::bail!("memory limit of {} bytes reached", self.memory_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        8
    }
}

const MAX_TABLE_ELEMENTS: usize = 100_000;

impl WasiView for SendState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What the host imports work with during one call.
pub(crate) struct HostIo {
    /// The channel instance, for log lines.
    pub channel: String,
    pub allow: Arc<AllowList>,
    pub secrets: Secrets,
    pub client: reqwest::Client,
    pub limits: Limits,
    pub deadline: Instant,
    pub fetches: u32,
    pub log_lines: u32,
    /// The plugin's shapes: what the legacy `secrets` import may answer.
    pub shapes: Arc<mcp_push_policy::Shapes>,
}

impl HostIo {
    /// Count one outbound request (HTTP or SMTP) against the per-send budget;
    /// the reason when it is spent.
    pub(crate) fn spend_request(&mut self) -> Result<(), String> {
        self.fetches += 1;
        if self.fetches > self.limits.max_fetches {
            return Err(format!(
                "a send may make at most {} requests",
                self.limits.max_fetches
            ));
        }
        Ok(())
    }

    /// Why `host` on `port` may not be reached (secrets described), or
    /// `None` when it is one of the channel's allowed hosts. `what` prefixes
    /// the reason ("redirect to "). A host that came out of a secret is not
    /// named: the reason must not tell the component the secret's value.
    pub(crate) fn host_denied(
        &self,
        host: &str,
        port: u16,
        what: &str,
        from_secret: bool,
    ) -> Option<String> {
        if self.allow.allows(host, port) {
            return None;
        }
        if from_secret {
            return Some(format!(
                "{what}a host taken from a secret setting is not one of this channel's allowed hosts"
            ));
        }
        let allowed = self.allow.describe();
        let allowed = if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        };
        Some(self.secrets.describe(&format!(
            "{what}{host}:{port} is not an allowed host of this channel (allowed: {allowed})"
        )))
    }
}

/// Cut `text` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn cap_text(text: &mut String, max: usize) {
    if text.len() > max {
        let cut = (0..=max)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
}

/// A store for one call. The deadline is read from `io` when the call runs,
/// so a store made ahead of time (see `keeper`) takes the call's own.
pub(crate) fn new_store(engine: &Engine, io: HostIo) -> Store<SendState> {
    // No files, environment, arguments or sockets: only clocks, random and a
    // small stderr buffer that keeps a panic message for the error report.
    let stderr = MemoryOutputPipe::new(16 << 10);
    let wasi = WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let limiter = Limiter {
        memory_bytes: io.limits.memory_bytes,
        memory_refused: false,
    };
    let mut store = Store::new(
        engine,
        SendState {
            wasi,
            table: ResourceTable::new(),
            limiter,
            io,
            stderr,
        },
    );
    store.limiter(|s| &mut s.limiter);
    // Every tick a running guest yields to the executor (so a busy plugin
    // never holds a worker thread), and past the deadline it is stopped.
    // Counted from now, so that instantiation (which runs start functions)
    // does not yield at its first check; a call sets it again when it starts.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|ctx| {
        if Instant::now() >= ctx.data().io.deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

impl types::Host for HostIo {}

impl crypto::Host for HostIo {
    /// Only a MAC keyed by a secret itself (see `mcp_push_policy::sign`);
    /// anything else would be an oracle on the secret, so it gets an empty
    /// MAC, which no service accepts, and a warning says why.
    async fn hmac_sha256(&mut self, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
        let (key, msg) = match mcp_push_policy::sign::mac_input(&self.secrets, &key, &msg) {
            Ok(input) => input,
            Err(why) => {
                tracing::warn!(channel = %self.channel, "hmac-sha256 refused: {why}");
                return Vec::new();
            }
        };
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(&msg);
        mac.finalize().into_bytes().to_vec()
    }
}

impl log::Host for HostIo {
    async fn log(&mut self, level: log::Level, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES {
            if self.log_lines == MAX_LOG_LINES + 1 {
                tracing::warn!(channel = %self.channel, "plugin log limit reached; dropping further lines");
            }
            return;
        }
        let mut text = self.secrets.describe(&message);
        cap_text(&mut text, MAX_LOG_LINE);
        let channel = &self.channel;
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", %channel, "{text}"),
            log::Level::Debug => tracing::debug!(target: "plugin", %channel, "{text}"),
            log::Level::Info => tracing::info!(target: "plugin", %channel, "{text}"),
            log::Level::Warn => tracing::warn!(target: "plugin", %channel, "{text}"),
            log::Level::Error => tracing::error!(target: "plugin", %channel, "{text}"),
        }
    }
}
