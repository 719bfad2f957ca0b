//! A client of a running dashboard: waiting for it to answer, opening a worker's terminal
//! through its proxy, reading the output over ttyd's protocol. Shared by the integration tests
//! and the benchmarks (which include this file with `#[path]`).

use std::time::Duration;

use farm::ttyd::{self, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a worker's terminal through the proxy, with extra request headers (a cookie, an
/// origin), and sends ttyd's handshake (80x24).
pub async fn open_terminal(
    base: &str,
    id: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    open_terminal_at(&format!("ws://{base}"), id, headers, None).await
}

/// Like `open_terminal`, at `origin` (`ws://host:port` or `wss://host:port`), with a TLS
/// set-up of the test's own for `wss`.
pub async fn open_terminal_at(
    origin: &str,
    id: &str,
    headers: &[(&str, &str)],
    tls: Option<Connector>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("{origin}/api/workers/{id}/terminal").into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(ttyd::SUBPROTOCOL),
    );
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let (mut socket, response) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, false, tls).await?;
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        ttyd::SUBPROTOCOL
    );
    socket
        .send(Message::binary(ttyd::handshake(80, 24)))
        .await?;
    Ok(socket)
}

/// Waits until the dashboard at `base` (`host:port`) answers its API. Panics after `patience`.
pub async fn wait_for_dashboard(base: &str, patience: Duration) {
    let deadline = std::time::Instant::now() + patience;
    while reqwest::get(format!("http://{base}/api/workers"))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the dashboard at {base} did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads output until `needle` shows, keeping only a window of it (a flood is megabytes);
/// returns how many bytes of output arrived. Panics after `patience`.
pub async fn read_past(socket: &mut Socket, needle: &str, patience: Duration) -> usize {
    let mut window = String::new();
    let mut total = 0;
    let read = async {
        while let Some(message) = socket.next().await {
            if let ServerMessage::Output(bytes) = ttyd::parse(&message.unwrap().into_data()) {
                total += bytes.len();
                window.push_str(&String::from_utf8_lossy(bytes));
                if window.contains(needle) {
                    return;
                }
                if window.len() > 4 * 1024 {
                    let keep_from = (window.len() - 1024..window.len())
                        .find(|i| window.is_char_boundary(*i))
                        .unwrap_or(window.len());
                    window.drain(..keep_from);
                }
            }
        }
        panic!("the terminal closed before {needle}");
    };
    tokio::time::timeout(patience, read)
        .await
        .unwrap_or_else(|_| panic!("{needle} never came"));
    total
}
