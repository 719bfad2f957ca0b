//! The default store: a map in this process. It starts empty; the service rebuilds it from
//! Docker on start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Setup, WorkerRecord};

#[derive(Clone, Default)]
pub struct EmbeddedStore {
    records: Arc<Mutex<HashMap<String, WorkerRecord>>>,
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

    pub fn forget(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }
}
