//! What each running worker is doing, followed by one task per worker:
//!
//! - its agent: a watcher process (`claude-worker-agent-watch`, run with `docker exec`)
//!   prints what Claude Code's hooks recorded and what its pane shows; the dashboard only
//!   reads that output, so a worker has no way into the dashboard. A change of status
//!   counts as a change of the workers, which every open page hears at once;
//! - its CPU and memory: Docker's stats stream, one per worker however many pages look,
//!   and only while at least one page looks. Pages get a snapshot of all workers every
//!   couple of seconds (`gauges`).

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use tokio::sync::watch;

use super::follow::unix_now;
use super::AbortOnDrop;
use crate::agent::feed::AgentFeed;
use crate::agent::usage::AgentUsage;
use crate::agent::{AgentSource, AgentState, AgentStatus};
use crate::engine::Engine;
use crate::error::FarmError;
use crate::gauges::{self, Gauge};
use crate::setup::LineSplitter;
use crate::worker_image::WATCH_COMMAND;

/// Pause before watching a worker again whose watcher ended while it still runs (an image
/// without the watcher, a watcher killed by hand).
const WATCH_RETRY: Duration = Duration::from_secs(5);
/// How often the status is worked out again without new output (the screen's word after an
/// interrupt takes a while to be believed).
const RECHECK: Duration = Duration::from_secs(1);
/// How often pages get the gauges, and how often a worker without viewers checks for some.
pub const GAUGES_EVERY: Duration = Duration::from_secs(2);

type StatusParts = (AgentState, Option<String>, AgentSource);

#[derive(Clone)]
pub(super) struct Watchers {
    /// `false` when the farm is told not to follow agents (FARM_AGENT_STATUS).
    agents_on: bool,
    engine: Arc<dyn Engine>,
    changed: Arc<watch::Sender<u64>>,
    watched: Arc<Mutex<HashMap<String, Watched>>>,
    /// The latest snapshot of every worker's gauges, for the pages that follow them.
    gauges: Arc<watch::Sender<Arc<str>>>,
}

#[derive(Default)]
struct Watched {
    agent: Option<AgentStatus>,
    usage: Option<AgentUsage>,
    gauge: Option<Gauge>,
    _task: Option<AbortOnDrop>,
}

