//! The worker service: the only way the REST API and the Leptos server functions touch
//! workers. It enforces the rules (validation, limits, unique ids) before Docker sees anything,
//! and joins what Docker reports with what the store remembers.

mod feed;
mod follow;
mod presets;
mod reconcile;
mod watchers;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::join_all;
use futures_util::Stream;
use rand::Rng;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::agent::usage::AgentUsage;
use crate::agent::AgentStatus;
use crate::batch::{BatchAction, BatchRequest, BatchResult};
use crate::config::Config;
use crate::engine::{DockerEngine, Engine, LogRange, Removal, TerminalTarget, WorkerContainer};
use crate::error::FarmError;
use crate::git_identity::{check_author_email, check_author_name};
use crate::git_url::redact_credentials;
use crate::limits::FarmUse;
use crate::store::{EmbeddedStore, Setup, Store, WorkerRecord};
use crate::worker::{is_valid_id, NewWorker, Worker, WorkerStatus};
use crate::worker_image::TMUX_SESSION;

pub use self::feed::WorkersFeed;
use self::follow::Tracker;

/// Most log lines one request may ask for; a worker's log can be long.
pub const MAX_LOG_LINES: usize = 10_000;

#[derive(Clone)]
pub struct WorkerService {
    engine: Arc<dyn Engine>,
    store: Store,
    config: Arc<Config>,
    /// Serialises the checks and creations of containers so that the limit and id checks
    /// cannot race each other.
    create_lock: Arc<Mutex<()>>,
    /// Room in the farm as last seen, so that a flood of creates is refused at once instead
    /// of queueing at the engine.
    room: Arc<Room>,
    /// Counts changes to this farm's workers: Docker's events and setup progress.
    changes: watch::Receiver<u64>,
    /// Memory all workers' limits together may add up to, in MiB.
    memory_budget_mb: u64,
    /// Keeps the store in step with what Docker and the workers report.
    tracker: Tracker,
    /// The task that follows Docker's events; it stops with the last clone of the service.
    _events: Arc<AbortOnDrop>,
    /// The task that keeps the store in step after an outage; it stops likewise.
    _resync: Arc<AbortOnDrop>,
    /// The task that sends pages the workers' gauges; it stops likewise.
    _gauges: Arc<AbortOnDrop>,
}

