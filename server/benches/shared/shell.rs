//! Typing into a worker's terminal from a benchmark, through the dashboard's proxy.

use std::time::{Duration, Instant};

use farm::ttyd;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Socket};
use crate::dashboard::PATIENCE;

/// Types `keys` (as ttyd input).
pub async fn send(socket: &mut Socket, keys: &str) {
    socket
        .send(Message::binary(ttyd::input(keys.as_bytes())))
        .await
        .unwrap();
}

/// Types `echo <tag>-$((6*7))` until the shell prints `<tag>-42`: a shell that is still
/// starting may miss the first one. `who` names the terminal if it never answers.
pub async fn until_the_shell_answers(socket: &mut Socket, tag: &str, who: &str) {
    let deadline = Instant::now() + PATIENCE;
    let answer = format!("{tag}-42");
    loop {
        send(socket, &format!("echo {tag}-$((6*7))\r")).await;
        let seen = tokio::time::timeout(
            Duration::from_secs(3),
            client::read_past(socket, &answer, PATIENCE),
        )
        .await;
        if seen.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "{who} never answered");
    }
}
