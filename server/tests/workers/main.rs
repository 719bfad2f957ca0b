//! Workers end to end against a real Docker engine: the REST API creates a container from the
//! worker image, the proxy carries ttyd's protocol to its tmux session, delete leaves nothing.

mod agent;
mod attacks;
mod auth;
mod batch;
mod budget;
mod claude;
#[path = "../shared/client.rs"]
mod client;
mod clone;
mod compose;
mod create_options;
mod dashboard_process;
mod faults;
mod hardening;
#[path = "../shared/model.rs"]
mod model;
mod private_repo;
mod redis;
mod secrets;
mod sign_in;
mod store;
mod support;
mod tls;
mod viewers;

use std::time::{Duration, Instant};

use farm::ttyd::{self, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{docker, token, TestFarm, PATIENCE};
use tokio_tungstenite::tungstenite::Message;

use client::{open_terminal, Socket};

/// Collects terminal output into `seen` for at most `limit`; true once it contains `needle`.
async fn read_for(socket: &mut Socket, seen: &mut String, needle: &str, limit: Duration) -> bool {
    let read = async {
        while let Some(message) = socket.next().await {
            let message = message.expect("websocket error");
            if let ServerMessage::Output(bytes) = ttyd::parse(&message.into_data()) {
                seen.push_str(&String::from_utf8_lossy(bytes));
                if seen.contains(needle) {
                    return true;
                }
            }
        }
        panic!("the terminal closed");
    };
    tokio::time::timeout(limit, read).await.unwrap_or(false)
}

/// Reads terminal output until it contains `needle`, re-sending `command` every few seconds
/// (a shell that is still starting may miss the first one).
async fn run_until(socket: &mut Socket, command: &str, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        socket
            .send(Message::binary(ttyd::input(command.as_bytes())))
            .await
            .unwrap();
        if read_for(socket, &mut seen, needle, Duration::from_secs(3)).await {
            return seen;
        }
    }
    panic!("never saw {needle:?} in the terminal; it showed:\n{seen}");
}

/// Reads terminal output, without typing, until it contains `needle`.
async fn read_until(socket: &mut Socket, needle: &str) -> String {
    let mut seen = String::new();
    if read_for(socket, &mut seen, needle, PATIENCE).await {
        return seen;
    }
    panic!("never saw {needle:?} in the terminal; it showed:\n{seen}");
}

