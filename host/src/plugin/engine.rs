//! The one wasmtime `Engine` and the thread that drives its epochs.

use super::deadline::Deadlines;
use super::types::{Compiler, Limits};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy,
};

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

/// The engine, compiling with `compiler` (Cranelift where Winch cannot
/// compile for this machine), and the compiler it has. Components compiled
/// by one compiler are not loaded by an engine of the other: the compile
/// cache keys its files by the engine's compatibility hash, which tells them
/// apart.
pub(crate) fn build(limits: &Limits, compiler: Compiler) -> wasmtime::Result<(Engine, Compiler)> {
    // Winch's other back ends are unfinished (an instruction they lack fails
    // the compile, and with it the send): x86_64 only, where it is Tier 1.
    if compiler == Compiler::Baseline && cfg!(target_arch = "x86_64") {
        match build_with(limits, Strategy::Winch) {
            Ok(engine) => return Ok((engine, Compiler::Baseline)),
            Err(e) => tracing::debug!("Winch unavailable here ({e}); compiling with Cranelift"),
        }
    }
    Ok((
        build_with(limits, Strategy::Cranelift)?,
        Compiler::Optimizing,
    ))
}

fn build_with(limits: &Limits, strategy: Strategy) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.strategy(strategy);
    if strategy == Strategy::Winch {
        // Winch compiles the functions; Cranelift, still, the trampolines
        // into them, a quarter of a first send's compile. Optimizing those
        // few instructions gains nothing for a command that sends once: a
        // first `send` 0.7 ms faster, 2 ms less CPU.
        config.cranelift_opt_level(wasmtime::OptLevel::None);
    }
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

/// Advances the engine's epoch every [`TICK`] while a guest runs or a
/// deadline waits, and expires call deadlines; idle, it sleeps (waking every
/// [`IDLE_TICK`] all the same, so a guest that started unannounced is still
/// stopped, only later). Stops when dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: std::thread::Thread,
}

/// How often the epoch advances when nothing runs.
pub(crate) const IDLE_TICK: Duration = Duration::from_secs(1);

impl EpochTicker {
    pub fn start(engine: &Engine, deadlines: Arc<Deadlines>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, engine, ticks) = (stop.clone(), engine.clone(), deadlines.clone());
        let handle = std::thread::Builder::new()
            .name("mcp-push-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    if ticks.idle() {
                        std::thread::park_timeout(IDLE_TICK);
                        // Woken because a guest started: its first tick is
                        // a full TICK away, as when the thread was ticking.
                        if !ticks.idle() {
                            continue;
                        }
                    } else {
                        std::thread::sleep(TICK);
                    }
                    engine.increment_epoch();
                    ticks.ticks.fetch_add(1, Ordering::Relaxed);
                    ticks.expire(std::time::Instant::now());
                }
            })
            .expect("spawning the epoch thread");
        deadlines.set_ticker(handle.thread().clone());
        EpochTicker {
            stop,
            thread: handle.thread().clone(),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < until, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A one-shot command's cache files (Winch) and a server's (Cranelift)
    /// lie in one directory: neither engine may take the other's code.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_two_compilers_engines_are_told_apart() {
        let limits = Limits::default();
        let (optimizing, o) = build(&limits, Compiler::Optimizing).unwrap();
        let (baseline, b) = build(&limits, Compiler::Baseline).unwrap();
        assert_eq!((o, b), (Compiler::Optimizing, Compiler::Baseline));
        let hash = |engine: &Engine| {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            h.finish()
        };
        assert_ne!(hash(&optimizing), hash(&baseline));
        let webhook = crate::plugin::bundled::BUNDLED
            .iter()
            .find(|b| b.name == "webhook")
            .unwrap();
        let compiled = wasmtime::component::Component::new(&baseline, webhook.wasm)
            .unwrap()
            .serialize()
            .unwrap();
        // SAFETY: bytes `serialize` just wrote; the point is that they are refused.
        let taken = unsafe { wasmtime::component::Component::deserialize(&optimizing, &compiled) };
        assert!(taken.is_err(), "Cranelift's engine loaded Winch's code");
        // SAFETY: as above, for the engine that wrote them.
        assert!(
            unsafe { wasmtime::component::Component::deserialize(&baseline, &compiled) }.is_ok()
        );
    }

    #[test]
    fn the_epoch_thread_ticks_only_while_a_guest_runs_or_a_deadline_waits() {
        let engine = Engine::new(Config::new().epoch_interruption(true)).unwrap();
        let deadlines = Arc::new(Deadlines::default());
        let _ticker = EpochTicker::start(&engine, deadlines.clone());
        let ticks = || deadlines.ticks.load(Ordering::Relaxed);
        // Idle: no tick but, at most, the safety net's.
        std::thread::sleep(Duration::from_millis(300));
        assert!(ticks() <= 1, "{} ticks while idle", ticks());

        let running = deadlines.running();
        let from = ticks();
        wait_until("ticks while a guest runs", || ticks() >= from + 5);
        drop(running);
        // The tick under way ends; then it rests again.
        std::thread::sleep(TICK * 3);
        let from = ticks();
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            ticks() <= from + 1,
            "{} ticks after the guest stopped",
            ticks() - from
        );

        // A deadline set while idle wakes it: the call ends on time.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let out = rt.block_on(deadlines.within(
            started + Duration::from_millis(50),
            std::future::pending::<()>(),
        ));
        assert!(out.is_err());
        assert!(
            started.elapsed() < IDLE_TICK,
            "expired by the ticks, not by the idle safety net ({:?})",
            started.elapsed()
        );
    }
}
