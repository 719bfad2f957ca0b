//! Keeping up with what happens outside our requests: Docker's events (a worker died, was
//! restarted by hand, went away) and each worker's setup as its entrypoint reports it.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::watchers::Watchers;
use crate::engine::{ContainerEvent, Engine, LogRange};
use crate::error::FarmError;
use crate::setup::{LineSplitter, SetupReader};
use crate::store::{Setup, Store};

/// Pause before listening to Docker's events again after the connection dropped.
pub const EVENTS_RETRY: Duration = Duration::from_secs(2);

/// Lines of a running worker's log read to find where its latest run is; the entrypoint
/// prints a handful, ttyd one per connection.
const SETUP_TAIL: usize = 500;

/// Writes what it learns to the store and tells followers of the service that something
/// changed. Cheap to clone; holds no handle to the service, so background tasks do not keep
/// the service alive.
#[derive(Clone)]
pub(super) struct Tracker {
    pub(super) engine: Arc<dyn Engine>,
    pub(super) store: Store,
    changed: std::sync::Arc<watch::Sender<u64>>,
    /// The agent status of each running worker.
    pub(super) watchers: Watchers,
    /// Set when the store failed a read or a write: it may have lost what it held.
    pub(super) store_failed: Arc<AtomicBool>,
}

impl Tracker {
    pub(super) fn new(
        engine: Arc<dyn Engine>,
        store: Store,
        changed: watch::Sender<u64>,
        agent_status: bool,
    ) -> Self {
        let changed = Arc::new(changed);
        Tracker {
            watchers: Watchers::new(agent_status, engine.clone(), changed.clone()),
            engine,
            store,
            changed,
            store_failed: Arc::default(),
        }
    }

    /// Marks the store as possibly behind; `reconcile::resync` catches it up.
    pub(super) fn store_trouble(&self, e: &FarmError) {
        if !self.store_failed.swap(true, Ordering::Relaxed) {
            tracing::warn!("the store failed ({e}): it will be resynchronised with Docker");
        }
    }

    /// Counts one more change for everyone who follows `WorkerService::changes`.
    pub(super) fn announce_change(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Store writes are best effort: Docker keeps the truth, and the next reconciliation or
    /// setup reading writes them again.
    pub(super) async fn remember_setup(&self, id: &str, setup: &Setup) {
        if let Err(e) = self.store.set_setup(id, setup).await {
            tracing::warn!(worker = %id, "could not record the setup state: {e}");
            self.store_trouble(&e);
        }
    }

    pub(super) async fn forget(&self, id: &str) {
        if let Err(e) = self.store.forget(id).await {
            tracing::warn!(worker = %id, "could not drop the worker from the store: {e}");
            self.store_trouble(&e);
        }
    }

    /// Reads where the setup of the worker's latest run got to from the tail of its log and
    /// records it. Returns the reader when the setup is still going, to be followed.
    pub(super) async fn catch_up(&self, id: &str) -> Option<SetupReader> {
        let mut reader = SetupReader::default();
        let so_far = LogRange {
            tail: Some(SETUP_TAIL),
            since: 0,
            follow: false,
        };
        self.feed(id, &mut reader, so_far).await;
        (!reader.finished()).then_some(reader)
    }

    /// Follows the worker's setup in the background until its terminal is up, from
    /// `since` (seconds since the Unix epoch), continuing what `reader` has read.
    pub(super) fn follow_setup(&self, id: String, reader: SetupReader, since: i64) {
        let tracker = self.clone();
        tokio::spawn(async move {
            let mut reader = reader;
            let next = LogRange {
                tail: None,
                since,
                follow: true,
            };
            tracker.feed(&id, &mut reader, next).await;
        });
    }

    /// Reads the log range into `reader`, recording each new setup state, until the setup
    /// is finished or the log ends (the container stopped).
    async fn feed(&self, id: &str, reader: &mut SetupReader, range: LogRange) {
        let mut logs = pin!(self.engine.logs(id, range));
        let mut splitter = LineSplitter::default();
        let mut recorded = reader.setup().cloned();
        while let Some(chunk) = logs.next().await {
            let Ok(chunk) = chunk else { break };
            for line in splitter.push(&chunk) {
                reader.feed(&line);
            }
            if range.follow {
                self.record(id, reader, &mut recorded).await;
                if reader.finished() {
                    return;
                }
            }
        }
        self.record(id, reader, &mut recorded).await;
    }

    async fn record(&self, id: &str, reader: &SetupReader, recorded: &mut Option<Setup>) {
        if let Some(setup) = reader.setup() {
            if recorded.as_ref() != Some(setup) {
                self.remember_setup(id, setup).await;
                *recorded = Some(setup.clone());
                self.announce_change();
            }
        }
    }

    async fn on_event(&self, event: ContainerEvent) {
        // Commands run inside workers (the agent watchers among them) change no worker.
        if event.action.starts_with("exec_") {
            return;
        }
        if let Some(id) = event.worker {
            match event.action.as_str() {
                "start" => {
                    self.watchers.watch(&id);
                    if event.has_git_repo {
                        self.follow_setup(id, SetupReader::default(), event.time);
                    }
                }
                "destroy" => self.forget(&id).await,
                // The kernel killed a process of the worker (or the worker) for memory.
                "oom" => {
                    tracing::warn!(worker = %id, "a process ran out of memory and was killed");
                    if let Err(e) = self.store.set_out_of_memory(&id, Some(event.time)).await {
                        self.store_trouble(&e);
                    }
                }
                _ => {}
            }
        }
        self.announce_change();
    }
}

/// Follows Docker's events for this farm's containers. When the engine connection drops it
/// counts a change (anything may have changed meanwhile) and listens again; once back, it
/// reconciles (an engine that restarted restarted the workers too).
pub(super) async fn docker_events(tracker: Tracker) {
    let mut reconnected = false;
    loop {
        let mut events = pin!(tracker.engine.events());
        if reconnected {
            match tracker.reconcile().await {
                Ok(()) => {
                    tracing::info!("Docker's event stream is back");
                    // What happened while nobody listened shows on every open page.
                    tracker.announce_change();
                }
                Err(e) => tracing::debug!("the engine is still away: {e}"),
            }
        }
        reconnected = true;
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => tracker.on_event(event).await,
                Err(e) => {
                    tracing::warn!("lost Docker's event stream: {e}");
                    break;
                }
            }
        }
        tracker.announce_change();
        tokio::time::sleep(EVENTS_RETRY).await;
    }
}

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
