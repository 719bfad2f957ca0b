//! The default store: a map in this process. It starts empty; the service rebuilds it from
//! Docker on start. Login sessions and presets are the exception: they are kept in files when
//! given (`FARM_STATE_DIR`), since Docker cannot give them back.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::presets_file::Presets;
use super::sessions_file::Sessions;
use super::{Setup, WorkerRecord};
use crate::presets::Preset;

#[derive(Clone, Default)]
pub struct EmbeddedStore {
    records: Arc<Mutex<HashMap<String, WorkerRecord>>>,
    sessions: Arc<Mutex<Sessions>>,
    presets: Arc<Mutex<Presets>>,
}

impl EmbeddedStore {
    /// A store whose sessions and presets are saved in these files (and read back now).
    pub fn with_files(sessions: PathBuf, presets: PathBuf) -> Self {
        EmbeddedStore {
            records: Arc::default(),
            sessions: Arc::new(Mutex::new(Sessions::load(sessions))),
            presets: Arc::new(Mutex::new(Presets::load(presets))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, WorkerRecord>> {
        // A panic elsewhere cannot leave a half-written record: every write is one insert.
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn records(&self) -> HashMap<String, WorkerRecord> {
        self.lock().clone()
    }

    pub fn record(&self, id: &str) -> Option<WorkerRecord> {
        self.lock().get(id).cloned()
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

    fn presets(&self) -> MutexGuard<'_, Presets> {
        self.presets.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn all_presets(&self) -> BTreeMap<String, Preset> {
        self.presets().all()
    }

    pub fn put_preset(&self, name: &str, preset: &Preset) -> std::io::Result<()> {
        self.presets().put(name, preset)
    }

    pub fn delete_preset(&self, name: &str) -> std::io::Result<bool> {
        self.presets().delete(name)
    }
}
