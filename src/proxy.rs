//! The terminal proxy: relays one browser websocket to a worker's ttyd and back, byte for
//! byte, in one loop. Awaiting each send is the back-pressure: at most one message per
//! direction is in flight, never a queue that grows. Each viewer has its own ttyd connection
//! (and its own tmux client), so a slow viewer holds up nobody else; one that takes nothing
//! for [`SLOW_VIEWER_PATIENCE`] is dropped, and on reconnecting tmux redraws its screen
//! instead of replaying a backlog. The proxy also shields ttyd from frames known to crash it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{self, CloseFrame, WebSocket};
use axum::http::{header, HeaderValue};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self as tung, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use base64::Engine;

use crate::engine::TerminalTarget;
use crate::{close_codes, ttyd};

/// Largest message accepted from a browser. ttyd itself reassembles fragments without limit.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Largest terminal passed on to ttyd; bigger sizes are clamped (tmux allocates every cell).
pub const MAX_COLUMNS: u64 = 1000;
/// Tallest terminal passed on to ttyd.
pub const MAX_ROWS: u64 = 500;
/// How long to keep trying to reach a worker's ttyd: a new worker may still be starting or
/// cloning its repository.
pub const CONNECT_PATIENCE: Duration = Duration::from_secs(30);
/// Pause between two attempts to reach ttyd.
pub const CONNECT_RETRY: Duration = Duration::from_millis(150);
/// How often the browser gets a ping: proxies and phone networks cut websockets that stay
/// silent for 30-60 s. (ttyd pings our side itself.)
pub const KEEPALIVE: Duration = Duration::from_secs(20);

/// Most output gathered into one write to the browser.
pub const MAX_BATCH_BYTES: usize = 64 * 1024;
/// Each websocket's read buffer (both legs). Terminal messages are small; the 128 KiB default
/// made every viewer cost a quarter of a megabyte.
pub const READ_BUFFER_BYTES: usize = 8 * 1024;

/// What the browser's websocket gathers before writing to the socket, within a batch.
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// How long a browser may leave the terminal's output untaken before it is dropped.
pub const SLOW_VIEWER_PATIENCE: Duration = Duration::from_secs(10);

type Upstream = WebSocketStream<MaybeTlsStream<TcpStream>>;
type ClientSink = futures_util::stream::SplitSink<WebSocket, ws::Message>;

/// Why sending to the browser failed.
enum Stalled {
    Gone,
    TooSlow,
}

/// Sends to the browser, giving up on one that takes nothing for [`SLOW_VIEWER_PATIENCE`].
async fn to_client(client: &mut ClientSink, message: ws::Message) -> Result<(), Stalled> {
    patiently(client.send(message)).await
}

/// Why a relay ended.
enum Ending {
    /// Either side closed or went away.
    Closed,
    Stalled(Stalled),
    /// The browser's login session ended (logout).
    SessionEnded,
    /// The browser sent a frame or message over [`MAX_MESSAGE_BYTES`].
    TooBig,
}

/// Relays `client` to the worker's ttyd until either side closes or `session_ended`
/// completes.
pub async fn relay(
    mut client: WebSocket,
    target: TerminalTarget,
    session_ended: impl std::future::Future<Output = ()>,
) {
    let addr = target.addr;
    // What ttyd expects for its `--credential`, in the upgrade and in the handshake; the
    // browser never sees it.
    let auth_token = target
        .credential
        .as_ref()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c.expose()))
        .unwrap_or_default();
    let upstream = match connect(addr, &auth_token).await {
        Ok(upstream) => upstream,
        Err(e) => {
            tracing::warn!(%addr, error = %e, "terminal unreachable");
            close(
                &mut client,
                close_codes::TERMINAL_UNREACHABLE,
                "terminal unreachable",
            )
            .await;
            return;
        }
    };
    let (mut up_tx, mut up_rx) = upstream.split();
    let (mut client_tx, mut client_rx) = client.split();
    let mut keepalive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    let mut session_ended = std::pin::pin!(session_ended);
    let ending = loop {
        tokio::select! {
            () = &mut session_ended => break Ending::SessionEnded,
            _ = keepalive.tick() => {
                if let Err(e) = to_client(&mut client_tx, ws::Message::Ping(Bytes::new())).await {
                    break Ending::Stalled(e);
                }
            }
            from_client = client_rx.next() => {
                let message = match from_client {
                    Some(Ok(message)) => message,
                    Some(Err(e)) if too_big(&e) => break Ending::TooBig,
                    Some(Err(_)) | None => break Ending::Closed,
                };
                match to_ttyd(message, &auth_token) {
                    Forward::Send(message) => {
                        if up_tx.send(message).await.is_err() { break Ending::Closed }
                    }
                    Forward::Skip => {}
                    Forward::Close => break Ending::Closed,
                }
            }
            from_ttyd = up_rx.next() => {
                match to_client_batch(&mut client_tx, &mut up_rx, from_ttyd).await {
                    Ok(Flow::Open) => {}
                    Ok(Flow::Closed) => break Ending::Closed,
                    Err(e) => break Ending::Stalled(e),
                }
            }
        }
    };
    up_tx.close().await.ok();
    let farewell = match ending {
        Ending::Stalled(Stalled::TooSlow) => {
            tracing::info!(%addr, "dropped a viewer that took no output for {SLOW_VIEWER_PATIENCE:?}");
            close_frame(close_codes::VIEWER_TOO_SLOW, "too slow: reconnect")
        }
        Ending::SessionEnded => close_frame(close_codes::SESSION_ENDED, "logged out"),
        Ending::TooBig => close_frame(
            close_codes::MESSAGE_TOO_BIG,
            "message too big: at most 1 MiB at once",
        ),
        Ending::Closed | Ending::Stalled(Stalled::Gone) => {
            client_tx.close().await.ok();
            return;
        }
    };
    // One short try: a browser that stalled may never read it.
    let closing = client_tx.send(ws::Message::Close(Some(farewell)));
    tokio::time::timeout(Duration::from_secs(1), closing)
        .await
        .ok();
}

