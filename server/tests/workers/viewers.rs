//! Several viewers on one worker: a viewer that stops reading is dropped by the proxy while
//! another keeps receiving everything at full speed.

use std::time::{Duration, Instant};

use farm::close_codes;
use farm::proxy::SLOW_VIEWER_PATIENCE;
use farm::ttyd;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{TestFarm, PATIENCE};
use crate::{open_terminal, run_until, Socket};

async fn read_past(socket: &mut Socket, needle: &str) -> usize {
    crate::client::read_past(socket, needle, PATIENCE).await
}

/// A viewer that never reads its socket (a small receive buffer, so the stall shows soon).
async fn stalled_viewer(base: &str, id: &str) -> Socket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let stream = socket.connect(base.parse().unwrap()).await.unwrap();
    let mut request = format!("ws://{base}/api/workers/{id}/terminal")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(ttyd::SUBPROTOCOL),
    );
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut viewer, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    viewer
        .send(Message::binary(ttyd::handshake(80, 24)))
        .await
        .unwrap();
    viewer
}

#[tokio::test]
async fn a_stalled_viewer_is_dropped_while_another_keeps_receiving() {
    let farm = TestFarm::start().await;
    assert_eq!(farm.create("flood").await.status(), StatusCode::CREATED);
    let mut fast = open_terminal(&farm.base, "flood", &[]).await.unwrap();
    run_until(&mut fast, "echo ready-$((1+1))\r", "ready-2").await;
    let mut stalled = stalled_viewer(&farm.base, "flood").await;

    // Output for twice the proxy's patience, far more than the stalled viewer's buffers
    // hold. tmux sends each client what it needs to show the screen.
    let flood = format!(
        "timeout {} yes farm-flood-line; echo flood-$((6*7))-done\r",
        SLOW_VIEWER_PATIENCE.as_secs() * 2
    );
    fast.send(Message::binary(ttyd::input(flood.as_bytes())))
        .await
        .unwrap();
    let received = read_past(&mut fast, "flood-42-done").await;
    assert!(received > 100_000, "only {received} bytes arrived");
    eprintln!("the fast viewer received {received} bytes of the flood");
    // The fast viewer still works; the stalled one has long been cut off: what it finally
    // reads ends, with our close code if the close frame fitted into its buffers.
    run_until(&mut fast, "echo after-$((2+2))\r", "after-4").await;
    let deadline = Instant::now() + PATIENCE;
    let mut close_code = None;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), stalled.next()).await;
        match next.expect("the stalled viewer was never dropped") {
            Some(Ok(Message::Close(frame))) => {
                close_code = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => assert!(Instant::now() < deadline, "still receiving"),
            Some(Err(_)) | None => break,
        }
    }
    if let Some(code) = close_code {
        assert_eq!(code, close_codes::VIEWER_TOO_SLOW);
    }
    eprintln!("stalled viewer dropped, close code {close_code:?}");
    // And the session goes on for everybody else.
    run_until(&mut fast, "echo still-$((3+3))\r", "still-6").await;
}

#[tokio::test]
async fn an_oversized_frame_ends_only_its_own_connection() {
    let farm = TestFarm::start().await;
    assert_eq!(farm.create("big-frame").await.status(), StatusCode::CREATED);
    let mut bystander = open_terminal(&farm.base, "big-frame", &[]).await.unwrap();
    run_until(&mut bystander, "echo ready-$((1+1))\r", "ready-2").await;

    // ttyd would reassemble this without limit; the proxy refuses it.
    let mut sender = open_terminal(&farm.base, "big-frame", &[]).await.unwrap();
    let mut huge = vec![ttyd::INPUT];
    huge.resize(farm::proxy::MAX_MESSAGE_BYTES * 2, b'a');
    sender.send(Message::binary(huge)).await.ok();
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match sender.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the connection that sent it stayed open");
    eprintln!("oversized frame: connection closed with {ended:?}");
    // Nothing of it reached the session, and ttyd serves everybody else as before.
    run_until(&mut bystander, "echo alive-$((5*5))\r", "alive-25").await;
    let mut newcomer = open_terminal(&farm.base, "big-frame", &[]).await.unwrap();
    run_until(&mut newcomer, "echo new-$((6*6))\r", "new-36").await;
}
