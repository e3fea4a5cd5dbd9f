//! The one wasmtime `Engine` and the thread that drives its epochs.

use super::deadline::Deadlines;
use super::types::Limits;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines, and how long a
/// busy guest may hold a worker thread before it yields.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Sends that may run at once.
pub(crate) const CONCURRENT_SENDS: u32 = 128;

/// Sandboxes instantiated ahead of time (see `keeper`) that may wait at once.
pub(crate) const MAX_SPARES: u32 = 32;

/// How many guests that compute for long may run at once: half the cores
/// (at least one), so that the host's own work and the other sends always
/// find a core free.
pub(crate) fn slow_lanes() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() / 2)
        .unwrap_or(1)
        .max(1)
}

/// Component instances the pooling allocator reserves slots for.
const SLOTS: u32 = CONCURRENT_SENDS + MAX_SPARES;

/// Bytes of each memory slot kept mapped between sends.
const KEEP_RESIDENT: usize = 2 << 20;

pub(crate) fn build(limits: &Limits) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);

    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(SLOTS)
        .total_core_instances(SLOTS * 8)
        .total_memories(SLOTS * 2)
        .total_tables(SLOTS * 8)
        .total_stacks(SLOTS)
        .max_memory_size(limits.memory_bytes)
        // Reset a slot's pages in place rather than with madvise, whose TLB
        // shootdowns dominated a send; with PAGEMAP_SCAN (Linux 6.7+) only the
        // pages the guest dirtied are touched.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(256 << 10)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            // A process with a small address-space limit cannot reserve the
            // pool; allocate per instance instead (slower, same limits).
            tracing::debug!("pooling allocator unavailable ({e}); using on-demand allocation");
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&config)
        }
    }
}

/// Advances the engine's epoch every [`TICK`], and expires call deadlines,
/// until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: &Engine, deadlines: Arc<Deadlines>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, engine) = (stop.clone(), engine.clone());
        std::thread::Builder::new()
            .name("mcp-push-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                    deadlines.expire(std::time::Instant::now());
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