impl Watchers {
    pub(super) fn new(
        agents_on: bool,
        engine: Arc<dyn Engine>,
        changed: Arc<watch::Sender<u64>>,
    ) -> Self {
        Watchers {
            agents_on,
            engine,
            changed,
            watched: Arc::default(),
            gauges: Arc::new(watch::channel(Arc::from("")).0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Watched>> {
        self.watched.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The worker's agent status; `None` while unknown (just started, not watched, or an
    /// image without the watcher).
    pub(super) fn agent(&self, id: &str) -> Option<AgentStatus> {
        self.lock().get(id).and_then(|w| w.agent.clone())
    }

    /// What the worker's agent has used; `None` until its worker has summed it.
    pub(super) fn usage(&self, id: &str) -> Option<AgentUsage> {
        self.lock().get(id).and_then(|w| w.usage)
    }

    /// Snapshots of every worker's CPU and memory, from now on (`gauges::decode`).
    pub(super) fn subscribe_gauges(&self) -> watch::Receiver<Arc<str>> {
        self.gauges.subscribe()
    }

    /// Starts following a running worker, unless it is followed already.
    pub(super) fn watch(&self, id: &str) {
        let mut watched = self.lock();
        if watched.contains_key(id) {
            return;
        }
        let task = tokio::spawn(self.clone().run(id.to_owned()));
        watched.insert(
            id.to_owned(),
            Watched {
                _task: Some(AbortOnDrop(task)),
                ..Default::default()
            },
        );
    }

    /// Follows until the worker stops running.
    async fn run(self, id: String) {
        loop {
            tokio::select! {
                () = self.follow_agent(&id) => {}
                () = self.follow_stats(&id) => {}
            }
            self.set_agent(&id, None, None);
            self.set_gauge(&id, None);
            tokio::time::sleep(WATCH_RETRY).await;
            if !matches!(self.engine.is_running(&id).await, Ok(true)) {
                // Removing the entry drops this task's own handle: return right after.
                self.lock().remove(&id);
                return;
            }
        }
    }

    async fn follow_agent(&self, id: &str) {
        if !self.agents_on {
            return std::future::pending().await;
        }
        match self.engine.exec_output(id, &[WATCH_COMMAND]).await {
            Ok(output) => self.read_agent(id, output).await,
            Err(e) => tracing::debug!(worker = %id, "cannot watch the agent: {e}"),
        }
    }

    async fn read_agent(
        &self,
        id: &str,
        output: impl Stream<Item = Result<axum::body::Bytes, FarmError>>,
    ) {
        let mut output = pin!(output);
        let mut feed = AgentFeed::default();
        let mut splitter = LineSplitter::default();
        let mut recheck = tokio::time::interval(RECHECK);
        loop {
            tokio::select! {
                chunk = output.next() => match chunk {
                    Some(Ok(bytes)) => {
                        let now = Instant::now();
                        for line in splitter.push(&bytes) {
                            feed.push(&line, now);
                        }
                    }
                    _ => return,
                },
                _ = recheck.tick() => {}
            }
            self.set_agent(id, feed.status(Instant::now()), feed.usage());
        }
    }

    /// Docker's stats while some page follows the gauges; ends when the worker stops.
    async fn follow_stats(&self, id: &str) {
        loop {
            while self.gauges.receiver_count() == 0 {
                tokio::time::sleep(GAUGES_EVERY).await;
            }
            let mut stats = pin!(self.engine.stats(id));
            while let Some(reading) = stats.next().await {
                match reading {
                    Ok(gauge) => self.set_gauge(id, Some(gauge)),
                    Err(_) => return,
                }
                if self.gauges.receiver_count() == 0 {
                    break;
                }
            }
            if !matches!(self.engine.is_running(id).await, Ok(true)) {
                return;
            }
        }
    }

    /// Records the agent's status and usage; a change that matters is announced.
    fn set_agent(&self, id: &str, status: Option<StatusParts>, usage: Option<AgentUsage>) {
        let mut watched = self.lock();
        let Some(entry) = watched.get_mut(id) else {
            return;
        };
        let next = status.map(|(state, line, source)| {
            let since = match &entry.agent {
                Some(old) if old.state == state => old.since,
                _ => unix_now(),
            };
            AgentStatus {
                state,
                line,
                source,
                since,
            }
        });
        let shown = |s: &Option<AgentStatus>| s.as_ref().map(|s| (s.state, s.line.clone()));
        let changed = shown(&entry.agent) != shown(&next) || entry.usage != usage;
        entry.agent = next;
        entry.usage = usage;
        drop(watched);
        if changed {
            self.changed.send_modify(|n| *n += 1);
        }
    }

    fn set_gauge(&self, id: &str, gauge: Option<Gauge>) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.gauge = gauge;
        }
    }

    /// Sends pages the gauges of every worker every couple of seconds, while any page
    /// follows them.
    pub(super) async fn publish_gauges(self) {
        let mut every = tokio::time::interval(GAUGES_EVERY);
        loop {
            every.tick().await;
            if self.gauges.receiver_count() == 0 {
                continue;
            }
            let mut snapshot: Vec<(String, Gauge)> = self
                .lock()
                .iter()
                .filter_map(|(id, w)| Some((id.clone(), w.gauge?)))
                .collect();
            snapshot.sort_by(|a, b| a.0.cmp(&b.0));
            let text = gauges::encode(&snapshot);
            self.gauges.send_if_modified(|current| {
                let modified = **current != *text;
                if modified {
                    *current = Arc::from(text.as_str());
                }
                modified
            });
        }
    }
}
