//! The default store: a map in this process. It starts empty; the service rebuilds it from
//! Docker on start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Setup, WorkerRecord};

#[derive(Clone, Default)]
pub struct EmbeddedStore {
    records: Arc<Mutex<HashMap<String, WorkerRecord>>>,
    /// Sessions by key, with when each expires.
    sessions: Arc<Mutex<HashMap<String, Instant>>>,
}

impl EmbeddedStore {
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

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_session(&self, key: &str, lifetime: Duration) {
        let now = Instant::now();
        let mut sessions = self.sessions();
        sessions.retain(|_, expires| *expires > now);
        sessions.insert(key.to_owned(), now + lifetime);
    }

    pub fn has_session(&self, key: &str) -> bool {
        self.sessions()
            .get(key)
            .is_some_and(|expires| *expires > Instant::now())
    }

    pub fn end_session(&self, key: &str) {
        self.sessions().remove(key);
    }

    pub fn end_all_sessions(&self) {
        self.sessions().clear();
    }
}
