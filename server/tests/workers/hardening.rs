//! A new worker as Docker runs it, read back with `docker inspect` and from inside the
//! container: unprivileged, without capabilities, limited, logged with rotation, without the
//! Docker socket, host folders or published ports, under an init process; and its terminal
//! closed to the other workers on its network.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::support::{docker, terminal_credential, TestFarm};
use crate::{open_terminal, run_until};

const MIB: u64 = 1024 * 1024;

fn inspect(name: &str) -> Value {
    let out = docker(&["inspect", name]);
    let all: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    all[0].clone()
}

fn exec(name: &str, script: &str) -> String {
    docker(&["exec", name, "sh", "-c", script])
}

#[tokio::test]
async fn a_new_worker_is_hardened_and_limited() {
    let farm = TestFarm::start().await;
    assert_eq!(farm.create("hard").await.status(), StatusCode::CREATED);
    let worker = inspect("claude-worker-hard");
    let host = &worker["HostConfig"];
    let config = &worker["Config"];

    // Unprivileged: a non-root user, every capability dropped, no way to gain privileges.
    assert_eq!(config["User"], "worker");
    assert_eq!(exec("claude-worker-hard", "id -u").trim(), "1000");
    assert_eq!(host["CapDrop"], json!(["ALL"]));
    assert!(host["CapAdd"].is_null(), "{}", host["CapAdd"]);
    assert_eq!(host["Privileged"], false);
    assert!(host["SecurityOpt"]
        .as_array()
        .unwrap()
        .contains(&json!("no-new-privileges")));
    let status = exec(
        "claude-worker-hard",
        "grep -E '^(NoNewPrivs|CapEff|CapBnd)' /proc/self/status",
    );
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    assert!(status.contains("CapEff:\t0000000000000000"), "{status}");
    assert!(status.contains("CapBnd:\t0000000000000000"), "{status}");

    // Limited: memory (without swap beyond it), CPU and processes, the farm's defaults.
    assert_eq!(host["Memory"], 2048 * MIB);
    assert_eq!(host["MemorySwap"], 2048 * MIB);
    assert_eq!(host["NanoCpus"], 2_000_000_000u64);
    assert_eq!(host["PidsLimit"], 1024);
    // Its log rotates.
    assert_eq!(host["LogConfig"]["Type"], "json-file");
    assert_eq!(host["LogConfig"]["Config"]["max-size"], "10m");
    assert_eq!(host["LogConfig"]["Config"]["max-file"], "3");

    // Nothing of the host: no Docker socket, no host folder, only the farm's volumes; no
    // published port; the workers' own network.
    for mount in worker["Mounts"].as_array().unwrap() {
        assert_eq!(mount["Type"], "volume", "{mount}");
        assert!(
            !mount["Source"].as_str().unwrap().contains("docker.sock"),
            "{mount}"
        );
    }
    assert_eq!(worker["Mounts"].as_array().unwrap().len(), 2);
    let bindings = &host["PortBindings"];
    assert!(
        bindings.is_null() || bindings.as_object().unwrap().is_empty(),
        "{bindings}"
    );
    assert_eq!(host["PublishAllPorts"], false);
    assert_eq!(host["NetworkMode"], format!("{}_workers", farm.instance));
    assert_eq!(
        worker["NetworkSettings"]["Ports"],
        json!({"7681/tcp": null})
    );

    // An init process (tini) is PID 1: it reaps the zombies that agents' tools leave.
    assert_eq!(config["Entrypoint"][0], "/usr/bin/tini");
    assert_eq!(
        exec("claude-worker-hard", "cat /proc/1/comm").trim(),
        "tini"
    );
}

#[tokio::test]
async fn a_worker_may_ask_for_its_own_limits_within_the_farms_caps() {
    let caps = ["--worker-memory-max-mb", "1024", "--worker-cpus-max", "1"];
    let defaults = ["--worker-memory-mb", "768", "--worker-cpus", "1"];
    let farm = TestFarm::start_with(&[caps, defaults].concat()).await;
    let asked = farm
        .post(
            "/api/workers",
            &json!({"name": "small", "memory_mb": 512, "cpus": 0.5}),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let body: Value = asked.json().await.unwrap();
    assert_eq!(body["limits"], json!({"memory_mb": 512, "cpus": 0.5}));
    let host = &inspect("claude-worker-small")["HostConfig"];
    assert_eq!(host["Memory"], 512 * MIB);
    assert_eq!(host["NanoCpus"], 500_000_000u64);
    // The list shows them too (they live in the container's labels).
    let listed = farm.get_json("/api/workers").await;
    assert_eq!(listed[0]["limits"], json!({"memory_mb": 512, "cpus": 0.5}));

    // Beyond the caps, or not numbers: refused with what to change, and nothing created.
    for (request, expected) in [
        (
            json!({"name": "big", "memory_mb": 4096, "cpus": 0.5}),
            "WORKER_MEMORY_MAX_MB",
        ),
        (json!({"name": "big", "cpus": 2}), "WORKER_CPUS_MAX"),
        (
            json!({"name": "big", "memory_mb": 16}),
            "memory_mb must be between 256",
        ),
        (json!({"name": "big", "memory_mb": "lots"}), "memory_mb"),
        (json!({"name": "big", "cpus": -1}), "cpus must be between"),
    ] {
        let refused = farm.post("/api/workers", &request).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{request}");
        let error: Value = refused.json().await.unwrap();
        assert!(
            error["error"].as_str().unwrap().contains(expected),
            "{request}: {error}"
        );
    }
    assert_eq!(farm.containers(), vec!["claude-worker-small".to_owned()]);
}

#[tokio::test]
async fn workers_cannot_open_each_others_terminals() {
    let farm = TestFarm::start().await;
    for name in ["alpha", "beta"] {
        assert_eq!(farm.create(name).await.status(), StatusCode::CREATED);
    }
    // Through the dashboard's proxy the terminal opens (the proxy adds the credential), and
    // the shell does not hold the credential.
    let mut terminal = open_terminal(&farm.base, "beta", &[]).await.unwrap();
    run_until(
        &mut terminal,
        "echo held=$(env | grep -c TTYD_CREDENTIAL)\r",
        "held=0",
    )
    .await;
    // From another worker on the same network, beta's ttyd asks for a password it lacks.
    let probe = "exec 3<>/dev/tcp/claude-worker-beta/7681 \
                 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3";
    let answer = docker(&["exec", "claude-worker-alpha", "bash", "-c", probe]);
    assert!(answer.contains("401"), "{answer}");
    // Its websocket too; with the credential (which only the dashboard reads, from Docker)
    // the same request opens.
    let ip = docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        "claude-worker-beta",
    ]);
    let credential = terminal_credential("claude-worker-beta");
    let upgrade = |basic: Option<String>| {
        let mut request = format!("ws://{}:7681/ws", ip.trim())
            .into_client_request()
            .unwrap();
        let headers = request.headers_mut();
        headers.insert("sec-websocket-protocol", HeaderValue::from_static("tty"));
        if let Some(basic) = basic {
            headers.insert("authorization", HeaderValue::from_str(&basic).unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    assert!(
        upgrade(None).await.is_err(),
        "ttyd opened without the credential"
    );
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credential)
    );
    assert!(upgrade(Some(basic)).await.is_ok());
}
