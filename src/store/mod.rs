//! What the farm knows about its workers that Docker labels cannot hold, because it changes
//! after the container is created: how the repository clone went. Docker stays the source of truth for which workers
//! exist; everything here can be rebuilt from Docker (see `WorkerService::reconcile`).
//!
//! It also holds the login sessions (by the hash of their token, never the token) and the
//! presets (which hold no secrets).
//!
//! Embedded (in this process) by default, Redis when `REDIS_URL` is set so that the state is
//! shared and outlives the dashboard.

mod embedded;
mod presets_file;
mod redis;
mod sessions_file;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::FarmError;
use crate::presets::Preset;

pub use self::embedded::EmbeddedStore;
pub use self::redis::RedisStore;

/// How far the worker's entrypoint got in preparing its repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Setup {
    Cloning,
    Ready,
    Failed { reason: String },
}

/// Everything the store holds about one worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerRecord {
    pub setup: Option<Setup>,
    /// When the kernel last killed one of its processes for want of memory (seconds since
    /// the Unix epoch); cleared when the worker is restarted.
    pub out_of_memory: Option<i64>,
}

#[derive(Clone)]
pub enum Store {
    Embedded(EmbeddedStore),
    Redis(RedisStore),
}

impl Store {
    /// Redis when a URL is given (and reachable), the embedded store otherwise.
    pub async fn open(redis_url: Option<&str>, instance: &str) -> Result<Store, FarmError> {
        match redis_url {
            Some(url) => Ok(Store::Redis(RedisStore::connect(url, instance).await?)),
            None => Ok(Store::Embedded(EmbeddedStore::default())),
        }
    }

    /// A word for logs: which kind of store this is.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Embedded(_) => "embedded",
            Store::Redis(_) => "redis",
        }
    }

    /// Every worker the store knows, by id.
    pub async fn records(&self) -> Result<HashMap<String, WorkerRecord>, FarmError> {
        match self {
            Store::Embedded(s) => Ok(s.records()),
            Store::Redis(s) => s.records().await,
        }
    }

    /// One worker's record; `None` when the store knows nothing of it.
    pub async fn record(&self, id: &str) -> Result<Option<WorkerRecord>, FarmError> {
        match self {
            Store::Embedded(s) => Ok(s.record(id)),
            Store::Redis(s) => s.record(id).await,
        }
    }

    pub async fn set_setup(&self, id: &str, setup: &Setup) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => {
                s.set_setup(id, setup);
                Ok(())
            }
            Store::Redis(s) => s.set_setup(id, setup).await,
        }
    }

    /// Records (or with `None` clears) that the worker ran out of memory.
    pub async fn set_out_of_memory(&self, id: &str, at: Option<i64>) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => {
                s.set_out_of_memory(id, at);
                Ok(())
            }
            Store::Redis(s) => s.set_out_of_memory(id, at).await,
        }
    }

    /// Drops everything about a worker; `false` when there was nothing.
    pub async fn forget(&self, id: &str) -> Result<bool, FarmError> {
        match self {
            Store::Embedded(s) => Ok(s.forget(id)),
            Store::Redis(s) => s.forget(id).await,
        }
    }

    /// Remembers a login session for `lifetime`.
    pub async fn add_session(&self, key: &str, lifetime: Duration) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => {
                s.add_session(key, lifetime);
                Ok(())
            }
            Store::Redis(s) => s.add_session(key, lifetime).await,
        }
    }

    /// Whether a session exists and has not expired.
    pub async fn has_session(&self, key: &str) -> Result<bool, FarmError> {
        match self {
            Store::Embedded(s) => Ok(s.has_session(key)),
            Store::Redis(s) => s.has_session(key).await,
        }
    }

    pub async fn end_session(&self, key: &str) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => {
                s.end_session(key);
                Ok(())
            }
            Store::Redis(s) => s.end_session(key).await,
        }
    }

    pub async fn end_all_sessions(&self) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => {
                s.end_all_sessions();
                Ok(())
            }
            Store::Redis(s) => s.end_all_sessions().await,
        }
    }

    /// Every saved preset, by name.
    pub async fn presets(&self) -> Result<BTreeMap<String, Preset>, FarmError> {
        match self {
            Store::Embedded(s) => Ok(s.all_presets()),
            Store::Redis(s) => s.presets().await,
        }
    }

    /// Saves a preset under `name`, replacing any of that name.
    pub async fn put_preset(&self, name: &str, preset: &Preset) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => s.put_preset(name, preset).map_err(file_error),
            Store::Redis(s) => s.put_preset(name, preset).await,
        }
    }

    /// Deletes a preset; `false` when there was none of that name.
    pub async fn delete_preset(&self, name: &str) -> Result<bool, FarmError> {
        match self {
            Store::Embedded(s) => s.delete_preset(name).map_err(file_error),
            Store::Redis(s) => s.delete_preset(name).await,
        }
    }
}

fn file_error(e: std::io::Error) -> FarmError {
    FarmError::StoreUnavailable(format!(
        "the presets file could not be written ({e}): check FARM_STATE_DIR"
    ))
}
