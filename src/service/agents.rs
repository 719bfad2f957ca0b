//! The agent status of every running worker. One watcher process per worker
//! (`claude-worker-agent-watch`, run with `docker exec`) prints what Claude Code's hooks
//! recorded and what its pane shows; the dashboard only reads that output, so a worker has
//! no way into the dashboard. A status change counts as a change of the workers, which every
//! open page hears at once.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::watch;

use super::follow::unix_now;
use super::AbortOnDrop;
use crate::agent::feed::AgentFeed;
use crate::agent::{AgentSource, AgentState, AgentStatus};
use crate::runtime::DockerRuntime;
use crate::setup::LineSplitter;

/// The watcher installed in the worker image.
pub const WATCH_COMMAND: &str = "/usr/local/bin/claude-worker-agent-watch";
/// Pause before watching a worker again whose watcher ended while it still runs (an image
/// without the watcher, a watcher killed by hand).
const WATCH_RETRY: Duration = Duration::from_secs(5);
/// How often the status is worked out again without new output (the screen's word after an
/// interrupt takes a while to be believed).
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(super) struct Agents {
    runtime: DockerRuntime,
    changed: Arc<watch::Sender<u64>>,
    watched: Arc<Mutex<HashMap<String, Watched>>>,
}

struct Watched {
    status: Option<AgentStatus>,
    _task: AbortOnDrop,
}

impl Agents {
    pub(super) fn new(runtime: DockerRuntime, changed: Arc<watch::Sender<u64>>) -> Self {
        Agents {
            runtime,
            changed,
            watched: Arc::default(),
        }
    }

    /// The worker's agent status; `None` while unknown (just started, not watched, or an
    /// image without the watcher).
    pub(super) fn status(&self, id: &str) -> Option<AgentStatus> {
        let watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.get(id).and_then(|w| w.status.clone())
    }

    /// Starts watching a running worker, unless it is watched already.
    pub(super) fn watch(&self, id: &str) {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if watched.contains_key(id) {
            return;
        }
        let task = tokio::spawn(self.clone().run(id.to_owned()));
        watched.insert(
            id.to_owned(),
            Watched {
                status: None,
                _task: AbortOnDrop(task),
            },
        );
    }

    /// Watches until the worker stops running.
    async fn run(self, id: String) {
        loop {
            match self.runtime.exec_output(&id, &[WATCH_COMMAND]).await {
                Ok(output) => self.follow(&id, output).await,
                Err(e) => tracing::debug!(worker = %id, "cannot watch the agent: {e}"),
            }
            self.set(&id, None);
            tokio::time::sleep(WATCH_RETRY).await;
            if !matches!(self.runtime.is_running(&id).await, Ok(true)) {
                // Removing the entry drops this task's own handle: return right after.
                let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
                watched.remove(&id);
                return;
            }
        }
    }

    async fn follow(
        &self,
        id: &str,
        output: impl futures_util::Stream<Item = Result<axum::body::Bytes, crate::FarmError>>,
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
            let status = feed.status(Instant::now());
            self.set(id, status);
        }
    }

    /// Records the status; a change that matters is announced.
    fn set(&self, id: &str, status: Option<(AgentState, Option<String>, AgentSource)>) {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = watched.get_mut(id) else {
            return;
        };
        let next = status.map(|(state, line, source)| {
            let since = match &entry.status {
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
        if shown(&entry.status) != shown(&next) {
            if let Some(next) = &next {
                tracing::debug!(worker = %id, state = next.state.label(), "agent status");
            }
            entry.status = next;
            drop(watched);
            self.changed.send_modify(|n| *n += 1);
        } else {
            entry.status = next;
        }
    }
}
