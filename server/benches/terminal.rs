//! The terminal through the dashboard's proxy against ttyd reached directly on the workers'
//! network (the floor), in the same run on the same worker:
//! - keystroke echo round trip (ttyd client → [proxy →] ttyd → tmux → back), p50 and p99;
//! - output throughput of a large `seq`, until its end marker arrives;
//! - fan-out: 50 and 200 viewers on one worker, each must see the end of the output; the
//!   dashboard's resident memory per connected viewer.
//!
//! `cargo bench -p server --bench terminal` (needs Docker and claude-worker:test). It runs the
//! real dashboard binary, so that its memory is its own.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use farm::ttyd::{self, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

// Shared with the tests and the load benchmark: this one opens its terminals itself.
#[allow(dead_code)]
#[path = "../tests/shared/client.rs"]
mod client;
#[path = "shared/dashboard.rs"]
mod dashboard;
#[path = "shared/shell.rs"]
mod shell;

use client::Socket;
use dashboard::{Dashboard, PATIENCE};
use shell::{send, until_the_shell_answers};

/// Keystrokes measured per path, in interleaved blocks.
const KEYSTROKES: usize = 1000;
const BLOCK: usize = 50;
/// Lines of `seq` for the throughput runs (about 6.9 MB of output).
const SEQ_LINES: usize = 1_000_000;
const THROUGHPUT_RUNS: usize = 5;

/// A terminal to open: through the dashboard's proxy (which adds the worker's credential), or
/// ttyd directly with the credential (`auth_token`, base64 of `user:password`).
struct Endpoint {
    url: String,
    auth_token: Option<String>,
}

async fn open(endpoint: &Endpoint) -> Socket {
    let mut request = endpoint.url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(ttyd::SUBPROTOCOL),
    );
    let token = endpoint.auth_token.as_deref().unwrap_or_default();
    if !token.is_empty() {
        let basic = HeaderValue::from_str(&format!("Basic {token}")).unwrap();
        request.headers_mut().insert("authorization", basic);
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::binary(ttyd::handshake_with_token(token, 120, 40)))
        .await
        .unwrap();
    socket
}

async fn read_past(socket: &mut Socket, needle: &str) -> usize {
    client::read_past(socket, needle, PATIENCE).await
}

/// Reads whatever arrives until the terminal has been quiet for a moment.
async fn drain(socket: &mut Socket) {
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(150), socket.next()).await {}
}

/// A shell prompt that answers: types a command until its output shows.
async fn ready(socket: &mut Socket) {
    until_the_shell_answers(socket, "bench-ready", "the shell").await;
    drain(socket).await;
}

