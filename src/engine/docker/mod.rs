//! The Docker engine: everything bollard lives here and below (`spec`: what a worker's
//! container is made of; `exec`: commands run inside workers; `stats`: their CPU and memory).

mod exec;
mod spec;
mod stats;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use bollard::errors::Error as DockerError;
use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, EventsOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RestartContainerOptionsBuilder,
};
use bollard::Docker;
use bytes::Bytes;
use futures_util::StreamExt;

use super::{
    ContainerEvent, Engine, EngineStream, LogRange, Removal, TerminalTarget, WorkerContainer,
};
use crate::config::{Config, Secret};
use crate::error::FarmError;
use crate::gauges::Gauge;
use crate::labels;
use crate::limits::Limits;
use crate::worker::WorkerSpec;
use crate::worker_image::{CONTAINER_PREFIX, CREDENTIAL_VAR, TTYD_PORT};

/// Seconds a worker gets to stop on restart before it is killed; tmux and ttyd stop at once.
const RESTART_GRACE_SECS: i32 = 5;

#[derive(Clone)]
pub struct DockerEngine {
    docker: Docker,
    config: Config,
}

impl DockerEngine {
    /// Connects through `DOCKER_HOST` or the default socket and agrees on an API version
    /// (bollard's default is newer than Docker 20.10 speaks).
    pub async fn connect(config: Config) -> Result<Self, FarmError> {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| FarmError::DockerUnavailable(e.to_string()))?
            .negotiate_version()
            .await
            .map_err(|e| FarmError::DockerUnavailable(e.to_string()))?;
        Ok(DockerEngine { docker, config })
    }

    /// This farm's containers, or the one of worker `id`: Docker filters them by label.
    async fn listed(&self, id: Option<&str>) -> Result<Vec<WorkerContainer>, FarmError> {
        let mut wanted = vec![labels::instance_filter(&self.config.instance)];
        if let Some(id) = id {
            wanted.push(format!("{}={id}", labels::ID));
        }
        let filters = HashMap::from([("label", wanted)]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(docker_error)?;
        Ok(summaries
            .iter()
            .filter_map(spec::worker_from_summary)
            .collect())
    }
}

#[async_trait]
impl Engine for DockerEngine {
    fn instance(&self) -> &str {
        &self.config.instance
    }

