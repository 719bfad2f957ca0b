//! `GET /api/events`: server-sent events that tell open pages when the workers changed, so
//! that no page polls. A `workers` event carries only a counter (pages fetch the list
//! themselves); a `gauges` event carries every worker's CPU and memory.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use farm::events::{GAUGES, WORKERS_CHANGED};
use farm::WorkerService;
use futures_util::{Stream, StreamExt};

use crate::guard::{session_ended, Session};

/// Least time between two `workers` events to one page.
const MIN_GAP: Duration = Duration::from_millis(250);

/// The stream ends with the login session it was opened under.
pub async fn stream(
    State(service): State<WorkerService>,
    session: Option<Extension<Session>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // The first event goes out at once, so a page that reconnects catches up. After that, at
    // most one every MIN_GAP: each makes the page list the workers, and a farm of busy
    // agents changes many times a second (changes meanwhile are one event, the latest).
    let events = futures_util::stream::unfold(
        (service.changes(), true),
        |(mut changes, first)| async move {
            if !first {
                tokio::time::sleep(MIN_GAP).await;
                changes.changed().await.ok()?;
            }
            let count = *changes.borrow_and_update();
            let event = Event::default()
                .event(WORKERS_CHANGED)
                .data(count.to_string());
            Some((Ok(event), (changes, false)))
        },
    );
    let gauges = futures_util::stream::unfold(service.gauges(), |mut gauges| async move {
        gauges.changed().await.ok()?;
        let snapshot = gauges.borrow_and_update().clone();
        let event = Event::default().event(GAUGES).data(&*snapshot);
        Some((Ok(event), gauges))
    });
    let ended = session_ended(session.map(|Extension(s)| s));
    let events = futures_util::stream::select(events, gauges);
    Sse::new(events.take_until(ended)).keep_alive(KeepAlive::default())
}