/// Times `count` keystrokes from sending `x` to its echo arriving, clearing the line now and
/// then so that it never wraps.
async fn keystrokes(socket: &mut Socket, count: usize, times: &mut Vec<Duration>) {
    for i in 0..count {
        if i % 40 == 0 {
            send(socket, "\x15").await;
            drain(socket).await;
        }
        let started = Instant::now();
        send(socket, "x").await;
        loop {
            let message = tokio::time::timeout(PATIENCE, socket.next())
                .await
                .expect("no echo")
                .unwrap()
                .unwrap();
            if let ServerMessage::Output(bytes) = ttyd::parse(&message.into_data()) {
                if bytes.contains(&b'x') {
                    break;
                }
            }
        }
        times.push(started.elapsed());
    }
    send(socket, "\x15").await;
    drain(socket).await;
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Time for `seq` to come through in full, and the bytes of output that carried it.
async fn throughput(socket: &mut Socket, run: usize) -> (Duration, usize) {
    let marker = format!("seq-done-{run}-$((6*7))");
    let started = Instant::now();
    send(socket, &format!("seq 1 {SEQ_LINES}; echo {marker}\r")).await;
    let bytes = read_past(socket, &format!("seq-done-{run}-42")).await;
    let elapsed = started.elapsed();
    drain(socket).await;
    (elapsed, bytes)
}

/// Connects `count` viewers to `url`, each reading all the time (ttyd drops a viewer that
/// leaves its pings unanswered), runs a `seq` from one more connection, and times until
/// every viewer has seen its end.
async fn fan_out(
    endpoint: &Endpoint,
    count: usize,
    measured: Option<&Dashboard>,
) -> (Duration, Option<f64>) {
    // Unique per round: a viewer that attaches is shown the screen as it is, with the
    // previous round's end on it.
    let tag = format!("{count}{}", if measured.is_some() { "p" } else { "d" });
    let needle = format!("fan-{tag}-42");
    let before = measured.map(Dashboard::resident_kib);
    let viewers = futures_util::future::join_all((0..count).map(|_| open(endpoint))).await;
    let mut watching = tokio::task::JoinSet::new();
    for mut viewer in viewers {
        let needle = needle.clone();
        watching.spawn(async move {
            read_past(&mut viewer, &needle).await;
            let seen = Instant::now();
            viewer.close(None).await.ok();
            seen
        });
    }
    let mut control = open(endpoint).await;
    ready(&mut control).await;
    let per_viewer = measured.zip(before).map(|(dashboard, before)| {
        dashboard.resident_kib().saturating_sub(before) as f64 / (count + 1) as f64
    });
    let started = Instant::now();
    send(
        &mut control,
        &format!("seq 1 20000; echo fan-{tag}-$((6*7))\r"),
    )
    .await;
    let mut last = started;
    let mut seen = 0;
    while let Some(at) = watching.join_next().await {
        last = last.max(at.expect("a viewer failed"));
        seen += 1;
    }
    assert_eq!(seen, count, "not every viewer saw the end");
    control.close(None).await.ok();
    // tmux and ttyd let go of the clients before the next round.
    tokio::time::sleep(Duration::from_secs(2)).await;
    (last - started, per_viewer)
}

#[tokio::main]
async fn main() {
    let dashboard = Dashboard::start("term", &[]).await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("http://{}/api/workers", dashboard.base))
        .json(&serde_json::json!({"name": "bench"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let inspect = |format: &str| {
        let out = Command::new("docker")
            .args(["inspect", "-f", format, "claude-worker-bench"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let ip = inspect("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
    let env = inspect("{{range .Config.Env}}{{println .}}{{end}}");
    let credential = env
        .lines()
        .find_map(|line| line.strip_prefix("TTYD_CREDENTIAL="))
        .expect("the worker has a ttyd credential");
    let direct_endpoint = Endpoint {
        url: format!("ws://{}:7681/ws", ip.trim()),
        auth_token: Some(base64::engine::general_purpose::STANDARD.encode(credential)),
    };
    let proxy_endpoint = Endpoint {
        url: format!("ws://{}/api/workers/bench/terminal", dashboard.base),
        auth_token: None,
    };
    let mut direct = open(&direct_endpoint).await;
    let mut proxied = open(&proxy_endpoint).await;
    ready(&mut direct).await;
    ready(&mut proxied).await;
    drain(&mut direct).await;

    println!("terminal through the dashboard's proxy vs ttyd directly (same worker, same run)");
    let (mut direct_times, mut proxy_times) = (Vec::new(), Vec::new());
    let mut warmup = Vec::new();
    keystrokes(&mut direct, BLOCK, &mut warmup).await;
    keystrokes(&mut proxied, BLOCK, &mut warmup).await;
    for _ in 0..KEYSTROKES / BLOCK {
        keystrokes(&mut direct, BLOCK, &mut direct_times).await;
        drain(&mut proxied).await;
        keystrokes(&mut proxied, BLOCK, &mut proxy_times).await;
        drain(&mut direct).await;
    }
    direct_times.sort();
    proxy_times.sort();
    for (p, label) in [(0.5, "p50"), (0.99, "p99")] {
        let (d, o) = (percentile(&direct_times, p), percentile(&proxy_times, p));
        println!(
            "keystroke echo {label}: direct {:>7.0} µs, proxy {:>7.0} µs, {:.2}x, +{:.0} µs",
            micros(d),
            micros(o),
            o.as_secs_f64() / d.as_secs_f64(),
            micros(o) - micros(d)
        );
    }

    // The program's output is the same on both paths; tmux decides how many bytes it takes
    // to show it, so the time until the end marker is the figure that matters.
    let (mut direct_runs, mut proxy_runs) = (Vec::new(), Vec::new());
    for run in 0..THROUGHPUT_RUNS {
        drain(&mut proxied).await;
        direct_runs.push(throughput(&mut direct, run).await);
        drain(&mut direct).await;
        proxy_runs.push(throughput(&mut proxied, run + THROUGHPUT_RUNS).await);
    }
    let median = |runs: &mut Vec<(Duration, usize)>| {
        runs.sort();
        runs[runs.len() / 2]
    };
    let ((dt, db), (pt, pb)) = (median(&mut direct_runs), median(&mut proxy_runs));
    let output_mb = SEQ_LINES as f64 * 6.9 / 1e6;
    println!(
        "seq 1 {SEQ_LINES} ({output_mb:.1} MB of program output), median of {THROUGHPUT_RUNS}: \
         direct {:.0} ms ({:.1} MB/s, {:.1} MB on the wire), proxy {:.0} ms ({:.1} MB/s, {:.1} MB on the wire), \
         throughput {:.2}x",
        dt.as_secs_f64() * 1e3,
        output_mb / dt.as_secs_f64(),
        db as f64 / 1e6,
        pt.as_secs_f64() * 1e3,
        output_mb / pt.as_secs_f64(),
        pb as f64 / 1e6,
        dt.as_secs_f64() / pt.as_secs_f64()
    );
    direct.close(None).await.ok();
    proxied.close(None).await.ok();
    drop((direct, proxied));

    for count in [50, 200] {
        let (direct_time, _) = fan_out(&direct_endpoint, count, None).await;
        let (proxy_time, per_viewer) = fan_out(&proxy_endpoint, count, Some(&dashboard)).await;
        println!(
            "fan-out {count} viewers, all saw the end: direct {:.0} ms, proxy {:.0} ms, {:.2}x; dashboard memory +{:.0} KiB per viewer",
            direct_time.as_secs_f64() * 1e3,
            proxy_time.as_secs_f64() * 1e3,
            proxy_time.as_secs_f64() / direct_time.as_secs_f64(),
            per_viewer.unwrap_or_default()
        );
    }
    println!(
        "dashboard resident memory at the end: {} KiB",
        dashboard.resident_kib()
    );
}
