//! `GET /api/events`: server-sent events that keep open pages current, so that no page polls
//! and none lists the workers on a change. A `workers` event carries the workers as JSON (the
//! same list for every page, made once per change: `farm::service::WorkersFeed`; empty when
//! it could not be made, and the page asks for it); a `gauges` event carries every worker's
//! CPU and memory.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use farm::events::{GAUGES, WORKERS_CHANGED};
use farm::service::WorkersFeed;
use farm::WorkerService;
use futures_util::{Stream, StreamExt};

use crate::guard::{session_ended, Session};

/// The stream ends with the login session it was opened under.
pub async fn stream(
    State(service): State<WorkerService>,
    Extension(feed): Extension<WorkersFeed>,
    session: Option<Extension<Session>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // The first list is the page's own, so that a page that (re)connects catches up at once;
    // after that, the feed's, one per change for all pages.
    let lists = feed.subscribe();
    let first = match service.list().await {
        Ok(workers) => serde_json::to_string(&workers).expect("workers serialise"),
        Err(_) => String::new(),
    };
    let events =
        futures_util::stream::unfold((lists, Some(first)), |(mut lists, first)| async move {
            let data = match first {
                Some(first) => first,
                None => {
                    lists.changed().await.ok()?;
                    lists.borrow_and_update().to_string()
                }
            };
            let event = Event::default().event(WORKERS_CHANGED).data(data);
            Some((Ok(event), (lists, None)))
        });
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
