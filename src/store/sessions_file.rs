//! The embedded store's login sessions, kept in a file so that a restarted dashboard does
//! not log everyone out (Redis keeps them itself). The file holds SHA-256 hashes of tokens
//! and when each expires, nothing usable; it is still readable by its owner only.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Session keys and when they expire (seconds since the Unix epoch), saved to `file` after
/// every change when there is one.
#[derive(Default)]
pub struct Sessions {
    expiries: HashMap<String, u64>,
    file: Option<PathBuf>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Sessions {
    /// The sessions saved in `file` that have not expired; none when it is missing or cannot
    /// be read (everyone logs in again, which is safe).
    pub fn load(file: PathBuf) -> Sessions {
        let mut expiries: HashMap<String, u64> = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %file.display(), "ignoring unreadable sessions: {e}");
                HashMap::new()
            }),
            Err(_) => HashMap::new(),
        };
        let now = now();
        expiries.retain(|_, expires| *expires > now);
        Sessions {
            expiries,
            file: Some(file),
        }
    }

    pub fn add(&mut self, key: &str, lifetime: Duration) {
        let now = now();
        self.expiries.retain(|_, expires| *expires > now);
        self.expiries
            .insert(key.to_owned(), now.saturating_add(lifetime.as_secs()));
        self.save();
    }

    pub fn has(&self, key: &str) -> bool {
        self.expiries
            .get(key)
            .is_some_and(|expires| *expires > now())
    }

    pub fn end(&mut self, key: &str) {
        if self.expiries.remove(key).is_some() {
            self.save();
        }
    }

    pub fn end_all(&mut self) {
        self.expiries.clear();
        self.save();
    }

    /// Written whole to a temporary file and renamed over the old one: a crash leaves the old
    /// file or the new one, never half of one.
    fn save(&self) {
        let Some(file) = &self.file else { return };
        if let Err(e) = write_private(
            file,
            &serde_json::to_vec(&self.expiries).unwrap_or_default(),
        ) {
            tracing::warn!(file = %file.display(), "could not save the sessions: {e}");
        }
    }
}

pub(super) fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = file.with_extension("tmp");
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::rename(&temporary, file)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn sessions_outlive_a_restart_and_ends_are_kept_too() {
        let dir = std::env::temp_dir().join(format!("cwf-sessions-{}", std::process::id()));
        let file = dir.join("farm.sessions.json");
        let mut sessions = Sessions::load(file.clone());
        sessions.add("kept", Duration::from_secs(3600));
        sessions.add("ended", Duration::from_secs(3600));
        sessions.add("expired", Duration::ZERO);
        sessions.end("ended");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let again = Sessions::load(file.clone());
        assert!(again.has("kept"));
        assert!(!again.has("ended"));
        assert!(!again.has("expired"));

        std::fs::write(&file, b"not json").unwrap();
        assert!(!Sessions::load(file).has("kept"));
        std::fs::remove_dir_all(dir).ok();
    }
}