pub(super) struct AbortOnDrop(pub(super) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl WorkerService {
    /// Connects to Docker and the store, prepares the network and volumes that workers
    /// share, and adopts the workers that already run (they outlive the dashboard).
    pub async fn start(config: Config) -> Result<Self, FarmError> {
        config.limit_rules().check()?;
        check_git_author(&config)?;
        let engine = DockerEngine::connect(config.clone()).await?;
        let store = match (
            &config.redis_url,
            config.sessions_file(),
            config.presets_file(),
        ) {
            (None, Some(sessions), Some(presets)) => {
                Store::Embedded(EmbeddedStore::with_files(sessions, presets))
            }
            (redis_url, ..) => {
                Store::open(redis_url.as_ref().map(|u| u.expose()), &config.instance).await?
            }
        };
        Self::with_engine(config, Arc::new(engine), store).await
    }

    /// The service over a given engine and store: prepares the engine, follows it, and
    /// reconciles the store with the workers it already runs.
    pub async fn with_engine(
        config: Config,
        engine: Arc<dyn Engine>,
        store: Store,
    ) -> Result<Self, FarmError> {
        engine.prepare().await?;
        let memory_budget_mb = match config.memory_budget_mb {
            Some(budget) => budget,
            None => engine.memory_mb().await? * 4 / 5,
        };
        tracing::info!("memory budget for all workers: {memory_budget_mb} MiB");
        let (changed, changes) = watch::channel(0);
        let tracker = Tracker::new(engine.clone(), store.clone(), changed, config.agent_status);
        // Follow first, then reconcile: a change in between is seen by the follower.
        let events = tokio::spawn(follow::docker_events(tracker.clone()));
        let resync = tokio::spawn(reconcile::resync(tracker.clone()));
        let gauges = tokio::spawn(tracker.watchers.clone().publish_gauges());
        let service = WorkerService {
            engine,
            store,
            config: Arc::new(config),
            create_lock: Arc::default(),
            room: Arc::default(),
            changes,
            memory_budget_mb,
            tracker,
            _events: Arc::new(AbortOnDrop(events)),
            _resync: Arc::new(AbortOnDrop(resync)),
            _gauges: Arc::new(AbortOnDrop(gauges)),
        };
        service.tracker.reconcile().await?;
        Ok(service)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store, which also keeps the login sessions (`farm::auth`).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Changes whenever a worker is created, starts, stops, restarts or goes away.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// Every worker's CPU and memory, a snapshot every couple of seconds while anyone
    /// follows (`farm::gauges::decode` reads it).
    pub fn gauges(&self) -> watch::Receiver<Arc<str>> {
        self.tracker.watchers.subscribe_gauges()
    }

    pub async fn list(&self) -> Result<Vec<Worker>, FarmError> {
        let containers = self.engine.list_workers().await?;
        self.room.seen(containers.len());
        let records = self.records().await;
        Ok(containers
            .into_iter()
            .map(|c| {
                let record = records.get(&c.id).cloned().unwrap_or_default();
                let watchers = &self.tracker.watchers;
                let (agent, usage) = match c.status {
                    WorkerStatus::Running => (watchers.agent(&c.id), watchers.usage(&c.id)),
                    _ => (None, None),
                };
                to_worker(c, record, agent, usage)
            })
            .collect())
    }

    /// What the store knows; when it cannot answer, the workers are still listed from
    /// Docker, only without their setup state.
    async fn records(&self) -> std::collections::HashMap<String, WorkerRecord> {
        self.store.records().await.unwrap_or_else(|e| {
            tracing::warn!("listing workers without the store: {e}");
            self.tracker.store_trouble(&e);
            Default::default()
        })
    }

    pub async fn get(&self, id: &str) -> Result<Worker, FarmError> {
        let container = self.member(id).await?;
        Ok(self.shown(container).await)
    }

    /// The worker's container, if it is one of this farm's (never another farm's on the
    /// same engine): one look at the engine, by label.
    async fn member(&self, id: &str) -> Result<WorkerContainer, FarmError> {
        check_id(id)?;
        self.engine
            .worker(id)
            .await?
            .ok_or_else(|| FarmError::NotFound(id.to_owned()))
    }

    /// A container as the API shows it: with what the store and the watchers know of it.
    async fn shown(&self, container: WorkerContainer) -> Worker {
        let record = match self.store.record(&container.id).await {
            Ok(record) => record.unwrap_or_default(),
            Err(e) => {
                self.tracker.store_trouble(&e);
                WorkerRecord::default()
            }
        };
        let watchers = &self.tracker.watchers;
        let (agent, usage) = match container.status {
            WorkerStatus::Running => (watchers.agent(&container.id), watchers.usage(&container.id)),
            _ => (None, None),
        };
        to_worker(container, record, agent, usage)
    }

    pub async fn create(&self, request: NewWorker) -> Result<Worker, FarmError> {
        let request = self.with_preset(request).await?;
        let mut spec = request.validate(random_id)?;
        let image = spec
            .image
            .take()
            .unwrap_or_else(|| self.config.worker_image.clone());
        self.check_image(&image)?;
        // The farm's git author, unless the worker was given its own.
        let farm_wide = |setting: &Option<String>| {
            setting
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let options = &mut spec.options;
        options.git_author_name = options
            .git_author_name
            .take()
            .or_else(|| farm_wide(&self.config.git_author_name));
        options.git_author_email = options
            .git_author_email
            .take()
            .or_else(|| farm_wide(&self.config.git_author_email));
        let limits = self
            .config
            .limit_rules()
            .resolve(request.memory_mb, request.cpus)?;
        // A full farm is said at once, from the last count plus the creations under way,
        // without queueing behind them at the engine (a flood of 60 creates measured 86x a
        // list for a refusal before); the real check runs again under the lock.
        let _slot = self.room.reserve(self.config.max_workers)?;
        if !self.engine.image_exists(&image).await? {
            return Err(FarmError::ImageMissing(image));
        }
        spec.image = Some(image);
        let made;
        {
            // Only the checks and the creation are serialised; starting, the slow part,
            // runs alongside other creations.
            let _guard = self.create_lock.lock().await;
            let existing = self.engine.list_workers().await?;
            self.room.seen(existing.len());
            check_room(&existing, &spec.id, self.config.max_workers)?;
            let given = self.memory_given(&existing);
            check_budget(given, u64::from(limits.memory_mb), self.memory_budget_mb)?;
            let direct_port = self.config.base_port.map(|base| free_port(base, &existing));
            self.engine
                .create_worker(&spec, limits, direct_port)
                .await?;
            self.room.seen(existing.len() + 1);
            made = WorkerContainer {
                id: spec.id.clone(),
                name: spec.name.clone(),
                git_repo: spec.git_repo.as_deref().map(redact_credentials),
                status: WorkerStatus::Running,
                created: follow::unix_now(),
                direct_port,
                limits: Some(limits),
                image: spec.image.clone(),
                options: spec.options.clone(),
            };
        }
        // Said before the container starts, so that nobody sees a worker with a repository
        // that is "running" before its clone has begun.
        let setup = if spec.git_repo.is_some() {
            Setup::Cloning
        } else {
            Setup::Ready
        };
        self.tracker.remember_setup(&spec.id, &setup).await;
        if let Err(e) = self.engine.start_worker(&spec.id).await {
            self.tracker.forget(&spec.id).await;
            return Err(e);
        }
        tracing::info!(worker = %spec.id, "worker created");
        // What was made, as the API shows it, without asking the engine again.
        Ok(to_worker(
            made,
            WorkerRecord {
                setup: Some(setup),
                ..Default::default()
            },
            None,
            None,
        ))
    }

    pub async fn delete(&self, id: &str) -> Result<(), FarmError> {
        self.member(id).await?;
        self.remove(id).await
    }

    /// Removes a worker known to be this farm's.
    async fn remove(&self, id: &str) -> Result<(), FarmError> {
        match self.engine.remove_worker(id).await? {
            Removal::Removed => {
                self.room.freed();
                self.tracker.forget(id).await;
                tracing::info!(worker = %id, "worker deleted");
                Ok(())
            }
            Removal::AlreadyGone => Err(FarmError::NotFound(id.to_owned())),
        }
    }

    pub async fn restart(&self, id: &str) -> Result<Worker, FarmError> {
        let container = self.member(id).await?;
        self.restart_member(container).await
    }

    /// Restarts a worker known to be this farm's; answers with it as it runs again.
    async fn restart_member(&self, mut container: WorkerContainer) -> Result<Worker, FarmError> {
        let id = container.id.clone();
        self.engine.restart_worker(&id).await?;
        // A fresh start: what ran out of memory before is gone.
        if let Err(e) = self.store.set_out_of_memory(&id, None).await {
            self.tracker.store_trouble(&e);
        }
        tracing::info!(worker = %id, "worker restarted");
        container.status = WorkerStatus::Running;
        Ok(self.shown(container).await)
    }

    /// How much of the farm is taken: workers and the memory given to them.
    pub async fn usage(&self) -> Result<FarmUse, FarmError> {
        let existing = self.engine.list_workers().await?;
        let spent: Vec<AgentUsage> = existing
            .iter()
            .filter_map(|w| self.tracker.watchers.usage(&w.id))
            .collect();
        Ok(FarmUse {
            claude: AgentUsage::total(&spent),
            workers: existing.len(),
            max_workers: self.config.max_workers,
            memory_given_mb: self.memory_given(&existing),
            memory_budget_mb: self.memory_budget_mb,
            default_limits: self.config.limit_rules().default,
        })
    }

    /// The sum of the workers' memory limits (a worker made before limits were recorded
    /// counts as the default).
    fn memory_given(&self, existing: &[WorkerContainer]) -> u64 {
        let default_mb = self.config.limit_rules().default.memory_mb;
        existing
            .iter()
            .map(|w| u64::from(w.limits.map_or(default_mb, |l| l.memory_mb)))
            .sum()
    }

    /// Types `text` into the worker's tmux session and presses Enter, as a person at its
    /// terminal would (Claude Code takes it as a prompt).
    pub async fn type_prompt(&self, id: &str, text: &str) -> Result<(), FarmError> {
        crate::batch::check_prompt(text)?;
        self.member(id).await?;
        self.type_into(id, text).await
    }

    /// Types into a worker known to be this farm's.
    async fn type_into(&self, id: &str, text: &str) -> Result<(), FarmError> {
        // Literal keys (`-l`), after `--`: a prompt that starts with a dash is still text.
        let typed = self
            .engine
            .exec(
                id,
                &["tmux", "send-keys", "-t", TMUX_SESSION, "-l", "--", text],
            )
            .await?;
        if typed != 0 {
            return Err(FarmError::NoSession(id.to_owned()));
        }
        // Enter on its own, a moment later: typed in the same burst it would read as part
        // of a paste, not as "send".
        self.engine
            .exec(id, &["tmux", "send-keys", "-t", TMUX_SESSION, "Enter"])
            .await?;
        Ok(())
    }

    /// The same action for each worker named, all at once; one result per worker, in order.
    pub async fn batch(&self, request: &BatchRequest) -> Result<Vec<BatchResult>, FarmError> {
        request.validate()?;
        // One look at the engine tells which of them are this farm's.
        let existing = self.engine.list_workers().await?;
        let existing = &existing;
        let results = join_all(request.ids.iter().map(|id| async move {
            let member = existing
                .iter()
                .find(|w| w.id == *id)
                .cloned()
                .ok_or_else(|| FarmError::NotFound(id.clone()));
            let done = match (member, &request.action) {
                (Err(e), _) => Err(e),
                (Ok(_), BatchAction::Prompt { text }) => self.type_into(id, text).await,
                (Ok(worker), BatchAction::Restart) => self.restart_member(worker).await.map(|_| ()),
                (Ok(_), BatchAction::Delete) => self.remove(id).await,
            };
            BatchResult {
                id: id.clone(),
                ok: done.is_ok(),
                code: done.as_ref().err().map(|e| e.code().to_owned()),
                error: done.err().map(|e| e.to_string()),
            }
        }))
        .await;
        Ok(results)
    }

    /// The worker's container output: see [`Engine::logs`].
    pub async fn logs(
        &self,
        id: &str,
        tail: usize,
        follow: bool,
    ) -> Result<impl Stream<Item = Result<Bytes, FarmError>> + Send + 'static, FarmError> {
        self.member(id).await?;
        let range = LogRange {
            tail: Some(tail.min(MAX_LOG_LINES)),
            follow,
            since: 0,
        };
        Ok(self.engine.logs(id, range))
    }

    /// Where the worker's ttyd answers; the terminal proxy connects there.
    pub async fn terminal(&self, id: &str) -> Result<TerminalTarget, FarmError> {
        check_id(id)?;
        self.engine.terminal(id).await
    }
}

/// The farm-wide git author must be one a worker could be given; said at start.
fn check_git_author(config: &Config) -> Result<(), FarmError> {
    let setting = |name: &str, e: crate::worker::InvalidInput| {
        FarmError::InvalidInput(format!("{name}: {}", e.0))
    };
    if let Some(author) = &config.git_author_name {
        check_author_name(author.trim()).map_err(|e| setting("FARM_GIT_AUTHOR_NAME", e))?;
    }
    match config.git_author_email.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(email) => {
            check_author_email(email).map_err(|e| setting("FARM_GIT_AUTHOR_EMAIL", e))?
        }
    }
    Ok(())
}

/// Ids arrive in URLs: anything a slug cannot be names no worker.
fn check_id(id: &str) -> Result<(), FarmError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(FarmError::NotFound(id.to_owned()))
    }
}