/// Whether reading from the browser failed on the size cap (frame or message).
fn too_big(error: &axum::Error) -> bool {
    let cause = std::error::Error::source(error);
    matches!(
        cause.and_then(|c| c.downcast_ref::<tung::Error>()),
        Some(tung::Error::Capacity(_))
    )
}

/// Whether the relay goes on after a batch.
enum Flow {
    Open,
    Closed,
}

/// Passes `first` and whatever else ttyd has already sent on to the browser, then flushes
/// once: a flood costs one write per batch instead of one per message, and a lone keystroke
/// echo still goes out at once.
async fn to_client_batch(
    client: &mut ClientSink,
    upstream: &mut futures_util::stream::SplitStream<Upstream>,
    first: Option<Result<Message, tung::Error>>,
) -> Result<Flow, Stalled> {
    let mut next = first;
    let mut batched = 0;
    let flow = loop {
        let message = match next {
            Some(Ok(message)) => message,
            Some(Err(_)) | None => {
                let frame = close_frame(close_codes::TERMINAL_LOST, "terminal connection lost");
                patiently(client.feed(ws::Message::Close(Some(frame)))).await?;
                break Flow::Closed;
            }
        };
        if let Some(message) = to_browser(message) {
            batched += message_len(&message);
            let closing = matches!(message, ws::Message::Close(_));
            patiently(client.feed(message)).await?;
            if closing {
                break Flow::Closed;
            }
        }
        if batched >= MAX_BATCH_BYTES {
            break Flow::Open;
        }
        match upstream.next().now_or_never() {
            Some(more) => next = more,
            None => break Flow::Open,
        }
    };
    patiently(client.flush()).await?;
    Ok(flow)
}

fn message_len(message: &ws::Message) -> usize {
    match message {
        ws::Message::Binary(b) => b.len(),
        ws::Message::Text(t) => t.len(),
        _ => 0,
    }
}

/// A send to the browser, given up after [`SLOW_VIEWER_PATIENCE`].
async fn patiently(
    send: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), Stalled> {
    match tokio::time::timeout(SLOW_VIEWER_PATIENCE, send).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stalled::Gone),
        Err(_) => Err(Stalled::TooSlow),
    }
}

async fn connect(addr: SocketAddr, auth_token: &str) -> Result<Upstream, tung::Error> {
    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
    loop {
        let mut request = format!("ws://{addr}/ws").into_client_request()?;
        request.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(ttyd::SUBPROTOCOL),
        );
        if !auth_token.is_empty() {
            let basic = HeaderValue::from_str(&format!("Basic {auth_token}"))
                .expect("base64 is a valid header value");
            request.headers_mut().insert(header::AUTHORIZATION, basic);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES * 16))
            .max_frame_size(Some(MAX_MESSAGE_BYTES * 16))
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(0);
        match tokio_tungstenite::connect_async_with_config(request, Some(config), true).await {
            Ok((upstream, _)) => return Ok(upstream),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(CONNECT_RETRY).await,
        }
    }
}

enum Forward {
    Send(Message),
    Skip,
    Close,
}

fn to_ttyd(message: ws::Message, auth_token: &str) -> Forward {
    match message {
        // A zero-length frame crashes ttyd 1.7.
        ws::Message::Binary(b) if b.is_empty() => Forward::Skip,
        ws::Message::Text(t) if t.is_empty() => Forward::Skip,
        // ttyd reads text and binary frames alike, so both go on as binary.
        ws::Message::Binary(b) => guarded(b, auth_token),
        ws::Message::Text(t) => guarded(Bytes::copy_from_slice(t.as_bytes()), auth_token),
        // Each side answers its own pings.
        ws::Message::Ping(_) | ws::Message::Pong(_) => Forward::Skip,
        ws::Message::Close(_) => Forward::Close,
    }
}

fn guarded(payload: Bytes, auth_token: &str) -> Forward {
    match guard_frame(payload, auth_token) {
        Some(payload) => Forward::Send(Message::Binary(payload)),
        None => Forward::Skip,
    }
}