    /// Creates the workers' network and shared volumes if they do not exist yet.
    async fn prepare(&self) -> Result<(), FarmError> {
        let owned = HashMap::from([(labels::INSTANCE.to_owned(), self.config.instance.clone())]);
        let network = self.config.network();
        if self.docker.inspect_network(&network, None).await.is_err() {
            let request = NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".into()),
                labels: Some(owned.clone()),
                ..Default::default()
            };
            match self.docker.create_network(request).await {
                Ok(_) => tracing::info!(%network, "created the workers' network"),
                Err(e) if status_of(&e) == Some(409) => {}
                Err(e) => return Err(docker_error(e)),
            }
        }
        for name in [self.config.repos_volume(), self.config.state_volume()] {
            let request = VolumeCreateRequest {
                name: Some(name),
                labels: Some(owned.clone()),
                ..Default::default()
            };
            self.docker
                .create_volume(request)
                .await
                .map_err(docker_error)?;
        }
        Ok(())
    }

    async fn image_exists(&self, image: &str) -> Result<bool, FarmError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// The memory of the machine the engine runs on, in MiB.
    async fn memory_mb(&self) -> Result<u64, FarmError> {
        let info = self.docker.info().await.map_err(docker_error)?;
        let bytes = info.mem_total.unwrap_or_default().max(0) as u64;
        Ok(bytes / (1024 * 1024))
    }

    async fn create_worker(
        &self,
        spec: &WorkerSpec,
        limits: Limits,
        direct_port: Option<u16>,
    ) -> Result<(), FarmError> {
        let create = || {
            let options = CreateContainerOptionsBuilder::default()
                .name(&container_name(&spec.id))
                .build();
            self.docker.create_container(
                Some(options),
                spec::container_body(&self.config, spec, limits, direct_port),
            )
        };
        let created = match create().await {
            // The workers' network is gone (`docker network prune` while the dashboard ran):
            // made again, and the worker with it.
            Err(e) if status_of(&e) == Some(404) => {
                self.prepare().await?;
                create().await
            }
            other => other,
        };
        match created {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(409) => Err(FarmError::AlreadyExists(spec.id.clone())),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// Starts a created worker. If it cannot start, its container is removed again: no
    /// half-created worker stays behind.
    async fn start_worker(&self, id: &str) -> Result<(), FarmError> {
        if let Err(e) = self.docker.start_container(&container_name(id), None).await {
            self.remove_worker(id).await.ok();
            return Err(docker_error(e));
        }
        Ok(())
    }

    /// Every worker container of this farm, running or not, oldest first.
    async fn list_workers(&self) -> Result<Vec<WorkerContainer>, FarmError> {
        let mut workers = self.listed(None).await?;
        workers.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok(workers)
    }

    async fn worker(&self, id: &str) -> Result<Option<WorkerContainer>, FarmError> {
        Ok(self.listed(Some(id)).await?.into_iter().next())
    }

    async fn remove_worker(&self, id: &str) -> Result<Removal, FarmError> {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match self
            .docker
            .remove_container(&container_name(id), Some(options))
            .await
        {
            Ok(()) => Ok(Removal::Removed),
            Err(e) if status_of(&e) == Some(404) => Ok(Removal::AlreadyGone),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// Restarts the container: a new tmux session; the volumes under /shared keep their data.
    async fn restart_worker(&self, id: &str) -> Result<(), FarmError> {
        let options = RestartContainerOptionsBuilder::default()
            .t(RESTART_GRACE_SECS)
            .build();
        match self
            .docker
            .restart_container(&container_name(id), Some(options))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Err(FarmError::NotFound(id.to_owned())),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// One item per change to any of this farm's containers (created, started, died,
    /// restarted, removed…); ends when the connection to the engine drops.
    fn events(&self) -> EngineStream<ContainerEvent> {
        let filters = HashMap::from([
            ("type", vec!["container".to_owned()]),
            (
                "label",
                vec![labels::instance_filter(&self.config.instance)],
            ),
        ]);
        let options = EventsOptionsBuilder::default().filters(&filters).build();
        self.docker
            .events(Some(options))
            .map(|event| {
                let event = event.map_err(docker_error)?;
                let attributes = event.actor.and_then(|a| a.attributes).unwrap_or_default();
                Ok(ContainerEvent {
                    worker: attributes.get(labels::ID).cloned(),
                    has_git_repo: attributes.contains_key(labels::GIT_REPO),
                    action: event.action.unwrap_or_default(),
                    time: event.time.unwrap_or_default(),
                })
            })
            .boxed()
    }

    /// The container's output (entrypoint, clone, ttyd) in `range`, and with `follow`
    /// everything it prints afterwards until it stops.
    fn logs(&self, id: &str, range: LogRange) -> EngineStream<Bytes> {
        let tail = range
            .tail
            .map_or_else(|| "all".to_owned(), |n| n.to_string());
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(range.follow)
            .since(i32::try_from(range.since).unwrap_or(i32::MAX))
            .tail(&tail)
            .build();
        self.docker
            .logs(&container_name(id), Some(options))
            .map(|chunk| {
                chunk
                    .map(|output| output.into_bytes())
                    .map_err(docker_error)
            })
            .boxed()
    }

    fn stats(&self, id: &str) -> EngineStream<Gauge> {
        stats::follow(&self.docker, &container_name(id))
    }

    /// Whether the worker's container is running (`false` when it is gone).
    async fn is_running(&self, id: &str) -> Result<bool, FarmError> {
        match self
            .docker
            .inspect_container(&container_name(id), None)
            .await
        {
            Ok(inspect) => Ok(inspect.state.and_then(|s| s.running).unwrap_or(false)),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(docker_error(e)),
        }
    }

    async fn exec_output(
        &self,
        id: &str,
        command: &[&str],
    ) -> Result<EngineStream<Bytes>, FarmError> {
        exec::output(&self.docker, id, command).await
    }

    async fn exec(&self, id: &str, command: &[&str]) -> Result<i64, FarmError> {
        exec::run(&self.docker, id, command).await
    }

    /// Where the worker's ttyd listens, on the workers' network, and its credential.
    async fn terminal(&self, id: &str) -> Result<TerminalTarget, FarmError> {
        let inspect = match self
            .docker
            .inspect_container(&container_name(id), None)
            .await
        {
            Ok(inspect) => inspect,
            Err(e) if status_of(&e) == Some(404) => return Err(FarmError::NotFound(id.to_owned())),
            Err(e) => return Err(docker_error(e)),
        };
        let ours = inspect
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(labels::INSTANCE))
            .is_some_and(|i| *i == self.config.instance);
        if !ours {
            return Err(FarmError::NotFound(id.to_owned()));
        }
        let credential = inspect
            .config
            .as_ref()
            .and_then(|c| c.env.as_ref())
            .and_then(|env| {
                env.iter()
                    .find_map(|var| var.strip_prefix(CREDENTIAL_VAR)?.strip_prefix('='))
            })
            .map(|value| Secret::from(value.to_owned()));
        let ip = inspect
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(&self.config.network()))
            .and_then(|endpoint| endpoint.ip_address)
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .ok_or_else(|| {
                FarmError::TerminalUnreachable(id.to_owned(), "the worker is not running".into())
            })?;
        Ok(TerminalTarget {
            addr: SocketAddr::new(ip, TTYD_PORT),
            credential,
        })
    }
}

fn container_name(id: &str) -> String {
    format!("{CONTAINER_PREFIX}{id}")
}

fn status_of(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn docker_error(e: DockerError) -> FarmError {
    match e {
        DockerError::DockerResponseServerError { message, .. } => FarmError::Docker(message),
        other => FarmError::DockerUnavailable(other.to_string()),
    }
}
