//! The worker service: the only way the REST API and the Leptos server functions touch
//! workers. It enforces the rules (validation, limits, unique ids) before Docker sees anything.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::Stream;
use futures_util::StreamExt;
use rand::Rng;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::FarmError;
use crate::runtime::{DockerRuntime, Removal, WorkerContainer};
use crate::worker::{is_valid_id, NewWorker, Worker, WorkerStatus};

/// Pause before listening to Docker's events again after the connection dropped.
pub const EVENTS_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Most log lines one request may ask for; a worker's log can be long.
pub const MAX_LOG_LINES: usize = 10_000;

#[derive(Clone)]
pub struct WorkerService {
    runtime: DockerRuntime,
    config: Arc<Config>,
    /// Serialises the checks and creations of containers so that the limit and id checks
    /// cannot race each other.
    create_lock: Arc<Mutex<()>>,
    /// Counts changes to this farm's workers, as Docker's event stream reports them.
    changes: watch::Receiver<u64>,
    /// The task that follows Docker's events; it stops with the last clone of the service.
    _events: Arc<AbortOnDrop>,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl WorkerService {
    /// Connects to Docker and prepares the network and volumes that workers share.
    pub async fn start(config: Config) -> Result<Self, FarmError> {
        let runtime = DockerRuntime::connect(config.clone()).await?;
        runtime.prepare().await?;
        // Workers outlive the dashboard: whatever runs under our labels is ours again.
        let found = runtime.list_workers().await?;
        let running = found
            .iter()
            .filter(|w| w.status == WorkerStatus::Running)
            .count();
        tracing::info!(
            instance = %config.instance,
            "found {} existing worker(s), {running} running",
            found.len()
        );
        let (changed, changes) = watch::channel(0);
        let events = tokio::spawn(follow_events(runtime.clone(), changed));
        Ok(WorkerService {
            runtime,
            config: Arc::new(config),
            create_lock: Arc::default(),
            changes,
            _events: Arc::new(AbortOnDrop(events)),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes whenever a worker is created, starts, stops, restarts or goes away.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    pub async fn list(&self) -> Result<Vec<Worker>, FarmError> {
        Ok(self
            .runtime
            .list_workers()
            .await?
            .into_iter()
            .map(to_worker)
            .collect())
    }

    pub async fn get(&self, id: &str) -> Result<Worker, FarmError> {
        self.list()
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| FarmError::NotFound(id.to_owned()))
    }

    pub async fn create(&self, request: NewWorker) -> Result<Worker, FarmError> {
        let spec = request.validate(random_id)?;
        if !self.runtime.image_exists(&self.config.worker_image).await? {
            return Err(FarmError::ImageMissing(self.config.worker_image.clone()));
        }
        // Cheap and idempotent: survives a `docker network prune` while the dashboard runs.
        self.runtime.prepare().await?;
        {
            // Only the checks and the creation are serialised; starting, the slow part,
            // runs alongside other creations.
            let _guard = self.create_lock.lock().await;
            let existing = self.runtime.list_workers().await?;
            if existing.iter().any(|w| w.id == spec.id) {
                return Err(FarmError::AlreadyExists(spec.id));
            }
            if existing.len() >= self.config.max_workers {
                return Err(FarmError::LimitReached(self.config.max_workers));
            }
            let direct_port = self.config.base_port.map(|base| free_port(base, &existing));
            self.runtime.create_worker(&spec, direct_port).await?;
        }
        self.runtime.start_worker(&spec.id).await?;
        tracing::info!(worker = %spec.id, "worker created");
        self.get(&spec.id).await
    }

    pub async fn delete(&self, id: &str) -> Result<(), FarmError> {
        check_id(id)?;
        // Only a worker of this farm, never one of another farm on the same engine.
        self.get(id).await?;
        match self.runtime.remove_worker(id).await? {
            Removal::Removed => {
                tracing::info!(worker = %id, "worker deleted");
                Ok(())
            }
            Removal::AlreadyGone => Err(FarmError::NotFound(id.to_owned())),
        }
    }

    pub async fn restart(&self, id: &str) -> Result<Worker, FarmError> {
        check_id(id)?;
        self.get(id).await?;
        self.runtime.restart_worker(id).await?;
        tracing::info!(worker = %id, "worker restarted");
        self.get(id).await
    }

    /// The worker's container output: see [`DockerRuntime::logs`].
    pub async fn logs(
        &self,
        id: &str,
        tail: usize,
        follow: bool,
    ) -> Result<impl Stream<Item = Result<Bytes, FarmError>> + Send + 'static, FarmError> {
        check_id(id)?;
        self.get(id).await?;
        Ok(self.runtime.logs(id, tail.min(MAX_LOG_LINES), follow))
    }

    /// Where the worker's ttyd answers; the terminal proxy connects there.
    pub async fn terminal_addr(&self, id: &str) -> Result<SocketAddr, FarmError> {
        check_id(id)?;
        self.runtime.terminal_addr(id).await
    }
}

/// Follows Docker's events for this farm's containers and counts them into `changed`. When
/// the engine connection drops it counts once more (anything may have changed meanwhile)
/// and listens again.
async fn follow_events(runtime: DockerRuntime, changed: watch::Sender<u64>) {
    loop {
        let mut events = std::pin::pin!(runtime.container_events());
        while let Some(event) = events.next().await {
            if let Err(e) = event {
                tracing::warn!("lost Docker's event stream: {e}");
                break;
            }
            changed.send_modify(|n| *n += 1);
        }
        changed.send_modify(|n| *n += 1);
        tokio::time::sleep(EVENTS_RETRY).await;
    }
}

/// Ids arrive in URLs: anything a slug cannot be names no worker.
fn check_id(id: &str) -> Result<(), FarmError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(FarmError::NotFound(id.to_owned()))
    }
}

/// The lowest port from `base` up that no existing worker has.
fn free_port(base: u16, existing: &[WorkerContainer]) -> u16 {
    (base..=u16::MAX)
        .find(|port| !existing.iter().any(|w| w.direct_port == Some(*port)))
        .unwrap_or(base)
}

fn random_id() -> String {
    format!("worker-{:06x}", rand::rng().random_range(0..0x100_0000))
}

fn to_worker(c: WorkerContainer) -> Worker {
    Worker {
        terminal_url: format!("/workers/{}", c.id),
        id: c.id,
        name: c.name,
        status: c.status,
        git_repo: c.git_repo,
        created: c.created,
        direct_port: c.direct_port,
    }
}
