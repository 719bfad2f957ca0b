//! The terminal websocket: checks who may connect, finds the worker, and hands the upgraded
//! socket to the proxy.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use farm::{proxy, ttyd, FarmError, WorkerService};

pub async fn upgrade(
    State(service): State<WorkerService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, FarmError> {
    if !proxy::origin_allowed(&headers) {
        return Err(FarmError::Forbidden(
            "terminal connections from other sites are refused: open the terminal from the dashboard".into(),
        ));
    }
    let addr = service.terminal_addr(&id).await?;
    Ok(upgrade
        .protocols([ttyd::SUBPROTOCOL])
        .max_message_size(proxy::MAX_MESSAGE_BYTES)
        .read_buffer_size(proxy::READ_BUFFER_BYTES)
        .write_buffer_size(proxy::WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| proxy::relay(socket, addr)))
}
