//! The terminal websocket: finds the worker and hands the upgraded socket to the proxy.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use farm::{proxy, ttyd, FarmError, WorkerService};

use crate::guard::{session_ended, Session};

/// The gate (`guard.rs`) has checked the Origin and the session before this runs; the relay
/// ends when the session does.
pub async fn upgrade(
    State(service): State<WorkerService>,
    Path(id): Path<String>,
    session: Option<Extension<Session>>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, FarmError> {
    let ended = session_ended(session.map(|Extension(s)| s));
    let target = service.terminal(&id).await?;
    Ok(upgrade
        .protocols([ttyd::SUBPROTOCOL])
        // One cap for frames and messages: a frame is buffered whole before the message
        // cap is looked at, so a larger frame cap lets a client hold that much memory.
        .max_message_size(proxy::MAX_MESSAGE_BYTES)
        .max_frame_size(proxy::MAX_MESSAGE_BYTES)
        .read_buffer_size(proxy::READ_BUFFER_BYTES)
        .write_buffer_size(proxy::WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| proxy::relay(socket, target, ended)))
}
