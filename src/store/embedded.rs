//! The default store: a map in this process. It starts empty; the service rebuilds it from
//! Docker on start. Login sessions are the exception: they are kept in a file when one is
//! given (`FARM_STATE_DIR`), since Docker cannot give them back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::sessions_file::Sessions;
use super::{Setup, WorkerRecord};

#[derive(Clone, Default)]
pub struct EmbeddedStore {
    records: Arc<Mutex<HashMap<String, WorkerRecord>>>,
    sessions: Arc<Mutex<Sessions>>,
}

impl EmbeddedStore {
    /// A store whose sessions are saved in `file` (and read back from it now).
    pub fn with_sessions_file(file: PathBuf) -> Self {
        EmbeddedStore {
            records: Arc::default(),
            sessions: Arc::new(Mutex::new(Sessions::load(file))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, WorkerRecord>> {
        // A panic elsewhere cannot leave a half-written record: every write is one insert.
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn records(&self) -> HashMap<String, WorkerRecord> {
        self.lock().clone()
    }

    pub fn set_setup(&self, id: &str, setup: &Setup) {
        self.lock().entry(id.to_owned()).or_default().setup = Some(setup.clone());
    }

    pub fn set_out_of_memory(&self, id: &str, at: Option<i64>) {
        self.lock().entry(id.to_owned()).or_default().out_of_memory = at;
    }

    pub fn forget(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_session(&self, key: &str, lifetime: Duration) {
        self.sessions().add(key, lifetime);
    }

    pub fn has_session(&self, key: &str) -> bool {
        self.sessions().has(key)
    }

    pub fn end_session(&self, key: &str) {
        self.sessions().end(key);
    }

    pub fn end_all_sessions(&self) {
        self.sessions().end_all();
    }
}
