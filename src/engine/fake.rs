//! An engine in memory, for the worker service's unit tests: the service's rules (room,
//! budget, membership, batches, reconciliation, following events) run without Docker. It is
//! a fake by purpose: the integration tests run the same service against the real engine. It
//! counts the calls made to it, and its events are what the test sends.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use super::{
    ContainerEvent, Engine, EngineStream, LogRange, Removal, TerminalTarget, WorkerContainer,
};
use crate::error::FarmError;
use crate::gauges::Gauge;
use crate::limits::Limits;
use crate::worker::{WorkerSpec, WorkerStatus};
use crate::worker_image::TTYD_PORT;

pub(crate) struct FakeEngine {
    instance: String,
    memory_mb: u64,
    state: Mutex<State>,
    events: broadcast::Sender<ContainerEvent>,
}

#[derive(Default)]
struct State {
    workers: BTreeMap<String, WorkerContainer>,
    /// Calls by operation name, in order.
    calls: Vec<&'static str>,
    /// Commands run in workers, with the worker's id.
    commands: Vec<(String, Vec<String>)>,
    clock: i64,
}

impl FakeEngine {
    pub(crate) fn new(instance: &str, memory_mb: u64) -> FakeEngine {
        FakeEngine {
            instance: instance.to_owned(),
            memory_mb,
            state: Mutex::default(),
            events: broadcast::channel(64).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn called(&self, operation: &'static str) {
        self.lock().calls.push(operation);
    }

    /// The calls made so far, by operation name; forgets them.
    pub(crate) fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.lock().calls)
    }

    /// The commands run in workers so far.
    pub(crate) fn commands(&self) -> Vec<(String, Vec<String>)> {
        self.lock().commands.clone()
    }

    /// A worker made behind the service's back (by hand, or before a dashboard restart).
    pub(crate) fn add_running(&self, id: &str) {
        let mut state = self.lock();
        state.clock += 1;
        let created = state.clock;
        state
            .workers
            .insert(id.to_owned(), container(id, None, created));
    }

    /// Sends an event, as the engine would on a change, once the service listens.
    pub(crate) async fn send(&self, worker: &str, action: &str) {
        while self.events.receiver_count() == 0 {
            tokio::task::yield_now().await;
        }
        let time = self.lock().clock;
        self.events
            .send(ContainerEvent {
                action: action.to_owned(),
                worker: Some(worker.to_owned()),
                has_git_repo: false,
                time,
            })
            .ok();
    }
}

fn container(id: &str, limits: Option<Limits>, created: i64) -> WorkerContainer {
    WorkerContainer {
        id: id.to_owned(),
        name: id.to_owned(),
        git_repo: None,
        status: WorkerStatus::Running,
        created,
        direct_port: None,
        limits,
        image: None,
        options: Default::default(),
    }
}

#[async_trait]
impl Engine for FakeEngine {
    fn instance(&self) -> &str {
        &self.instance
    }

    async fn prepare(&self) -> Result<(), FarmError> {
        self.called("prepare");
        Ok(())
    }

    async fn image_exists(&self, image: &str) -> Result<bool, FarmError> {
        self.called("image_exists");
        Ok(!image.contains("missing"))
    }

    async fn memory_mb(&self) -> Result<u64, FarmError> {
        self.called("memory_mb");
        Ok(self.memory_mb)
    }

    async fn create_worker(
        &self,
        spec: &WorkerSpec,
        limits: Limits,
        direct_port: Option<u16>,
    ) -> Result<(), FarmError> {
        let mut state = self.lock();
        state.calls.push("create_worker");
        if state.workers.contains_key(&spec.id) {
            return Err(FarmError::AlreadyExists(spec.id.clone()));
        }
        state.clock += 1;
        let mut made = container(&spec.id, Some(limits), state.clock);
        made.name = spec.name.clone();
        made.status = WorkerStatus::Starting;
        made.direct_port = direct_port;
        made.git_repo = spec.git_repo.clone();
        state.workers.insert(spec.id.clone(), made);
        Ok(())
    }

    async fn start_worker(&self, id: &str) -> Result<(), FarmError> {
        let mut state = self.lock();
        state.calls.push("start_worker");
        match state.workers.get_mut(id) {
            Some(worker) => {
                worker.status = WorkerStatus::Running;
                Ok(())
            }
            None => Err(FarmError::NotFound(id.to_owned())),
        }
    }

    async fn list_workers(&self) -> Result<Vec<WorkerContainer>, FarmError> {
        let mut state = self.lock();
        state.calls.push("list_workers");
        let mut workers: Vec<_> = state.workers.values().cloned().collect();
        workers.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok(workers)
    }

    async fn worker(&self, id: &str) -> Result<Option<WorkerContainer>, FarmError> {
        let mut state = self.lock();
        state.calls.push("worker");
        Ok(state.workers.get(id).cloned())
    }

    async fn remove_worker(&self, id: &str) -> Result<Removal, FarmError> {
        let mut state = self.lock();
        state.calls.push("remove_worker");
        Ok(match state.workers.remove(id) {
            Some(_) => Removal::Removed,
            None => Removal::AlreadyGone,
        })
    }

    async fn restart_worker(&self, id: &str) -> Result<(), FarmError> {
        let mut state = self.lock();
        state.calls.push("restart_worker");
        match state.workers.get_mut(id) {
            Some(worker) => {
                worker.status = WorkerStatus::Running;
                Ok(())
            }
            None => Err(FarmError::NotFound(id.to_owned())),
        }
    }

    fn events(&self) -> EngineStream<ContainerEvent> {
        self.called("events");
        futures_util::stream::unfold(self.events.subscribe(), |mut events| async move {
            let event = events.recv().await.ok()?;
            Some((Ok(event), events))
        })
        .boxed()
    }

    fn logs(&self, _id: &str, _range: LogRange) -> EngineStream<Bytes> {
        self.called("logs");
        futures_util::stream::iter([Ok(Bytes::from_static(b"claude-worker: starting\n"))]).boxed()
    }

    fn stats(&self, _id: &str) -> EngineStream<Gauge> {
        self.called("stats");
        futures_util::stream::empty().boxed()
    }

    async fn is_running(&self, id: &str) -> Result<bool, FarmError> {
        let mut state = self.lock();
        state.calls.push("is_running");
        Ok(state
            .workers
            .get(id)
            .is_some_and(|w| w.status == WorkerStatus::Running))
    }

    async fn exec_output(
        &self,
        _id: &str,
        _command: &[&str],
    ) -> Result<EngineStream<Bytes>, FarmError> {
        self.called("exec_output");
        // No agent to watch: the watcher stays silent for as long as it is read.
        Ok(futures_util::stream::pending().boxed())
    }

    async fn exec(&self, id: &str, command: &[&str]) -> Result<i64, FarmError> {
        let mut state = self.lock();
        state.calls.push("exec");
        if !state.workers.contains_key(id) {
            return Err(FarmError::NotFound(id.to_owned()));
        }
        state.commands.push((
            id.to_owned(),
            command.iter().map(|part| (*part).to_owned()).collect(),
        ));
        Ok(0)
    }

    async fn terminal(&self, id: &str) -> Result<TerminalTarget, FarmError> {
        self.called("terminal");
        if !self.lock().workers.contains_key(id) {
            return Err(FarmError::NotFound(id.to_owned()));
        }
        Ok(TerminalTarget {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, TTYD_PORT)),
            credential: None,
        })
    }
}
