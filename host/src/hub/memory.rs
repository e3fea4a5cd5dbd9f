//! Giving freed heap back to the system once the hub goes idle; the one
//! platform switch of the hub.
//!
//! Measured on `serve` after 30,000 notifications from 64 clients (2 cores,
//! `serve_http` at scale 0.3): its own memory (RssAnon) 8.3 MiB after start,
//! 19.1 under load, and 15 s after the load stopped 17.1 MiB with only
//! `malloc_trim` (mimalloc, the Rust side's allocator, kept all it had freed;
//! SQLite's page caches, in glibc's heap, stayed full), 14.9 and 15.7 MiB
//! with the caches dropped and mimalloc collected (its arena 8.7 MiB against
//! 4.0 at start), 14.1 (arena 7.2) with the store's writer thread collecting
//! its own heap as well. Much of the rest is the open connections (64 from
//! the clients, 64 to the sink): closing them gave back 2.5 MiB more.

/// Return free heap pages to the system (a few milliseconds; call it when
/// idle): the Rust side's, in mimalloc, the executable's allocator (see
/// `main.rs`), which keeps freed pages in the heap of the thread that freed
/// them; and SQLite's, in the C library's `malloc`.
pub fn give_back() {
    give_back_this_thread();
    trim_libc();
}

/// Return what mimalloc keeps for the calling thread (its heap's free
/// pages), with the abandoned heaps and the arenas' free pages: another
/// thread's heap is collected only by that thread.
pub fn give_back_this_thread() {
    // SAFETY: mi_collect only walks the allocator's own heaps.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_libc() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_libc() {}
