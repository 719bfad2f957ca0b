//! The store in Redis (`REDIS_URL`): a set of worker ids and one hash per worker, under keys
//! prefixed with the farm instance so that several farms can share one Redis.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use std::collections::BTreeMap;

use super::{Setup, WorkerRecord};
use crate::error::FarmError;
use crate::presets::Preset;

/// A request to Redis waits at most this long; a stalled Redis must not stall the dashboard.
const TIMEOUT: Duration = Duration::from_secs(2);

const SETUP: &str = "setup";
const OUT_OF_MEMORY: &str = "out-of-memory";

#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisStore {
    pub async fn connect(url: &str, instance: &str) -> Result<Self, FarmError> {
        let client = redis::Client::open(url).map_err(|e| {
            FarmError::StoreUnavailable(format!("REDIS_URL is not a valid Redis URL: {e}"))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(store_error)?;
        Ok(RedisStore {
            connection,
            prefix: format!("claude-worker-farm:{instance}"),
        })
    }

    fn index_key(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    fn worker_key(&self, id: &str) -> String {
        format!("{}:worker:{id}", self.prefix)
    }

    /// One hash: preset name → the preset as JSON.
    fn presets_key(&self) -> String {
        format!("{}:presets", self.prefix)
    }

    fn sessions_key(&self) -> String {
        format!("{}:sessions", self.prefix)
    }

    fn session_key(&self, key: &str) -> String {
        format!("{}:session:{key}", self.prefix)
    }

    pub async fn records(&self) -> Result<HashMap<String, WorkerRecord>, FarmError> {
        let mut connection = self.connection.clone();
        let ids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.index_key())
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HGETALL").arg(self.worker_key(id));
        }
        let fields: Vec<HashMap<String, String>> = pipe
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        Ok(ids
            .into_iter()
            .zip(fields)
            .map(|(id, fields)| (id, record_from(&fields)))
            .collect())
    }

    /// One worker's record: one HGETALL; `None` when the store knows nothing of it.
    pub async fn record(&self, id: &str) -> Result<Option<WorkerRecord>, FarmError> {
        let mut connection = self.connection.clone();
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.worker_key(id))
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        Ok((!fields.is_empty()).then(|| record_from(&fields)))
    }

    pub async fn set_setup(&self, id: &str, setup: &Setup) -> Result<(), FarmError> {
        let json = serde_json::to_string(setup).expect("a Setup always serialises");
        self.set_field(id, SETUP, json).await
    }

    pub async fn set_out_of_memory(&self, id: &str, at: Option<i64>) -> Result<(), FarmError> {
        match at {
            Some(at) => self.set_field(id, OUT_OF_MEMORY, at.to_string()).await,
            None => {
                let mut connection = self.connection.clone();
                redis::cmd("HDEL")
                    .arg(self.worker_key(id))
                    .arg(OUT_OF_MEMORY)
                    .query_async::<()>(&mut connection)
                    .await
                    .map_err(store_error)
            }
        }
    }

    /// One field of one worker, with its id in the index, in one transaction.
    async fn set_field(&self, id: &str, field: &str, value: String) -> Result<(), FarmError> {
        let mut connection = self.connection.clone();
        redis::pipe()
            .atomic()
            .cmd("SADD")
            .arg(self.index_key())
            .arg(id)
            .ignore()
            .cmd("HSET")
            .arg(self.worker_key(id))
            .arg(field)
            .arg(value)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }

    pub async fn forget(&self, id: &str) -> Result<bool, FarmError> {
        let mut connection = self.connection.clone();
        let (removed, _): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("SREM")
            .arg(self.index_key())
            .arg(id)
            .cmd("DEL")
            .arg(self.worker_key(id))
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        Ok(removed > 0)
    }

    /// A session lives in its own key that Redis expires; the set of keys lets "log out
    /// everywhere" find them all.
    pub async fn add_session(&self, key: &str, lifetime: Duration) -> Result<(), FarmError> {
        let mut connection = self.connection.clone();
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.session_key(key))
            .arg(1)
            .arg("EX")
            .arg(lifetime.as_secs().max(1))
            .ignore()
            .cmd("SADD")
            .arg(self.sessions_key())
            .arg(key)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }

    pub async fn has_session(&self, key: &str) -> Result<bool, FarmError> {
        let mut connection = self.connection.clone();
        redis::cmd("EXISTS")
            .arg(self.session_key(key))
            .query_async::<i64>(&mut connection)
            .await
            .map(|n| n > 0)
            .map_err(store_error)
    }

    pub async fn end_session(&self, key: &str) -> Result<(), FarmError> {
        let mut connection = self.connection.clone();
        redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(self.session_key(key))
            .ignore()
            .cmd("SREM")
            .arg(self.sessions_key())
            .arg(key)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }

    pub async fn end_all_sessions(&self) -> Result<(), FarmError> {
        let mut connection = self.connection.clone();
        let keys: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.sessions_key())
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in &keys {
            pipe.cmd("DEL").arg(self.session_key(key)).ignore();
        }
        pipe.cmd("DEL").arg(self.sessions_key()).ignore();
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }

    pub async fn presets(&self) -> Result<BTreeMap<String, Preset>, FarmError> {
        let mut connection = self.connection.clone();
        let saved: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.presets_key())
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        // One that cannot be read (written by another version) is left out, not fatal.
        Ok(saved
            .into_iter()
            .filter_map(|(name, json)| Some((name, serde_json::from_str(&json).ok()?)))
            .collect())
    }

    pub async fn put_preset(&self, name: &str, preset: &Preset) -> Result<(), FarmError> {
        let json = serde_json::to_string(preset).expect("a Preset always serialises");
        let mut connection = self.connection.clone();
        redis::cmd("HSET")
            .arg(self.presets_key())
            .arg(name)
            .arg(json)
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }

    pub async fn delete_preset(&self, name: &str) -> Result<bool, FarmError> {
        let mut connection = self.connection.clone();
        redis::cmd("HDEL")
            .arg(self.presets_key())
            .arg(name)
            .query_async::<i64>(&mut connection)
            .await
            .map(|removed| removed > 0)
            .map_err(store_error)
    }
}

/// A hash written by an older or newer version may lack a field or hold one we cannot read:
/// what cannot be read is rebuilt from Docker rather than failing the whole list.
fn record_from(fields: &HashMap<String, String>) -> WorkerRecord {
    WorkerRecord {
        setup: fields
            .get(SETUP)
            .and_then(|json| serde_json::from_str(json).ok()),
        out_of_memory: fields.get(OUT_OF_MEMORY).and_then(|at| at.parse().ok()),
    }
}

fn store_error(e: redis::RedisError) -> FarmError {
    FarmError::StoreUnavailable(e.to_string())
}