#[tokio::test]
async fn a_worker_terminal_round_trips_through_the_proxy() {
    let farm = TestFarm::start().await;

    let started = Instant::now();
    let response = farm
        .post("/api/workers", &json!({"name": "Echo Test"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let worker: Value = response.json().await.unwrap();
    assert_eq!(worker["id"], "echo-test");
    assert_eq!(worker["name"], "Echo Test");
    assert_eq!(worker["terminal_url"], "/workers/echo-test");

    // No port of the worker is published on the host: the proxy is the only way in.
    assert_eq!(docker(&["port", "claude-worker-echo-test"]).trim(), "");
    let ports = docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.PortBindings}}",
        "claude-worker-echo-test",
    ]);
    assert!(
        matches!(ports.trim(), "{}" | "null"),
        "published ports: {ports}"
    );
    // Hardened and limited, labelled as ours, and the API key is in no label or answer.
    let host = docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig}}",
        "claude-worker-echo-test",
    ]);
    let host: Value = serde_json::from_str(&host).unwrap();
    assert_eq!(host["CapDrop"], json!(["ALL"]));
    assert_eq!(host["SecurityOpt"], json!(["no-new-privileges"]));
    assert!(host["Memory"].as_i64().unwrap() > 0);
    assert!(host["PidsLimit"].as_i64().unwrap() > 0);
    let labels = docker(&[
        "inspect",
        "-f",
        "{{json .Config.Labels}}",
        "claude-worker-echo-test",
    ]);
    let labels: Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(
        labels["farm.claude-worker.instance"],
        farm.instance.as_str()
    );
    assert_eq!(labels["farm.claude-worker.id"], "echo-test");
    assert!(!labels.to_string().contains(&farm.api_key));
    let listed = farm.get("/api/workers").await;
    let listed = listed.text().await.unwrap();
    assert!(listed.contains("echo-test") && !listed.contains(&farm.api_key));
    let page = farm.get("/").await.text().await.unwrap();
    assert!(page.contains("Claude Worker Farm") && !page.contains(&farm.api_key));

    let mut socket = open_terminal(&farm.base, "echo-test", &[]).await.unwrap();
    let secret = token();
    // The shell prints 42 only when it runs the line, so the echo of the typing never matches.
    run_until(
        &mut socket,
        &format!("echo tok-{secret}-$((40+2))\r"),
        &format!("tok-{secret}-42"),
    )
    .await;
    println!(
        "worker create -> terminal ready: {} ms",
        started.elapsed().as_millis()
    );

    // The worker got the API key (its last four characters are enough to tell).
    let tail = &farm.api_key[farm.api_key.len() - 4..];
    let expected = format!("key-{tail}-end");
    run_until(
        &mut socket,
        "echo key-${ANTHROPIC_API_KEY: -4}-end\r",
        &expected,
    )
    .await;

    socket
        .send(Message::binary(ttyd::resize(100, 30)))
        .await
        .unwrap();
    // tmux keeps one row for its status line.
    run_until(
        &mut socket,
        "echo size-$(stty size | tr ' ' x)\r",
        "size-29x100",
    )
    .await;
    // An absurd size is clamped on its way, and ttyd survives a zero-length frame.
    socket
        .send(Message::binary(ttyd::resize(u16::MAX, u16::MAX)))
        .await
        .unwrap();
    run_until(
        &mut socket,
        "echo size-$(stty size | tr ' ' x)\r",
        "size-499x1000",
    )
    .await;
    socket
        .send(Message::binary(ttyd::resize(80, 24)))
        .await
        .unwrap();
    socket.send(Message::binary(Vec::new())).await.unwrap();
    run_until(&mut socket, "echo alive-$((5*5))\r", "alive-25").await;

    // Restart: a fresh tmux session, but what is under /shared stays.
    run_until(
        &mut socket,
        &format!("echo kept > /shared/state/{secret} && echo saved-$((1+1))\r"),
        "saved-2",
    )
    .await;
    socket.close(None).await.ok();
    let response = farm
        .post("/api/workers/echo-test/restart", &json!(null))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut socket = open_terminal(&farm.base, "echo-test", &[]).await.unwrap();
    run_until(
        &mut socket,
        &format!("echo state-$(cat /shared/state/{secret})\r"),
        "state-kept",
    )
    .await;
    socket.close(None).await.ok();

    let response = farm.delete("/api/workers/echo-test").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = farm.get("/api/workers/echo-test").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(farm.containers(), Vec::<String>::new());
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_create_nothing() {
    let farm = TestFarm::start().await;

    for (body, fragment) in [
        (json!({"name": "a\u{1}b"}), "control characters"),
        (json!({"name": "x".repeat(65)}), "at most 64"),
        (
            json!({"git_repo": "ext::sh%20-c%20id"}),
            "unsupported git URL",
        ),
        (
            json!({"git_repo": "--upload-pack=touch /tmp/pwned"}),
            "must not start with '-'",
        ),
        (json!({"git_repo": "file:///etc"}), "unsupported git URL"),
        (
            json!({"name": "typo", "git_url": "https://x/y"}),
            "unknown field `git_url`",
        ),
    ] {
        let response = farm.post("/api/workers", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "invalid_input");
        assert!(
            error["error"].as_str().unwrap().contains(fragment),
            "{body} -> {error}"
        );
    }
    let response = reqwest::Client::new()
        .post(farm.url("/api/workers"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        farm.containers(),
        Vec::<String>::new(),
        "a refused request left a container"
    );

    assert_eq!(
        farm.post("/api/workers", &json!({"name": "twin"}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let response = farm.post("/api/workers", &json!({"name": "Twin"})).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "already_exists"
    );
    assert_eq!(farm.containers(), vec!["claude-worker-twin".to_owned()]);

    // A page on another site must not reach a terminal.
    let refused = open_terminal(&farm.base, "twin", &[("origin", "http://evil.example")])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    let unknown = open_terminal(&farm.base, "nobody", &[]).await.unwrap_err();
    assert!(unknown.to_string().contains("404"), "{unknown}");

    for path in ["/api/workers/nobody", "/api/workers/..%2Fetc"] {
        let response = farm.delete(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// Polls the worker until its status is `state`; the status changes in the background.
async fn wait_for_state(farm: &TestFarm, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let worker = farm.get_json(&format!("/api/workers/{id}")).await;
        if worker["status"]["state"] == state {
            return worker;
        }
        assert!(Instant::now() < deadline, "never {state}: {worker}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_failed_clone_still_gives_a_terminal_that_says_why() {
    let farm = TestFarm::start().await;
    // Nothing listens on port 1: the clone fails at once, for a real reason.
    let body = json!({"name": "broken clone", "git_repo": "https://127.0.0.1:1/nothing.git"});
    let response = farm.post("/api/workers", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // The status says so, with git's reason, as soon as the entrypoint gives up.
    let worker = wait_for_state(&farm, "broken-clone", "failed").await;
    let reason = worker["status"]["reason"].as_str().unwrap();
    assert!(reason.contains("could not be cloned"), "{reason}");
    assert!(
        reason.contains("Failed to connect to 127.0.0.1:1"),
        "git's reason is missing: {reason}"
    );

    let mut socket = open_terminal(&farm.base, "broken-clone", &[])
        .await
        .unwrap();
    let screen = run_until(&mut socket, "pwd\r", "/home/worker").await;
    assert!(screen.contains("could not be cloned"), "{screen}");
    assert!(docker(&["logs", "claude-worker-broken-clone"]).contains("clone failed: fatal:"));

    // Restarting tries again: the status goes through cloning and fails again, freshly.
    let response = farm
        .post("/api/workers/broken-clone/restart", &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    wait_for_state(&farm, "broken-clone", "failed").await;

    // The same story through the API, as a tail and as a live stream.
    let logs = farm.get("/api/workers/broken-clone/logs?tail=50").await;
    assert_eq!(logs.status(), StatusCode::OK);
    assert!(logs.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(logs.text().await.unwrap().contains("clone failed"));
    let mut live = farm.get("/api/workers/broken-clone/logs?follow=true").await;
    let mut seen = String::new();
    while !seen.contains("terminal ready") {
        let chunk = tokio::time::timeout(PATIENCE, live.chunk())
            .await
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(
            &chunk.expect("the log stream ended early"),
        ));
    }
    drop(live);
    for (path, status) in [
        (
            "/api/workers/broken-clone/logs?tail=many",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/workers/broken-clone/logs?lines=5",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/workers/nobody/logs", StatusCode::NOT_FOUND),
    ] {
        let response = farm.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].as_str().is_some(), "{path}: {error}");
    }
}

#[tokio::test]
async fn limits_and_farm_boundaries_hold() {
    let farm = TestFarm::start_with(&["--max-workers", "1"]).await;
    let other = TestFarm::start().await;

    assert_eq!(farm.create("only").await.status(), StatusCode::CREATED);
    let response = farm.create("one too many").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "limit_reached");
    assert!(
        error["error"].as_str().unwrap().contains("MAX_WORKERS"),
        "{error}"
    );
    assert_eq!(farm.containers(), vec!["claude-worker-only".to_owned()]);

    // Another farm on the same engine sees nothing of this one and cannot touch it.
    let listed: Value = other.get_json("/api/workers").await;
    assert_eq!(listed, json!([]));
    let refused = [
        other.delete("/api/workers/only").await,
        other.post("/api/workers/only/restart", &json!(null)).await,
        other.get("/api/workers/only").await,
    ];
    for response in refused {
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{}",
            response.url()
        );
    }
    let terminal = open_terminal(&other.base, "only", &[]).await.unwrap_err();
    assert!(terminal.to_string().contains("404"), "{terminal}");
    assert_eq!(farm.containers(), vec!["claude-worker-only".to_owned()]);
}

/// Reads server-sent events until `count` of them named `workers` have arrived.
async fn read_events(stream: &mut reqwest::Response, seen: &mut String, count: usize) {
    while seen.matches("event: workers").count() < count {
        let chunk = tokio::time::timeout(PATIENCE, stream.chunk())
            .await
            .expect("no event arrived")
            .unwrap()
            .expect("the event stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn pages_hear_of_every_change_that_docker_reports() {
    let farm = TestFarm::start().await;
    let mut events = farm.get("/api/events").await;
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut seen = String::new();
    read_events(&mut events, &mut seen, 1).await;

    let response = farm.post("/api/workers", &json!({"name": "watched"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    read_events(&mut events, &mut seen, 2).await;

    // A change made behind the dashboard's back, straight through Docker, is heard too, and
    // the event itself says what changed: the page needs no list of its own.
    docker(&["kill", "claude-worker-watched"]);
    loop {
        let before = seen.matches("event: workers").count();
        read_events(&mut events, &mut seen, before + 1).await;
        let last = seen
            .rsplit("event: workers\n")
            .next()
            .and_then(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
            .unwrap_or_default();
        let workers: Vec<Value> = serde_json::from_str(last).unwrap_or_default();
        let watched = workers.iter().find(|w| w["id"] == "watched");
        if watched.is_some_and(|w| w["status"]["state"] == "exited") {
            break;
        }
    }
    let worker: Value = farm.get_json("/api/workers/watched").await;
    assert_eq!(worker["status"]["state"], "exited", "{worker}");
}

#[tokio::test]
async fn base_port_publishes_ttyd_on_loopback_only_and_reuses_freed_ports() {
    let base: u16 = 20_000 + (rand::random::<u16>() % 20_000);
    let farm = TestFarm::start_with(&["--base-port", &base.to_string()]).await;
    let first: Value = farm.create("first").await.json().await.unwrap();
    let second: Value = farm.create("second").await.json().await.unwrap();
    assert_eq!(first["direct_port"], base);
    assert_eq!(second["direct_port"], base + 1);
    assert_eq!(
        docker(&["port", "claude-worker-first", "7681/tcp"]).trim(),
        format!("127.0.0.1:{base}")
    );

    // ttyd answers there directly (once it is up), to whoever has the worker's credential
    // (in its container's environment, for those who may run `docker inspect`).
    let page = format!("http://127.0.0.1:{base}/");
    let env = docker(&[
        "inspect",
        "-f",
        "{{range .Config.Env}}{{println .}}{{end}}",
        "claude-worker-first",
    ]);
    let (user, password) = env
        .lines()
        .find_map(|line| line.strip_prefix("TTYD_CREDENTIAL="))
        .and_then(|credential| credential.split_once(':'))
        .unwrap();
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let answer = http
            .get(&page)
            .basic_auth(user, Some(password))
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => break,
            _ if std::time::Instant::now() > deadline => panic!("ttyd never answered on {page}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let anonymous = reqwest::get(&page).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    farm.delete("/api/workers/first").await;
    let third: Value = farm.create("third").await.json().await.unwrap();
    assert_eq!(third["direct_port"], base, "the freed port is used again");
}

#[tokio::test]
async fn two_viewers_share_one_session_and_both_can_type() {
    let farm = TestFarm::start().await;
    assert_eq!(farm.create("shared").await.status(), StatusCode::CREATED);
    let mut desk = open_terminal(&farm.base, "shared", &[]).await.unwrap();
    run_until(&mut desk, "echo desk-ready-$((1+1))\r", "desk-ready-2").await;
    let mut phone = open_terminal(&farm.base, "shared", &[]).await.unwrap();

    // What one types, the other sees: the same tmux session.
    let from_phone = token();
    run_until(
        &mut phone,
        &format!("echo ph-{from_phone}-$((2+2))\r"),
        &format!("ph-{from_phone}-4"),
    )
    .await;
    let seen = read_until(&mut desk, &format!("ph-{from_phone}-4")).await;
    assert!(seen.contains(&format!("ph-{from_phone}-4")));
    let from_desk = token();
    run_until(
        &mut desk,
        &format!("echo dk-{from_desk}-$((3+3))\r"),
        &format!("dk-{from_desk}-6"),
    )
    .await;
    read_until(&mut phone, &format!("dk-{from_desk}-6")).await;
}

#[tokio::test]
async fn an_idle_terminal_is_kept_alive_with_pings() {
    let farm = TestFarm::start().await;
    assert_eq!(farm.create("idle").await.status(), StatusCode::CREATED);
    let mut socket = open_terminal(&farm.base, "idle", &[]).await.unwrap();
    let ping = async {
        while let Some(message) = socket.next().await {
            if let Message::Ping(_) = message.expect("websocket error") {
                return;
            }
        }
        panic!("the terminal closed");
    };
    tokio::time::timeout(farm::proxy::KEEPALIVE + PATIENCE, ping)
        .await
        .expect("no ping arrived");
}
