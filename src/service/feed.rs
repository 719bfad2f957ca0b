//! The workers as every open page shows them, pushed: the list is made once per change for
//! all pages together (at most every `MIN_GAP`), not once per page, and goes out as JSON over
//! the event stream. Nothing is listed while no page follows.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::WorkerService;

/// Least time between two lists: a farm of busy agents changes many times a second, and the
/// changes meanwhile make one list, the latest.
pub const MIN_GAP: Duration = Duration::from_millis(250);

/// What pages follow: the workers as JSON, after each change (empty until the first).
#[derive(Clone)]
pub struct WorkersFeed(watch::Receiver<Arc<str>>);

impl WorkersFeed {
    /// Starts following `service`'s changes; the follower ends when the last clone of the
    /// feed (and of every subscription to it) is dropped.
    pub fn start(service: &WorkerService) -> WorkersFeed {
        let (sender, receiver) = watch::channel(Arc::from(""));
        tokio::spawn(publish(service.clone(), sender));
        WorkersFeed(receiver)
    }

    /// The lists made from now on, one per change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<str>> {
        let mut receiver = self.0.clone();
        receiver.mark_unchanged();
        receiver
    }
}

async fn publish(service: WorkerService, sender: watch::Sender<Arc<str>>) {
    let mut changes = service.changes();
    changes.mark_unchanged();
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = sender.closed() => return,
        }
        // The feed itself holds one receiver: more means a page follows.
        if sender.receiver_count() > 1 {
            match service.list().await {
                Ok(workers) => {
                    let json = serde_json::to_string(&workers).expect("workers serialise");
                    // Sent even when equal to the last: a page that joined since has its
                    // own first list, which may differ.
                    sender.send_replace(Arc::from(json));
                }
                Err(e) => tracing::debug!("no list for the pages this time: {e}"),
            }
        }
        tokio::time::sleep(MIN_GAP).await;
    }
}
