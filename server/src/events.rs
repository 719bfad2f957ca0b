//! `GET /api/events`: server-sent events that tell open pages when the workers changed, so
//! that no page polls. Each event carries only a counter; pages fetch the list themselves.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use farm::events::WORKERS_CHANGED;
use farm::WorkerService;
use futures_util::{Stream, StreamExt};

use crate::guard::{session_ended, Session};

/// The stream ends with the login session it was opened under.
pub async fn stream(
    State(service): State<WorkerService>,
    session: Option<Extension<Session>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // The first event goes out at once, so a page that reconnects catches up.
    let events = futures_util::stream::unfold(
        (service.changes(), true),
        |(mut changes, first)| async move {
            if !first {
                changes.changed().await.ok()?;
            }
            let count = *changes.borrow_and_update();
            let event = Event::default()
                .event(WORKERS_CHANGED)
                .data(count.to_string());
            Some((Ok(event), (changes, false)))
        },
    );
    let ended = session_ended(session.map(|Extension(s)| s));
    Sse::new(events.take_until(ended)).keep_alive(KeepAlive::default())
}
