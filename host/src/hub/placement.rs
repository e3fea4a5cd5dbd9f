//! Where the hub's two busiest threads run: the store's writer on a core of
//! its own, the async runtime's workers on the others.
//!
//! The writer and the workers hand each notification back and forth, and
//! each side waits for the other without sleeping for a few hundred
//! microseconds (`store::group`, `store::reply_wait`). That only pays when
//! they run on different cores: on one core, the one that waits holds the
//! core the other needs. Left to the scheduler, which often puts a thread it
//! wakes beside the thread that woke it, they shared a core much of the time:
//! one client waiting for delivery, `serve` on 2 cores, 1,460 to 2,900/s with
//! the threads left where the scheduler put them, 1,285 to 1,440/s with the
//! two pinned to one core, 3,050 to 3,180/s pinned apart.
//!
//! Only where the process may run on two cores or more (of its affinity set,
//! which `taskset` and cpusets narrow); the last of them goes to the writer.
//! The runtime's blocking threads keep every core (a plugin's compilation
//! uses them all). `MCP_PUSH_PIN_THREADS=0` leaves every thread to the scheduler.

use std::sync::OnceLock;

/// The cores chosen, once, by [`plan`]: `None` when threads are not moved.
static PLAN: OnceLock<Option<Plan>> = OnceLock::new();

#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    writer: usize,
    workers: Vec<usize>,
}

/// Decide where the threads go, before the runtime starts (the affinity set
/// read is the process's, which a moved thread no longer has). `pin`:
/// whether to move them at all.
pub fn plan(pin: bool) {
    PLAN.get_or_init(|| {
        let cpus = pin.then(allowed_cpus).flatten()?;
        let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
        split(&cpus).filter(|_| parallel >= 2)
    });
}

/// The writer's core and the workers' cores, from the cores the process may
/// use: none for fewer than two.
fn split(cpus: &[usize]) -> Option<Plan> {
    let (&writer, workers) = cpus.split_last()?;
    (!workers.is_empty()).then(|| Plan {
        writer,
        workers: workers.to_vec(),
    })
}

/// The runtime's `on_thread_start` hook: a new thread takes the affinity of
/// the thread that started it, often a worker already moved; every one of
/// the runtime's threads starts with all the process's cores (the workers
/// move when they first park).
pub fn thread_starts() {
    if let Some(plan) = planned() {
        let mut all = plan.workers.clone();
        all.push(plan.writer);
        move_this_thread(&all);
    }
}

/// The runtime's `on_thread_park` hook: only its workers park there, so a
/// worker moves off the writer's core the first time it goes idle.
pub fn worker_parks() {
    thread_local! {
        static MOVED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if let Some(plan) = planned()
        && !MOVED.replace(true)
    {
        move_this_thread(&plan.workers);
    }
}

/// Called by the store's writer thread as it starts.
pub fn writer_starts() {
    if let Some(plan) = planned() {
        move_this_thread(&[plan.writer]);
    }
}

fn planned() -> Option<&'static Plan> {
    PLAN.get().and_then(Option::as_ref)
}

#[cfg(target_os = "linux")]
fn allowed_cpus() -> Option<Vec<usize>> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity writes
    // at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) != 0 {
            return None;
        }
        let cpus = (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect();
        Some(cpus)
    }
}

/// Best effort: a thread that cannot be moved runs where it is.
#[cfg(target_os = "linux")]
fn move_this_thread(cpus: &[usize]) {
    // SAFETY: as above; pid 0 is the calling thread.
    let moved = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set)
    };
    if moved != 0 {
        tracing::debug!(
            "cannot move this thread to cores {cpus:?}: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn allowed_cpus() -> Option<Vec<usize>> {
    None
}

#[cfg(not(target_os = "linux"))]
fn move_this_thread(_: &[usize]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_gets_the_last_core_and_the_workers_the_others() {
        assert_eq!(split(&[]), None);
        assert_eq!(split(&[3]), None, "one core: nothing moves");
        assert_eq!(
            split(&[0, 1]),
            Some(Plan {
                writer: 1,
                workers: vec![0]
            })
        );
        assert_eq!(
            split(&[2, 5, 7]),
            Some(Plan {
                writer: 7,
                workers: vec![2, 5]
            })
        );
    }
}
