//! The dashboard under load, on the real binary and engine:
//! - soak: 20 workers, each printing without pause, each watched by 5 viewers through the
//!   proxy for LOAD_SECONDS (default 180). Every viewer must stay connected and see each
//!   worker's final marker; the dashboard's memory is sampled against its own level once the
//!   farm is warm (the baseline of the same run);
//! - flood: creates fired all at once at a farm that has room for only a few more; each is
//!   created or refused with `limit_reached`, never half-made; a refusal's time is set against
//!   a plain list of the workers in the same run.
//!
//! `cargo bench -p server --bench load` (needs Docker and claude-worker:test).

use std::time::{Duration, Instant};

use farm::ttyd::{self, ServerMessage};
use futures_util::StreamExt;
use serde_json::{json, Value};

#[path = "../tests/shared/client.rs"]
mod client;
#[path = "shared/dashboard.rs"]
mod dashboard;
#[path = "shared/shell.rs"]
mod shell;

use client::Socket;
use dashboard::{Dashboard, PATIENCE};
use shell::{send, until_the_shell_answers};

const WORKERS: usize = 20;
const VIEWERS: usize = 5;
/// Room left in the farm when the flood comes, and how many creates it sends.
const ROOM: usize = 5;
const FLOOD: usize = 60;

async fn open(base: &str, id: &str) -> Socket {
    client::open_terminal(base, id, &[]).await.unwrap()
}

/// What one viewer saw: bytes of output, and whether it stayed connected until it saw the
/// final marker.
struct Watched {
    bytes: usize,
    stayed: bool,
}

