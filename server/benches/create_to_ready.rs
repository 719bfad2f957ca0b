//! Worker create → terminal ready, through the dashboard, against a baseline measured in the
//! same run: the same image started with `docker run` and its ttyd reached directly.
//! "Ready" means the first terminal output arrived over ttyd's websocket.
//!
//! `cargo bench -p server --bench create_to_ready` (needs Docker and claude-worker:test).

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use farm::config::Config;
use farm::ttyd::{self, ServerMessage};
use farm::WorkerService;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Workers per series.
const RUNS: usize = 20;
/// Longest wait for one worker; only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(120);

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Connects to a ttyd websocket (retrying while it starts) and waits for the first output.
async fn first_output(url: String) {
    let deadline = Instant::now() + PATIENCE;
    let mut socket = loop {
        let mut request = url.as_str().into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(ttyd::SUBPROTOCOL),
        );
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => break socket,
            Err(e) if Instant::now() > deadline => panic!("{url}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    socket
        .send(Message::binary(ttyd::handshake(80, 24)))
        .await
        .unwrap();
    while let Some(message) = socket.next().await {
        let message = message.expect("websocket error");
        if let ServerMessage::Output(bytes) = ttyd::parse(&message.into_data()) {
            if !bytes.is_empty() {
                return;
            }
        }
    }
    panic!("{url}: closed before any output");
}

/// Through the dashboard: POST /api/workers, then the proxied terminal.
async fn through_dashboard(http: reqwest::Client, base: SocketAddr, name: String) -> Duration {
    let started = Instant::now();
    let response = http
        .post(format!("http://{base}/api/workers"))
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    first_output(format!("ws://{base}/api/workers/{name}/terminal")).await;
    started.elapsed()
}

/// Baseline: `docker run` of the same image on the same network, ttyd reached directly.
async fn direct(network: String, image: String, name: String) -> Duration {
    let started = Instant::now();
    let id = tokio::task::spawn_blocking(move || {
        docker(&[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            &network,
            "--label",
            &format!("bench-baseline={network}"),
            "-e",
            &format!("WORKER_ID={name}"),
            &image,
        ])
    })
    .await
    .unwrap();
    let inspect_id = id.clone();
    let ip = tokio::task::spawn_blocking(move || {
        docker(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &inspect_id,
        ])
    })
    .await
    .unwrap();
    first_output(format!("ws://{ip}:7681/ws")).await;
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut times: Vec<Duration>) -> Duration {
    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    println!(
        "{label:<44} p50 {:>7.1} ms   p95 {:>7.1} ms",
        ms(p50),
        ms(p95)
    );
    p50
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn remove_all(instance: &str, network: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/remove-instance.sh");
    let baseline = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=bench-baseline={network}"),
    ]);
    for id in baseline.split_whitespace() {
        docker(&["rm", "-f", id]);
    }
    Command::new(script)
        .arg(instance)
        .status()
        .expect("remove-instance.sh");
}

#[tokio::main]
async fn main() {
    let instance = format!("cwf-bench-{}", std::process::id());
    let image = std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into());
    let config = Config::parse_from([
        "farm",
        "--instance",
        &instance,
        "--worker-image",
        &image,
        "--max-workers",
        "100",
        // Many workers at once: small limits keep them inside the default memory budget.
        "--worker-memory-mb",
        "512",
    ]);
    let network = config.network();
    let service = WorkerService::start(config)
        .await
        .expect("Docker must be running");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = listener.local_addr().unwrap();
    let auth = farm::auth::Auth::from_config(service.config(), base, service.store()).unwrap();
    tokio::spawn(server::serve(
        listener,
        None,
        service,
        auth,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();

    println!("worker create -> terminal ready, {RUNS} workers per series ({image})");
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for i in 0..RUNS {
        // Interleaved, so that both see the same machine.
        baseline.push(
            direct(
                network.clone(),
                image.clone(),
                format!("bench-direct-{instance}-{i}"),
            )
            .await,
        );
        ours.push(through_dashboard(http.clone(), base, format!("seq-{i}")).await);
    }
    let direct_p50 = report("sequential, docker run + direct ttyd", baseline);
    let ours_p50 = report("sequential, dashboard API + proxy", ours);

    let started = Instant::now();
    let all = futures_util::future::join_all((0..RUNS).map(|i| {
        direct(
            network.clone(),
            image.clone(),
            format!("bench-burst-{instance}-{i}"),
        )
    }))
    .await;
    let direct_all = started.elapsed();
    report("concurrent, docker run + direct ttyd", all);
    let started = Instant::now();
    let all = futures_util::future::join_all(
        (0..RUNS).map(|i| through_dashboard(http.clone(), base, format!("burst-{i}"))),
    )
    .await;
    let ours_all = started.elapsed();
    report("concurrent, dashboard API + proxy", all);

    println!(
        "all {RUNS} concurrent ready: direct {:.0} ms, dashboard {:.0} ms",
        ms(direct_all),
        ms(ours_all)
    );
    println!(
        "ratio dashboard/direct: sequential p50 {:.2}x, concurrent all-ready {:.2}x",
        ours_p50.as_secs_f64() / direct_p50.as_secs_f64(),
        ours_all.as_secs_f64() / direct_all.as_secs_f64()
    );
    remove_all(&instance, &network);
}
