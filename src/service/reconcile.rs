//! Bringing the store in line with Docker when the dashboard starts: Docker's labels say
//! which workers exist; the store forgets the rest and learns the setup of the new ones.

use std::collections::HashSet;

use futures_util::future::join_all;

use super::follow::unix_now;
use super::WorkerService;
use crate::error::FarmError;
use crate::store::Setup;
use crate::worker::WorkerStatus;

impl WorkerService {
    pub(super) async fn reconcile(&self) -> Result<(), FarmError> {
        let containers = self.runtime.list_workers().await?;
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
            self.tracker.forget(id).await;
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
                    self.tracker
                        .remember_setup(&container.id, &Setup::Ready)
                        .await;
                }
            } else if container.status == WorkerStatus::Running {
                cloning.push(container.id.as_str());
            }
        }
        // The setups may have moved on while nobody watched: read them again before the
        // first page is served, all at once; follow the ones still going.
        let since = unix_now() - 1;
        let readings = join_all(cloning.iter().map(|id| self.tracker.catch_up(id))).await;
        for (id, reading) in cloning.iter().zip(readings) {
            if let Some(reader) = reading {
                self.tracker.follow_setup((*id).to_owned(), reader, since);
            }
        }
        if !adopted.is_empty() {
            tracing::info!(
                "adopted {} worker(s) the store did not know: {}",
                adopted.len(),
                adopted.join(", ")
            );
        }
        let running = containers
            .iter()
            .filter(|c| c.status == WorkerStatus::Running)
            .count();
        tracing::info!(
            instance = %self.config.instance,
            store = self.store.kind(),
            "found {} existing worker(s), {running} running",
            containers.len()
        );
        Ok(())
    }
}