/// Reads until `marker` shows (or the socket ends), keeping only a window of the output.
async fn watch(
    mut socket: Socket,
    marker: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Watched {
    let mut bytes = 0;
    let mut window = String::new();
    let deadline_after_stop = PATIENCE;
    let mut stopped_at: Option<Instant> = None;
    loop {
        if stopped_at.is_none() && *stop.borrow() {
            stopped_at = Some(Instant::now());
        }
        if stopped_at.is_some_and(|at| at.elapsed() > deadline_after_stop) {
            return Watched {
                bytes,
                stayed: false,
            };
        }
        let next = tokio::time::timeout(Duration::from_secs(1), socket.next()).await;
        let message = match next {
            Err(_) => continue,
            Ok(Some(Ok(message))) => message,
            Ok(_) => {
                return Watched {
                    bytes,
                    stayed: false,
                }
            }
        };
        if let ServerMessage::Output(output) = ttyd::parse(&message.into_data()) {
            bytes += output.len();
            window.push_str(&String::from_utf8_lossy(output));
            if window.contains(&marker) {
                socket.close(None).await.ok();
                return Watched {
                    bytes,
                    stayed: true,
                };
            }
            let keep = window.len().saturating_sub(4096);
            window.drain(..window.floor_char_boundary(keep));
        }
    }
}

async fn soak(dashboard: &Dashboard, http: &reqwest::Client, seconds: u64) {
    let base = &dashboard.base;
    for i in 0..WORKERS {
        let created = http
            .post(format!("http://{base}/api/workers"))
            .json(&json!({ "name": format!("load-{i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    }
    // A control connection per worker starts its producer once the shell answers, and goes:
    // a connection that reads nothing is dropped by the proxy as a stalled viewer.
    for i in 0..WORKERS {
        let mut control = open(base, &format!("load-{i}")).await;
        until_the_shell_answers(&mut control, "load-ready", &format!("worker {i}")).await;
        // A line every 10 ms or so, without end: ~20 KB/s of output per worker.
        send(&mut control, "while :; do seq 1 20; sleep 0.05; done\r").await;
        control.close(None).await.ok();
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut viewers = tokio::task::JoinSet::new();
    for i in 0..WORKERS {
        for _ in 0..VIEWERS {
            let socket = open(base, &format!("load-{i}")).await;
            viewers.spawn(watch(socket, format!("load-end-{i}-99"), stop_rx.clone()));
        }
    }
    println!(
        "soak: {WORKERS} workers x {VIEWERS} viewers through the proxy, {seconds} s, every worker printing"
    );
    // Warm: every connection made, the first screens drawn. This level is the baseline.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let warm = dashboard.resident_kib();
    let started = Instant::now();
    let mut samples = vec![(0u64, warm)];
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(15)).await;
        samples.push((started.elapsed().as_secs(), dashboard.resident_kib()));
    }
    // The end: each worker stops printing and says its marker; every viewer must see it.
    // Typed through tmux itself, after a pause (Ctrl-C flushes what is typed behind it).
    for i in 0..WORKERS {
        let script = format!(
            "tmux send-keys -t main C-c; sleep 0.5; tmux send-keys -t main 'echo load-end-{i}-$((90+9))' Enter"
        );
        let done = std::process::Command::new("docker")
            .args([
                "exec",
                &format!("claude-worker-load-{i}"),
                "sh",
                "-c",
                &script,
            ])
            .status()
            .unwrap();
        assert!(done.success(), "could not end worker {i}");
    }
    stop_tx.send(true).unwrap();
    let mut stayed = 0;
    let mut bytes = Vec::new();
    while let Some(watched) = viewers.join_next().await {
        let watched = watched.unwrap();
        stayed += usize::from(watched.stayed);
        bytes.push(watched.bytes);
    }
    bytes.sort_unstable();
    let end = dashboard.resident_kib();
    for (at, kib) in &samples {
        println!(
            "  after {at:>4} s: dashboard resident {kib:>7} KiB ({:.2}x warm)",
            *kib as f64 / warm as f64
        );
    }
    println!(
        "  end: {stayed} of {} viewers stayed connected and saw their worker's last line; \
         output per viewer {:.1}-{:.1} MB (min-max); resident {end} KiB = {:.2}x warm",
        WORKERS * VIEWERS,
        bytes[0] as f64 / 1e6,
        bytes[bytes.len() - 1] as f64 / 1e6,
        end as f64 / warm as f64
    );
}

async fn flood(dashboard: &Dashboard, http: &reqwest::Client) {
    let base = &dashboard.base;
    // Time a plain list first: what a refusal, which lists the workers too, is set against.
    let mut lists = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let listed = http
            .get(format!("http://{base}/api/workers"))
            .send()
            .await
            .unwrap();
        assert!(listed.status().is_success());
        listed.bytes().await.unwrap();
        lists.push(started.elapsed());
    }
    lists.sort_unstable();
    let existing = WORKERS;
    println!("flood: {FLOOD} creates at once, {existing} workers, room for {ROOM} more");
    let answers = futures_util::future::join_all((0..FLOOD).map(|i| {
        let http = http.clone();
        let url = format!("http://{base}/api/workers");
        async move {
            let started = Instant::now();
            let response = http
                .post(url)
                .json(&json!({ "name": format!("flood-{i}") }))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body, started.elapsed())
        }
    }))
    .await;
    let created = answers.iter().filter(|(s, ..)| s.as_u16() == 201).count();
    let mut refusals: Vec<Duration> = answers
        .iter()
        .filter(|(s, body, _)| s.as_u16() == 409 && body["code"] == "limit_reached")
        .map(|(.., took)| *took)
        .collect();
    refusals.sort_unstable();
    let other = FLOOD - created - refusals.len();
    let listed: Value = http
        .get(format!("http://{base}/api/workers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let median = |sorted: &[Duration]| sorted[sorted.len() / 2];
    println!(
        "  {created} created, {} refused with limit_reached, {other} other answers; {} workers listed after (the limit is {})",
        refusals.len(),
        listed.as_array().map_or(0, Vec::len),
        existing + ROOM
    );
    if !refusals.is_empty() {
        println!(
            "  a refusal took {:.1} ms (median; slowest {:.1} ms) vs a list alone {:.1} ms: {:.2}x",
            median(&refusals).as_secs_f64() * 1e3,
            refusals[refusals.len() - 1].as_secs_f64() * 1e3,
            median(&lists).as_secs_f64() * 1e3,
            median(&refusals).as_secs_f64() / median(&lists).as_secs_f64()
        );
    }
}

#[tokio::main]
async fn main() {
    let seconds = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let limit = (WORKERS + ROOM).to_string();
    // Small limits keep 25 workers inside the default memory budget of any machine that can
    // run them.
    let settings = ["--max-workers", &limit, "--worker-memory-mb", "512"];
    let dashboard = Dashboard::start("load", &settings).await;
    let http = reqwest::Client::new();
    soak(&dashboard, &http, seconds).await;
    flood(&dashboard, &http).await;
}
