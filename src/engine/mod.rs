//! The engine that runs workers, seen through the few operations the farm needs. The worker
//! service talks to this interface only, so that its rules read like the product and are
//! tested without Docker (a fake engine in the tests), and so that a second engine (Docker
//! Swarm, for farms beyond one machine) has one place to plug in. Docker's lives in
//! `docker/`, split by concern.

mod docker;
#[cfg(test)]
pub(crate) mod fake;

use std::net::SocketAddr;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::config::Secret;
use crate::error::FarmError;
use crate::gauges::Gauge;
use crate::limits::Limits;
use crate::worker::{WorkerOptions, WorkerSpec, WorkerStatus};

pub use docker::DockerEngine;

/// What an engine streams: items until the end, or an error.
pub type EngineStream<T> = BoxStream<'static, Result<T, FarmError>>;

/// A worker container as the engine reports it.
#[derive(Debug, Clone)]
pub struct WorkerContainer {
    pub id: String,
    pub name: String,
    pub git_repo: Option<String>,
    pub status: WorkerStatus,
    pub created: i64,
    pub direct_port: Option<u16>,
    pub limits: Option<Limits>,
    pub image: Option<String>,
    pub options: WorkerOptions,
}

/// Where a worker's ttyd answers, and the credential it asks for (none for a container made
/// before workers had one).
#[derive(Debug, Clone)]
pub struct TerminalTarget {
    pub addr: SocketAddr,
    /// `user:password` for ttyd's `--credential`; only the dashboard's proxy uses it.
    pub credential: Option<Secret>,
}

/// Something that happened to one of this farm's containers.
#[derive(Debug, Clone)]
pub struct ContainerEvent {
    /// Docker's word for it: `create`, `start`, `die`, `destroy`, `oom`…
    pub action: String,
    /// `None` for a container of ours without a worker id label (made by hand).
    pub worker: Option<String>,
    pub has_git_repo: bool,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

/// Which part of a container's output to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogRange {
    /// The last this many lines; `None` for all.
    pub tail: Option<usize>,
    /// Only lines printed from this time on (seconds since the Unix epoch; 0: from the start).
    pub since: i64,
    /// Keep the stream open for what comes next, until the container stops.
    pub follow: bool,
}

/// What removing a container did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    AlreadyGone,
}

/// Runs the farm's workers: one container each, on one farm instance's network and volumes.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// The farm instance whose workers this engine sees.
    fn instance(&self) -> &str;
    /// Creates the workers' network and shared volumes if they do not exist yet.
    async fn prepare(&self) -> Result<(), FarmError>;
    async fn image_exists(&self, image: &str) -> Result<bool, FarmError>;
    /// The memory of the machine workers run on, in MiB.
    async fn memory_mb(&self) -> Result<u64, FarmError>;
    /// Creates a worker, not started yet. It counts towards the farm's limit and reserves
    /// the worker's id from here on. Should the network or volumes be gone (pruned while the
    /// dashboard runs), the engine makes them again.
    async fn create_worker(
        &self,
        spec: &WorkerSpec,
        limits: Limits,
        direct_port: Option<u16>,
    ) -> Result<(), FarmError>;
    /// Starts a created worker. If it cannot start, it is removed again: no half-created
    /// worker stays behind.
    async fn start_worker(&self, id: &str) -> Result<(), FarmError>;
    /// Every worker of this farm, running or not, oldest first.
    async fn list_workers(&self) -> Result<Vec<WorkerContainer>, FarmError>;
    /// One worker of this farm; `None` when there is none by that id (or it is another
    /// farm's).
    async fn worker(&self, id: &str) -> Result<Option<WorkerContainer>, FarmError>;
    async fn remove_worker(&self, id: &str) -> Result<Removal, FarmError>;
    /// Restarts the worker: a new tmux session; the volumes under /shared keep their data.
    async fn restart_worker(&self, id: &str) -> Result<(), FarmError>;
    /// One item per change to any of this farm's workers (created, started, died, restarted,
    /// removed…); ends when the connection to the engine drops.
    fn events(&self) -> EngineStream<ContainerEvent>;
    /// The worker's output (entrypoint, clone, ttyd) in `range`, and with `follow`
    /// everything it prints afterwards until it stops.
    fn logs(&self, id: &str, range: LogRange) -> EngineStream<Bytes>;
    /// The worker's CPU and memory, about once a second, until it stops.
    fn stats(&self, id: &str) -> EngineStream<Gauge>;
    /// Whether the worker is running (`false` when it is gone).
    async fn is_running(&self, id: &str) -> Result<bool, FarmError>;
    /// Runs `command` in the worker (as its user) and streams what it prints on standard
    /// output, until the command ends or the worker stops; dropping the stream closes the
    /// command's standard input. The worker only ever writes into this stream: it gets no
    /// way into the dashboard.
    async fn exec_output(
        &self,
        id: &str,
        command: &[&str],
    ) -> Result<EngineStream<Bytes>, FarmError>;
    /// Runs `command` in the worker (as its user) to its end; returns its exit code.
    async fn exec(&self, id: &str, command: &[&str]) -> Result<i64, FarmError>;
    /// Where the worker's ttyd answers, and its credential.
    async fn terminal(&self, id: &str) -> Result<TerminalTarget, FarmError>;
}
