//! What a hook remembers of an agent session between two calls (each call is
//! a new process): the open turn, when it began, and when something last
//! went out. One small JSON file per session beside the event store.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Sessions untouched this long are forgotten (their files removed).
const FORGET_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// Turns begun in this session; numbers each turn's run.
    pub turn: u32,
    /// The open turn's run.
    pub run_id: Option<String>,
    /// Unix milliseconds, as every time here.
    pub turn_started_at: Option<i64>,
    /// The open turn's `start` went out (so its `end` completes a live message).
    pub start_sent: bool,
    /// The last turn's `end` went out.
    pub end_sent: bool,
    pub last_sent_at: Option<i64>,
    pub cwd: Option<String>,
}

/// The directory of session files: `<store dir>/hooks/<agent>/`.
pub struct SessionStore {
    dir: PathBuf,
}

impl SessionStore {
    pub fn new(dir: PathBuf) -> Self {
        SessionStore { dir }
    }

    /// The file of a session id: hashed, because the id comes from outside
    /// and must not pick a path.
    fn file(&self, session_id: &str) -> PathBuf {
        let hash = Sha256::digest(session_id.as_bytes());
        self.dir.join(format!("{}.json", hex::encode(&hash[..12])))
    }

    /// The session as last saved; a missing or unreadable file is a new session.
    pub fn load(&self, session_id: &str) -> Session {
        std::fs::read(self.file(session_id))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Write it whole (a temporary file renamed over the old one, so a
    /// concurrent hook reads the old state or the new, never half), and
    /// forget sessions nobody touched for a week.
    pub fn save(&self, session_id: &str, session: &Session) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let file = self.file(session_id);
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(
            &tmp,
            serde_json::to_vec(session).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, &file)?;
        forget_old(&self.dir, SystemTime::now());
        Ok(())
    }
}

fn forget_old(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > FORGET_AFTER);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_sessions_read_back_and_a_hostile_id_stays_inside() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path().join("hooks/claude-code"));
        assert_eq!(store.load("../../etc/passwd"), Session::default());
        let s = Session {
            turn: 3,
            run_id: Some("claude-code/shop/abc/3".into()),
            turn_started_at: Some(5),
            ..Session::default()
        };
        store.save("../../etc/passwd", &s).unwrap();
        assert_eq!(store.load("../../etc/passwd"), s);
        let files: Vec<_> = std::fs::read_dir(dir.path().join("hooks/claude-code"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files.len(), 1);
        assert!(
            files[0].ends_with(".json") && !files[0].contains(".."),
            "{files:?}"
        );
        std::fs::write(store.file("bad"), b"{not json").unwrap();
        assert_eq!(store.load("bad"), Session::default());
    }
}
