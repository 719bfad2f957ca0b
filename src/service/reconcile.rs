//! Bringing the store in line with Docker: when the dashboard starts, when the store comes
//! back after an outage, when the engine comes back, and whenever a periodic look finds them
//! apart. Docker's labels say which workers exist; the store forgets the rest and learns the
//! setup of the new ones.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::join_all;

use super::follow::{unix_now, Tracker};
use crate::error::FarmError;
use crate::store::Setup;
use crate::worker::WorkerStatus;

/// How often a store that failed is tried again.
pub const RESYNC_RETRY: Duration = Duration::from_secs(2);
/// How often the store's workers are compared with Docker's: a Redis restarted empty between
/// two requests shows no error, only missing records.
pub const RESYNC_CHECK: Duration = Duration::from_secs(60);

impl Tracker {
    pub(super) async fn reconcile(&self) -> Result<(), FarmError> {
        let containers = self.engine.list_workers().await?;
        let records = match self.store.records().await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!("the store is unreachable, workers come from Docker alone: {e}");
                Default::default()
            }
        };
        let existing: HashSet<&str> = containers.iter().map(|c| c.id.as_str()).collect();
        let gone: Vec<&str> = records
            .keys()
            .map(String::as_str)
            .filter(|id| !existing.contains(id))
            .collect();
        for id in &gone {
            self.forget(id).await;
        }
        if !gone.is_empty() {
            tracing::info!(
                "forgot {} worker(s) whose containers are gone: {}",
                gone.len(),
                gone.join(", ")
            );
        }
        let mut adopted = Vec::new();
        let mut cloning = Vec::new();
        for container in &containers {
            let known = records.contains_key(&container.id);
            if !known {
                adopted.push(container.id.as_str());
            }
            if container.git_repo.is_none() {
                if !known {
                    self.remember_setup(&container.id, &Setup::Ready).await;
                }
            } else if container.status == WorkerStatus::Running {
                cloning.push(container.id.as_str());
            }
        }
        // The setups may have moved on while nobody watched: read them again before the
        // first page is served, all at once; follow the ones still going.
        let since = unix_now() - 1;
        let readings = join_all(cloning.iter().map(|id| self.catch_up(id))).await;
        for (id, reading) in cloning.iter().zip(readings) {
            if let Some(reader) = reading {
                self.follow_setup((*id).to_owned(), reader, since);
            }
        }
        if !adopted.is_empty() {
            tracing::info!(
                "adopted {} worker(s) the store did not know: {}",
                adopted.len(),
                adopted.join(", ")
            );
        }
        let running: Vec<&str> = containers
            .iter()
            .filter(|c| c.status == WorkerStatus::Running)
            .map(|c| c.id.as_str())
            .collect();
        for id in &running {
            self.watchers.watch(id);
        }
        let running = running.len();
        tracing::info!(
            instance = %self.engine.instance(),
            store = self.store.kind(),
            "found {} existing worker(s), {running} running",
            containers.len()
        );
        Ok(())
    }
}

/// Keeps the store in step with Docker after the dashboard started: retries soon after the
/// store failed (it may have restarted empty), and compares the two now and then.
pub(super) async fn resync(tracker: Tracker) {
    let mut last_check = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(RESYNC_RETRY).await;
        let troubled = tracker.store_failed.load(Ordering::Relaxed);
        let due = last_check.elapsed() >= RESYNC_CHECK;
        if !troubled && !due {
            continue;
        }
        last_check = tokio::time::Instant::now();
        if !troubled && tracker.in_step().await {
            continue;
        }
        // Cleared first: a failure during the reconciliation sets it again.
        tracker.store_failed.store(false, Ordering::Relaxed);
        if tracker.store.records().await.is_err() {
            tracker.store_failed.store(true, Ordering::Relaxed);
            continue;
        }
        match tracker.reconcile().await {
            Ok(()) if !tracker.store_failed.load(Ordering::Relaxed) => {
                tracing::info!("the store is in step with Docker again");
                tracker.announce_change();
            }
            Ok(()) => {}
            Err(e) => {
                tracing::warn!("could not resynchronise the store: {e}");
                tracker.store_failed.store(true, Ordering::Relaxed);
            }
        }
    }
}

impl Tracker {
    /// Whether the store knows exactly the workers Docker has.
    async fn in_step(&self) -> bool {
        let (Ok(containers), Ok(records)) =
            (self.engine.list_workers().await, self.store.records().await)
        else {
            return false;
        };
        containers.len() == records.len() && containers.iter().all(|c| records.contains_key(&c.id))
    }
}
