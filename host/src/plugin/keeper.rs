//! The sandbox keeper: after a send has its answer, a task on the caller's
//! runtime tears the used store down and instantiates the plugin's next
//! sandbox, so that neither is on a send's path.
//!
//! Every call still runs in a `Store` no call has used: a spare is instantiated
//! and left untouched until one send takes it, and a used store is only ever
//! dropped. Spares are made for plugins that send (not for every plugin a
//! start loads), at most [`MAX_SPARES`] at a time; a send that finds none
//! instantiates its own, as before.

use super::capability::HostState;
use super::engine::MAX_SPARES;
use super::sandbox::{self, SendState, StoreShared};
use super::wit::{Bindings, Instance};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::{Engine, Store};

/// A store and, when ready ahead of time, the component instantiated in it.
pub(crate) struct Sandbox {
    pub store: Store<SendState>,
    pub instance: Option<Instance>,
}

/// A plugin's linked component and the spare sandbox for its next call.
pub(crate) struct Prepared {
    pub pre: Bindings,
    spare: Mutex<Option<Spare>>,
}

struct Spare {
    sandbox: Sandbox,
    _counted: Counted,
}

impl Prepared {
    pub fn new(pre: Bindings) -> Self {
        Prepared {
            pre,
            spare: Mutex::new(None),
        }
    }

    /// The spare, if one is ready; otherwise a new store to instantiate in.
    pub fn sandbox(&self, engine: &Engine, shared: &StoreShared, host: HostState) -> Sandbox {
        let spare = self.lock().take();
        match spare {
            Some(spare) => {
                let mut sandbox = spare.sandbox;
                sandbox.store.data_mut().host = host;
                sandbox
            }
            None => Sandbox {
                store: sandbox::new_store(engine, shared, host),
                instance: None,
            },
        }
    }

    pub fn has_spare(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Spare>> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Tears used stores down and makes spares, as tasks on the caller's runtime.
pub(crate) struct Keeper(Arc<Inner>);

struct Inner {
    engine: Engine,
    shared: StoreShared,
    /// The host state a spare waits with (replaced when a call takes it).
    blank: Box<dyn Fn() -> HostState + Send + Sync>,
    spares: Arc<AtomicUsize>,
}

impl Keeper {
    pub fn new(
        engine: Engine,
        shared: StoreShared,
        blank: impl Fn() -> HostState + Send + Sync + 'static,
    ) -> Keeper {
        Keeper(Arc::new(Inner {
            engine,
            shared,
            blank: Box::new(blank),
            spares: Arc::new(AtomicUsize::new(0)),
        }))
    }

    /// Tear `store` down after the caller has its answer, then make
    /// `refill`'s next sandbox ready. The permit keeps the store's pool slot
    /// counted until it is gone.
    ///
    /// This is a task on the caller's runtime rather than a thread of its
    /// own: handing work to a sleeping thread costs a wake-up (a futex call)
    /// on every send, while a task runs when the caller next waits, usually
    /// for the network.
    pub fn retire(
        &self,
        store: Store<SendState>,
        permit: OwnedSemaphorePermit,
        refill: Option<Weak<Prepared>>,
    ) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let keeper = self.0.clone();
        runtime.spawn(async move {
            // The used store goes first: its pool slot (with the component's
            // memory image still mapped) is then the one the spare gets.
            drop(store);
            drop(permit);
            if let Some(prepared) = refill.and_then(|w| w.upgrade()) {
                keeper.make_spare(&prepared).await;
            }
        });
    }
}

impl Inner {
    async fn make_spare(&self, prepared: &Prepared) {
        if prepared.has_spare() {
            return;
        }
        let Some(counted) = Counted::take(&self.spares) else {
            return;
        };
        let mut store = sandbox::new_store(&self.engine, &self.shared, (self.blank)());
        // Start functions run guest code: it must be interruptible.
        let running = self.shared.deadlines.running();
        let instantiated = prepared.pre.instantiate(&mut store).await;
        drop(running);
        match instantiated {
            Ok(instance) => {
                let spare = Spare {
                    sandbox: Sandbox {
                        store,
                        instance: Some(instance),
                    },
                    _counted: counted,
                };
                // Another send may have made one meanwhile; one is enough.
                let mut slot = prepared.lock();
                if slot.is_none() {
                    *slot = Some(spare);
                }
            }
            Err(e) => tracing::debug!("instantiating a spare sandbox failed: {e:#}"),
        }
    }
}

/// One of the [`MAX_SPARES`], given back when the spare is taken or dropped.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn take(count: &Arc<AtomicUsize>) -> Option<Counted> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_SPARES as usize).then_some(n + 1)
            })
            .ok()
            .map(|_| Counted(count.clone()))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
