//! A small pool of connections: opened on demand up to a bound, handed to
//! one caller at a time, given back when it is done. A connection the server
//! closed (a restart, an idle timeout) is dropped, and the next caller opens
//! a new one. Everything here blocks: it runs inside
//! [`off_runtime`](super::off_runtime).

use super::statements::Statements;
use std::sync::{Condvar, Mutex, MutexGuard};

pub(super) struct Pool {
    config: postgres::Config,
    max: usize,
    state: Mutex<State>,
    freed: Condvar,
}

/// A connection with the statements prepared on it.
struct Pooled {
    client: postgres::Client,
    statements: Statements,
}

#[derive(Default)]
struct State {
    idle: Vec<Pooled>,
    /// Connections open, idle or handed out.
    open: usize,
}

/// A connection handed out; back to the pool when dropped.
pub(super) struct Conn<'a> {
    pool: &'a Pool,
    client: Option<Pooled>,
}

impl Pool {
    pub(super) fn new(config: postgres::Config, max: usize) -> Self {
        Pool {
            config,
            max,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain fields, consistent after any panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn get(&self) -> Result<Conn<'_>, postgres::Error> {
        let mut state = self.lock();
        loop {
            if let Some(client) = state.idle.pop() {
                if client.client.is_closed() {
                    state.open -= 1;
                    drop(state);
                    drop(client);
                    state = self.lock();
                    continue;
                }
                return Ok(Conn {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.config.connect(postgres::NoTls) {
                    Ok(client) => Ok(Conn {
                        pool: self,
                        client: Some(Pooled {
                            client,
                            statements: Statements::new(),
                        }),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn put(&self, client: Pooled) {
        if client.client.is_closed() {
            self.lock().open -= 1;
            drop(client);
        } else {
            self.lock().idle.push(client);
        }
        self.freed.notify_one();
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.put(client);
        }
    }
}

impl Conn<'_> {
    /// The connection and its statements, to be borrowed apart.
    pub(super) fn parts(&mut self) -> (&mut postgres::Client, &mut Statements) {
        let p = self.client.as_mut().expect("a connection handed out");
        (&mut p.client, &mut p.statements)
    }
}

/// Closing a connection blocks (it tells the server goodbye), and the last
/// owner of the store may be async code: close them on a thread of their own.
impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        if !idle.is_empty() {
            std::thread::scope(|s| {
                s.spawn(move || drop(idle));
            });
        }
    }
}
