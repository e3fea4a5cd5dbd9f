//! Watching the plugins directory, so that a running server picks up a
//! `.wasm` dropped in, replaced or removed without a restart.
//!
//! It polls: every [`POLL`] it lists the `*.wasm` files with their size,
//! modification time and inode, and once a change has held still for
//! [`SETTLE`] (a file being copied in keeps changing) it calls back. Polling
//! one directory costs a `readdir` and a `stat` per file, works the same on
//! every platform and file system (network mounts and containers included),
//! and needs no dependency.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often the directory is listed.
pub const POLL: Duration = Duration::from_millis(100);
/// How long a change must hold still before the plugins are reloaded.
pub const SETTLE: Duration = Duration::from_millis(300);

/// What the directory holds, as far as a change is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Snapshot(Vec<(PathBuf, u64, Option<SystemTime>, u64)>);

impl Snapshot {
    fn take(dir: &Path) -> Snapshot {
        if !dir.is_dir() {
            return Snapshot::default();
        }
        let mut files: Vec<_> = super::registry::wasm_files(dir)
            .into_iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(&path).ok()?;
                Some((path, meta.len(), meta.modified().ok(), inode(&meta)))
            })
            .collect();
        files.sort();
        Snapshot(files)
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

/// Stops the watcher when dropped.
pub struct PluginsDirWatcher {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PluginsDirWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Call `changed` (on the current tokio runtime) each time the `*.wasm`
/// files in `dir` change and then hold still for [`SETTLE`]. A directory
/// that does not exist yet is watched for its creation.
pub fn watch_plugins_dir<F, Fut>(dir: PathBuf, mut changed: F) -> PluginsDirWatcher
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let task = tokio::spawn(async move {
        let mut applied = Snapshot::take(&dir);
        let mut pending: Option<(Snapshot, tokio::time::Instant)> = None;
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = Snapshot::take(&dir);
            match &pending {
                _ if now == applied => pending = None,
                Some((seen, since)) if *seen == now => {
                    if since.elapsed() >= SETTLE {
                        tracing::debug!("plugins directory {} changed", dir.display());
                        changed().await;
                        applied = now;
                        pending = None;
                    }
                }
                _ => pending = Some((now, tokio::time::Instant::now())),
            }
        }
    });
    PluginsDirWatcher { task }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_change_is_reported_once_it_settles() {
        let dir = std::env::temp_dir().join(format!("mcp-push-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let _w = watch_plugins_dir(dir.clone(), move || {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(POLL * 3).await;
        assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing changed yet");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.wasm"), b"one").unwrap();
        std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
        // Keep writing for longer than SETTLE: no call while it changes.
        for i in 0..6 {
            std::fs::write(dir.join("a.wasm"), vec![b'x'; 10 + i]).unwrap();
            tokio::time::sleep(SETTLE / 4).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "still changing");
        tokio::time::sleep(SETTLE + POLL * 4).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        std::fs::remove_file(dir.join("a.wasm")).unwrap();
        tokio::time::sleep(SETTLE + POLL * 4).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        std::fs::write(dir.join("notes.txt"), b"still ignored").unwrap();
        tokio::time::sleep(SETTLE + POLL * 4).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
