//! What the farm knows about its workers that Docker labels cannot hold, because it changes
//! after the container is created: how the repository clone went. Docker stays the source of truth for which workers
//! exist; everything here can be rebuilt from Docker (see `WorkerService::reconcile`).
//!
//! Embedded (in this process) by default, Redis when `REDIS_URL` is set so that the state is
//! shared and outlives the dashboard.

mod embedded;
mod redis;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::FarmError;

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

    pub async fn set_setup(&self, id: &str, setup: &Setup) -> Result<(), FarmError> {
        match self {
            Store::Embedded(s) => {
                s.set_setup(id, setup);
                Ok(())
            }
            Store::Redis(s) => s.set_setup(id, setup).await,
        }
    }

    /// Drops everything about a worker; `false` when there was nothing.
    pub async fn forget(&self, id: &str) -> Result<bool, FarmError> {
        match self {
            Store::Embedded(s) => Ok(s.forget(id)),
            Store::Redis(s) => s.forget(id).await,
        }
    }
}
