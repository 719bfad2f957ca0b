//! Faults caused for real: a worker whose container cannot start, and a Docker engine that
//! goes away under a running dashboard. Neither leaves anything behind.

use std::process::{Command, Stdio};

use farm::store::Store;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::{TcpListener, UnixStream};

use crate::client::wait_for_dashboard;
use crate::redis::RedisServer;
use crate::support::{free_port, token, InstanceCleanup, TestFarm, PATIENCE};

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

/// Docker's socket offered on a TCP port, for as long as the returned task runs.
async fn docker_on_tcp() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
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
async fn an_engine_that_goes_away_gets_a_503_that_says_so() {
    let instance = format!("cwf-test-noengine-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    let (engine_port, engine) = docker_on_tcp().await;
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

    // The engine goes away: its port now refuses connections.
    engine.abort();
    let _ = engine.await;
    let client = reqwest::Client::new();
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
    dashboard.kill().ok();
    dashboard.wait().ok();
}