/// How many workers the farm had when last listed, and how many creations are under way.
#[derive(Default)]
struct Room {
    workers: AtomicUsize,
    creating: AtomicUsize,
}

/// A creation under way; it stops counting when dropped, created or not.
struct Slot<'a>(&'a Room);

impl Room {
    fn seen(&self, workers: usize) {
        self.workers.store(workers, Ordering::Relaxed);
    }

    /// A worker went: its place is free for the next creation at once, not after the next
    /// list.
    fn freed(&self) {
        self.workers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .ok();
    }

    fn reserve(&self, max: usize) -> Result<Slot<'_>, FarmError> {
        let before = self.creating.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(self);
        if self.workers.load(Ordering::Relaxed) + before >= max {
            return Err(FarmError::LimitReached(max));
        }
        Ok(slot)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.creating.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A new worker needs an id of its own and room in the farm.
fn check_room(existing: &[WorkerContainer], id: &str, max: usize) -> Result<(), FarmError> {
    if existing.iter().any(|w| w.id == id) {
        return Err(FarmError::AlreadyExists(id.to_owned()));
    }
    if existing.len() >= max {
        return Err(FarmError::LimitReached(max));
    }
    Ok(())
}

/// A new worker's memory limit must fit beside those already given (stopped workers count:
/// they may be started again).
fn check_budget(given: u64, asked: u64, budget: u64) -> Result<(), FarmError> {
    if given + asked > budget {
        return Err(FarmError::OverBudget {
            asked,
            free: budget.saturating_sub(given),
            budget,
        });
    }
    Ok(())
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

/// Docker's view, refined by the setup: a running container whose clone is still going is
/// `cloning`, one whose clone failed is `failed` with git's reason.
fn to_worker(
    c: WorkerContainer,
    record: WorkerRecord,
    agent: Option<AgentStatus>,
    usage: Option<AgentUsage>,
) -> Worker {
    let status = match (c.status, record.setup) {
        (WorkerStatus::Running, Some(Setup::Cloning)) => WorkerStatus::Cloning,
        (WorkerStatus::Running, Some(Setup::Failed { reason })) => WorkerStatus::Failed {
            reason: format!("the repository could not be cloned: {reason}"),
        },
        (status, _) => status,
    };
    Worker {
        terminal_url: format!("/workers/{}", c.id),
        id: c.id,
        name: c.name,
        status,
        git_repo: c.git_repo,
        created: c.created,
        direct_port: c.direct_port,
        limits: c.limits,
        out_of_memory: record.out_of_memory,
        agent,
        usage,
        image: c.image,
        options: c.options,
    }
}
