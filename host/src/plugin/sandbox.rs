//! The per-call `Store`: WASI with nothing in it, a memory cap, a deadline,
//! and the capabilities' state (`capability::HostState`) as its data. The
//! capabilities themselves are in `capability`, their WIT bindings in `wit`.

use super::budget::MemoryBudget;
use super::capability::HostState;
use super::deadline::Deadlines;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub(crate) struct SendState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    /// What the host imports work with during the current call.
    pub host: HostState,
    /// What the guest wrote to stderr: a Rust guest's panic message.
    pub stderr: MemoryOutputPipe,
    deadlines: Arc<Deadlines>,
    slow_lanes: Arc<Semaphore>,
    /// Epoch ticks the current call has run guest code through.
    ticks: u32,
    /// The slow lane this call holds while it runs, once it is slow.
    lane: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
    /// Set once the call has run past [`FAST_TICKS`] (see [`OffTheWorkers`]).
    slow: Arc<AtomicBool>,
}

impl SendState {
    /// A call starts: what it has run so far is counted from here.
    pub fn begin_call(&mut self) {
        self.ticks = 0;
        *self.lane.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.slow.store(false, Ordering::Relaxed);
    }

    /// Set while the current call is slow, for [`OffTheWorkers`].
    pub fn slow_flag(&self) -> Arc<AtomicBool> {
        self.slow.clone()
    }
}

/// Polls a call's guest code on the runtime's worker, and a slow guest's off
/// it: the worker's other tasks move to another thread for the poll
/// (`block_in_place`), so the hub's own work goes on beside the guest's
/// tick, with the system's scheduler sharing the cores between them. The
/// slow lanes bound how many such guests compute at once; but with as few
/// workers as lanes (one worker for two cores, or `TOKIO_WORKER_THREADS=1`)
/// a looping guest held the only worker for 10 ms at a time, and every
/// hand-off of a REST request waited behind it: 300 requests took 125 s.
pub(crate) struct OffTheWorkers<'a, F> {
    pub run: Pin<&'a mut F>,
    pub slow: Arc<AtomicBool>,
}

/// `block_in_place` needs a worker to move the other tasks to: not on a
/// current-thread runtime, which polls the guest as before.
fn on_multi_thread_runtime() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

impl<F: Future> Future for OffTheWorkers<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        // A fast guest (every send of a well-behaved channel) pays one load.
        if this.slow.load(Ordering::Relaxed) && on_multi_thread_runtime() {
            tokio::task::block_in_place(|| this.run.as_mut().poll(cx))
        } else {
            this.run.as_mut().poll(cx)
        }
    }
}

/// What every store of one runtime shares.
#[derive(Clone)]
pub(crate) struct StoreShared {
    pub budget: Arc<MemoryBudget>,
    /// For the shutdown cut-off, which a running guest must see too.
    pub deadlines: Arc<Deadlines>,
    /// Guests that have computed for more than [`FAST_TICKS`] take turns on
    /// these (see `engine::slow_lanes`).
    pub slow_lanes: Arc<Semaphore>,
}

/// Ticks of guest code a call runs freely (100 ms: channels compute for
/// well under a millisecond). Past them it runs only while it holds a slow
/// lane: 16 looping sends once took both cores and made every REST request
/// wait 220 ms behind them, however few send slots they held.
const FAST_TICKS: u32 = 10;

/// Which memory limit stopped a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemoryRefused {
    /// The call's own cap: the plugin wanted too much.
    OwnCap,
    /// The process-wide budget, held by other calls at the time.
    Budget,
}

/// Caps a call's memory, counts it against the process-wide budget until the
/// store is dropped, and remembers a refusal, so that a failure can be
/// reported as "out of memory" without reading wasmtime's error text.
pub(crate) struct Limiter {
    memory_bytes: usize,
    budget: Arc<MemoryBudget>,
    /// What this store's memories hold of the budget.
    held: usize,
    /// The last growth allowed, given back if it then fails.
    last_grant: usize,
    pub refused: Option<MemoryRefused>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // An error (rather than `false`) traps the guest at once, instead of
        // letting its allocator turn the failure into an abort.
        if desired > self.memory_bytes {
            self.refused = Some(MemoryRefused::OwnCap);
            wasmtime::bail!("memory limit of {} bytes reached", self.memory_bytes);
        }
        let more = desired.saturating_sub(current);
        if !self.budget.take(more) {
            self.refused = Some(MemoryRefused::Budget);
            wasmtime::bail!(
                "the process-wide plugin memory budget of {} bytes is in use",
                self.budget.limit()
            );
        }
        self.held += more;
        self.last_grant = more;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        tracing::debug!("a plugin's memory could not grow: {error:#}");
        self.budget.give(self.last_grant);
        self.held -= self.last_grant;
        self.last_grant = 0;
        Ok(())
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

impl Drop for Limiter {
    fn drop(&mut self) {
        self.budget.give(self.held);
    }
}

impl WasiView for SendState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store for one call. The deadline is read from `host` when the call runs,
/// so a store made ahead of time (see `keeper`) takes the call's own.
pub(crate) fn new_store(
    engine: &Engine,
    shared: &StoreShared,
    host: HostState,
) -> Store<SendState> {
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
        memory_bytes: host.call.limits.memory_bytes,
        budget: shared.budget.clone(),
        held: 0,
        last_grant: 0,
        refused: None,
    };
    let mut store = Store::new(
        engine,
        SendState {
            wasi,
            table: ResourceTable::new(),
            limiter,
            host,
            stderr,
            deadlines: shared.deadlines.clone(),
            slow_lanes: shared.slow_lanes.clone(),
            ticks: 0,
            lane: Arc::default(),
            slow: Arc::default(),
        },
    );
    store.limiter(|s| &mut s.limiter);
    // Every tick a running guest yields to the executor (so a busy plugin
    // never holds a worker thread), and past the deadline (or the shutdown
    // cut-off) it is stopped.
    // Counted from now, so that instantiation (which runs start functions)
    // does not yield at its first check; a call sets it again when it starts.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut ctx| {
        let state = ctx.data_mut();
        if Instant::now() >= state.deadlines.effective(state.host.call.deadline) {
            return Ok(UpdateDeadline::Interrupt);
        }
        state.ticks = state.ticks.saturating_add(1);
        if state.ticks <= FAST_TICKS {
            return Ok(UpdateDeadline::Yield(1));
        }
        state.slow.store(true, Ordering::Relaxed);
        // A slow guest gives its lane back (the semaphore is fair: a waiting
        // guest gets it next) and waits for a lane again, not using a thread
        // meanwhile.
        let slot = state.lane.clone();
        drop(slot.lock().unwrap_or_else(|e| e.into_inner()).take());
        let lanes = state.slow_lanes.clone();
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                if let Ok(lane) = lanes.acquire_owned().await {
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(lane);
                }
            }),
        ))
    });
    store
}
