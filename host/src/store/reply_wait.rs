//! How an async caller waits for the store writer's answer.
//!
//! A task that awaits an answer from another thread leaves its runtime
//! worker with nothing to do: the worker parks (`epoll_wait`), and the
//! writer's answer has to wake it, a system call on the writer's side and a
//! scheduler switch on the worker's, 17 to 72 µs each on the 2-core
//! development machine; a lone notification waits twice (its event, then its
//! outcome). When the writer answers quickly (an append's sync takes about
//! 200 µs there, an outcome's write about 40), the caller looks for the answer
//! without parking for up to [`SPIN`]. Between looks it yields to the
//! worker's other tasks, so a busy worker loses nothing to it, and the
//! worker yields its core to any thread ready to run: the writer that is to
//! answer may be waiting for that very core (without it, one client made 6
//! to 27% less).
//!
//! A writer that answers slowly (a slow disk, a remote database) is not
//! waited for that way: once its answers typically take more than twice
//! [`SPIN`], callers sleep at once, until answers come fast again. No caller
//! looks for longer than [`SPIN`] per answer whatever the disk does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::oneshot::{self, error::TryRecvError};

/// The longest a caller looks for its answer before sleeping on it.
pub(super) const SPIN: Duration = Duration::from_micros(400);

/// The writer's recent answer time, shared by its callers.
#[derive(Debug, Default)]
pub(super) struct ReplyWait {
    /// A moving average of how long answers took, in µs: one slow answer
    /// (a checkpoint) does not stop the looking, a run of them does.
    typical_micros: AtomicU64,
}

impl ReplyWait {
    /// The answer, or `None` when the writer dropped the question (it is
    /// gone).
    pub(super) async fn answer<T>(&self, mut answer: oneshot::Receiver<T>) -> Option<T> {
        let asked = Instant::now();
        // Looked for while answers typically come within twice SPIN: then
        // most of them come while the caller looks.
        if self.typical_micros.load(Ordering::Relaxed) <= 2 * SPIN.as_micros() as u64 {
            let until = asked + SPIN;
            loop {
                match answer.try_recv() {
                    Ok(value) => {
                        self.took(asked);
                        return Some(value);
                    }
                    Err(TryRecvError::Closed) => return None,
                    Err(TryRecvError::Empty) if Instant::now() < until => {
                        std::thread::yield_now();
                        tokio::task::yield_now().await
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
        let value = answer.await.ok();
        self.took(asked);
        value
    }

    fn took(&self, asked: Instant) {
        let micros = asked.elapsed().as_micros().min(u64::MAX as u128 / 2) as u64;
        // Concurrent callers may each miss the other's update: an average
        // off by one sample is good enough here.
        let typical = self.typical_micros.load(Ordering::Relaxed);
        let next = (typical * 7 + micros) / 8;
        self.typical_micros.store(next, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPU time of the calling thread.
    fn thread_cpu() -> Duration {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec it is given.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// An answer sent from another thread after `after`.
    fn answered_after(after: Duration) -> oneshot::Receiver<u32> {
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            let _ = tx.send(7);
        });
        rx
    }

    #[test]
    fn answers_fast_or_slow_come_back_and_a_dropped_question_is_none() {
        let rt = runtime();
        let wait = ReplyWait::default();
        rt.block_on(async {
            assert_eq!(wait.answer(answered_after(Duration::ZERO)).await, Some(7));
            assert_eq!(
                wait.answer(answered_after(Duration::from_millis(20))).await,
                Some(7)
            );
            let (tx, rx) = oneshot::channel::<u32>();
            drop(tx);
            assert_eq!(wait.answer(rx).await, None);
            // Dropped while being looked for.
            let (tx, rx) = oneshot::channel::<u32>();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_micros(100));
                drop(tx);
            });
            assert_eq!(wait.answer(rx).await, None);
        });
    }

    /// The promise that bounds what looking costs: a slow writer's callers
    /// look for at most `SPIN` per answer, and not at all after an answer
    /// that took longer.
    #[test]
    fn callers_of_a_slow_writer_sleep_instead_of_looking() {
        let rt = runtime();
        let wait = ReplyWait::default();
        let slow = Duration::from_millis(40);
        rt.block_on(async {
            // The first answer was expected fast: looked for, then slept on.
            let cpu = thread_cpu();
            assert_eq!(wait.answer(answered_after(slow)).await, Some(7));
            let first = thread_cpu() - cpu;
            assert!(
                first < SPIN + Duration::from_millis(5),
                "looked for a slow answer for {first:?} of CPU, past SPIN ({SPIN:?})"
            );
            // Now known to be slow: ten more answers, 40 ms apart, slept on
            // at once (looked for, they would cost ten times SPIN). Their
            // threads are started first: starting one costs this thread CPU.
            let answers: Vec<_> = (1..=10).map(|i| answered_after(slow * i)).collect();
            let cpu = thread_cpu();
            for answer in answers {
                assert_eq!(wait.answer(answer).await, Some(7));
            }
            let next = thread_cpu() - cpu;
            assert!(
                next < SPIN * 2,
                "ten waits for a writer known to be slow took {next:?} of CPU"
            );
        });
    }
}