/// Clamps the terminal size in a resize or in the opening handshake, and puts the worker's
/// credential (`auth_token`) into the handshake, whatever the browser put there; drops a
/// resize or handshake that is malformed. Everything else (keystrokes above all) passes
/// untouched. The one place the proxy reads what a browser sends (fuzzed:
/// `fuzz/fuzz_targets/ttyd_frames.rs`).
pub fn guard_frame(payload: Bytes, auth_token: &str) -> Option<Bytes> {
    match payload.first() {
        Some(&ttyd::RESIZE) => {
            let size: serde_json::Value = serde_json::from_slice(&payload[1..]).ok()?;
            let columns = size.get("columns")?.as_u64()?;
            let rows = size.get("rows")?.as_u64()?;
            let (columns, rows) = clamp_size(columns, rows);
            Some(ttyd::resize(columns, rows).into())
        }
        Some(b'{') => {
            let mut handshake: serde_json::Value = serde_json::from_slice(&payload).ok()?;
            let columns = handshake
                .get("columns")
                .and_then(|v| v.as_u64())
                .unwrap_or(80);
            let rows = handshake.get("rows").and_then(|v| v.as_u64()).unwrap_or(24);
            let (columns, rows) = clamp_size(columns, rows);
            let fields = handshake.as_object_mut()?;
            fields.insert("columns".into(), columns.into());
            fields.insert("rows".into(), rows.into());
            fields.insert("AuthToken".into(), auth_token.into());
            serde_json::to_vec(&handshake).ok().map(Bytes::from)
        }
        _ => Some(payload),
    }
}

fn clamp_size(columns: u64, rows: u64) -> (u16, u16) {
    // Both maxima fit in u16, so the casts cannot truncate.
    (
        columns.clamp(1, MAX_COLUMNS) as u16,
        rows.clamp(1, MAX_ROWS) as u16,
    )
}

fn to_browser(message: Message) -> Option<ws::Message> {
    match message {
        Message::Binary(b) => Some(ws::Message::Binary(b)),
        Message::Text(t) => Some(ws::Message::Text(t.as_str().into())),
        Message::Close(frame) => Some(ws::Message::Close(
            frame.map(|f| close_frame(f.code.into(), f.reason.as_str())),
        )),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
    }
}

fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

async fn close(client: &mut WebSocket, code: u16, reason: &str) {
    client
        .send(ws::Message::Close(Some(close_frame(code, reason))))
        .await
        .ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(message: ws::Message) -> Option<Vec<u8>> {
        match to_ttyd(message, "d29ya2VyOnNlY3JldA==") {
            Forward::Send(m) => Some(m.into_data().to_vec()),
            _ => None,
        }
    }

    #[test]
    fn absurd_sizes_are_clamped_and_malformed_ones_dropped() {
        let huge = ws::Message::Binary(ttyd::resize(u16::MAX, u16::MAX).into());
        assert_eq!(forwarded(huge).unwrap(), ttyd::resize(1000, 500));
        let zero = ws::Message::Binary(ttyd::resize(0, 0).into());
        assert_eq!(forwarded(zero).unwrap(), ttyd::resize(1, 1));
        for bad in [
            &b"1{\"columns\":-5,\"rows\":3}"[..],
            b"1nonsense",
            b"1{}",
            b"{not json",
        ] {
            assert!(forwarded(ws::Message::Binary(bad.to_vec().into())).is_none());
        }
        let handshake = ws::Message::Binary(ttyd::handshake(u16::MAX, 30).into());
        let sent: serde_json::Value =
            serde_json::from_slice(&forwarded(handshake).unwrap()).unwrap();
        assert_eq!(
            (sent["columns"].as_u64(), sent["rows"].as_u64()),
            (Some(1000), Some(30))
        );
        // The worker's credential, not what the browser sent.
        assert_eq!(sent["AuthToken"], "d29ya2VyOnNlY3JldA==");
        let forged = ws::Message::Text(r#"{"AuthToken":"forged","columns":80,"rows":24}"#.into());
        let sent: serde_json::Value = serde_json::from_slice(&forwarded(forged).unwrap()).unwrap();
        assert_eq!(sent["AuthToken"], "d29ya2VyOnNlY3JldA==");
        let keys = ws::Message::Binary(ttyd::input(b"ls\r").into());
        assert_eq!(forwarded(keys).unwrap(), ttyd::input(b"ls\r"));
    }

    #[test]
    fn frames_that_crash_ttyd_never_reach_it() {
        assert!(matches!(
            to_ttyd(ws::Message::Binary(Vec::new().into()), ""),
            Forward::Skip
        ));
        assert!(matches!(
            to_ttyd(ws::Message::Text("".into()), ""),
            Forward::Skip
        ));
        assert!(matches!(
            to_ttyd(ws::Message::Binary(b"0x".to_vec().into()), ""),
            Forward::Send(_)
        ));
    }
}
