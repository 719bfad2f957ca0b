//! Faults caused for real: a worker whose container cannot start, a Docker engine that goes
//! away under a running dashboard and comes back, Redis stopped and started empty, a worker
//! killed or out of memory. Nothing is left behind and nothing is lost that Docker knows.

use std::process::{Command, Stdio};

use farm::store::Store;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::{TcpListener, UnixStream};

use crate::client::wait_for_dashboard;
use crate::redis::RedisServer;
use crate::support::{free_port, get_json, token, InstanceCleanup, TestFarm, PATIENCE};
use crate::{open_terminal, run_until, wait_for_state};

#[tokio::test]
async fn a_worker_that_cannot_start_leaves_no_container_and_no_record() {
    let redis = RedisServer::start().await;
    // Docker cannot publish the worker's direct port: something else holds it.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let farm = TestFarm::start_with(&["--base-port", &port, "--redis-url", &redis.url()]).await;

    let response = farm.create("cannot start").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "docker_error");
    let message = error["error"].as_str().unwrap();
    assert!(message.contains("Docker refused the request"), "{message}");
    assert!(
        message.contains(&port),
        "the message should name the port: {message}"
    );

    assert_eq!(farm.containers(), Vec::<String>::new());
    let store = Store::open(Some(&redis.url()), &farm.instance)
        .await
        .unwrap();
    assert!(store.records().await.unwrap().is_empty());
    assert_eq!(farm.get_json("/api/workers").await, json!([]));
    drop(held);
}

/// Docker's socket offered on a TCP port (any free one for 0), for as long as the returned
/// task runs.
async fn docker_on_tcp(port: u16) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            connections.spawn(async move {
                if let Ok(mut engine) = UnixStream::connect("/var/run/docker.sock").await {
                    tokio::io::copy_bidirectional(&mut client, &mut engine)
                        .await
                        .ok();
                }
            });
        }
    });
    (port, task)
}

#[tokio::test]
async fn an_engine_that_goes_away_gets_a_503_that_says_so_and_is_followed_again_when_back() {
    let instance = format!("cwf-test-noengine-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    let (engine_port, engine) = docker_on_tcp(0).await;
    let port = free_port();
    let image = std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into());
    let mut dashboard = Command::new(env!("CARGO_BIN_EXE_claude-worker-farm"))
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--instance",
            &instance,
        ])
        .args(["--worker-image", &image])
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{engine_port}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_dashboard(&format!("127.0.0.1:{port}"), PATIENCE).await;
    let base = format!("http://127.0.0.1:{port}");

    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/api/workers"))
        .json(&json!({"name": "steady"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // The engine goes away: its port now refuses connections.
    engine.abort();
    let _ = engine.await;
    for request in [
        client.get(format!("{base}/api/workers")),
        client
            .post(format!("{base}/api/workers"))
            .json(&json!({"name": "no engine"})),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "docker_unavailable");
        let message = error["error"].as_str().unwrap();
        assert!(
            message.contains("Docker engine is unreachable"),
            "{message}"
        );
        assert!(
            message.contains("start Docker or set DOCKER_HOST"),
            "{message}"
        );
    }
    // The page says so too, instead of failing blank.
    let page = reqwest::get(format!("{base}/")).await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Docker engine is unreachable"), "{page}");

    // It comes back (as after an engine restart): the workers are listed again, and the
    // dashboard follows Docker's events again, so a worker killed behind its back shows.
    let (_, engine) = docker_on_tcp(engine_port).await;
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut events = loop {
        let response = client
            .get(format!("{base}/api/events"))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            break response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the engine never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mut seen = String::new();
    crate::read_events(&mut events, &mut seen, 1).await;
    let listed = get_json(&format!("{base}/api/workers")).await;
    assert_eq!(listed[0]["status"]["state"], "running", "{listed}");
    // Killed behind the dashboard's back: an event says so (from Docker's stream, or from
    // the follower's catching up when it returns), and the status is exited.
    crate::support::docker(&["kill", "claude-worker-steady"]);
    let mut count = 1;
    loop {
        count += 1;
        crate::read_events(&mut events, &mut seen, count).await;
        let worker = get_json(&format!("{base}/api/workers/steady")).await;
        if worker["status"]["state"] == "exited" {
            break;
        }
    }
    engine.abort();
    dashboard.kill().ok();
    dashboard.wait().ok();
}

#[tokio::test]
async fn without_redis_the_farm_works_from_docker_and_resyncs_when_it_returns() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    let farm = TestFarm::start_with(&["--redis-url", &url]).await;
    let broken = json!({"name": "broken", "git_repo": "https://127.0.0.1:1/missing.git"});
    assert_eq!(
        farm.post("/api/workers", &broken).await.status(),
        StatusCode::CREATED
    );
    let failed = wait_for_state(&farm, "broken", "failed").await;

    // Redis goes away: workers are listed, created and reached from Docker alone.
    redis.stop();
    let listed = farm.get_json("/api/workers").await;
    assert_eq!(listed[0]["id"], "broken", "{listed}");
    assert_eq!(farm.create("during").await.status(), StatusCode::CREATED);
    let mut terminal = open_terminal(&farm.base, "during", &[]).await.unwrap();
    run_until(&mut terminal, "echo no-redis-$((3*3))\r", "no-redis-9").await;

    // It comes back empty: the store learns both workers again, and the failed clone's
    // reason, read again from the worker's log.
    redis.restart().await;
    let store = Store::open(Some(&url), &farm.instance).await.unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let records = store.records().await.unwrap_or_default();
        if records.contains_key("during") && records.contains_key("broken") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never resynced: {records:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let again = wait_for_state(&farm, "broken", "failed").await;
    assert_eq!(again["status"], failed["status"]);
}

#[tokio::test]
async fn a_worker_out_of_memory_says_so_and_a_restart_brings_its_session_back() {
    let farm = TestFarm::start().await;
    let small = json!({"name": "hog", "memory_mb": 256});
    assert_eq!(
        farm.post("/api/workers", &small).await.status(),
        StatusCode::CREATED
    );
    let mut terminal = open_terminal(&farm.base, "hog", &[]).await.unwrap();
    run_until(&mut terminal, "echo ready-$((2+3))\r", "ready-5").await;
    // `tail` keeps an endless line in memory until the kernel kills it at the limit.
    run_until(
        &mut terminal,
        "head -c 2G /dev/zero | tail; echo tail-ended\r",
        "tail-ended",
    )
    .await;
    let deadline = std::time::Instant::now() + PATIENCE;
    let worker = loop {
        let worker = farm.get_json("/api/workers/hog").await;
        if worker["out_of_memory"].is_i64() {
            break worker;
        }
        assert!(std::time::Instant::now() < deadline, "never said: {worker}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    // The worker itself lives on; only the process that grew was killed.
    assert_eq!(worker["status"]["state"], "running", "{worker}");

    // A restart clears it and gives a working session again.
    assert_eq!(
        farm.post("/api/workers/hog/restart", &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let worker = farm.get_json("/api/workers/hog").await;
    assert!(worker.get("out_of_memory").is_none(), "{worker}");
    let mut terminal = open_terminal(&farm.base, "hog", &[]).await.unwrap();
    run_until(&mut terminal, "echo back-$((4+4))\r", "back-8").await;
}
