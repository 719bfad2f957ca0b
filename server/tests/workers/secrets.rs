//! The API key, the subscription token, a worker's own secrets and git token, the login
//! password and each worker's terminal credential reach where they must (the worker; git's
//! credential helper; the password check; the worker's ttyd) and nowhere else: not the API
//! (list, one worker, events, presets), the pages, the WASM, the dashboard's log at its most
//! verbose, the workers' own logs (`docker logs` and the logs endpoint), the containers'
//! labels, the store or the repository's remote; neither as they are nor in base64.

use std::process::{Command, Stdio};

use app::dashboard::ListWorkers;
use app::presets_view::ListPresets;
use base64::Engine;
use leptos::server_fn::ServerFn;

use serde_json::{json, Value};

use crate::dashboard_process::Dashboard;
use crate::private_repo::{private_repository, PrivateGitServer, TOKEN_USER};
use crate::redis::RedisServer;
use crate::support::{docker, free_port, terminal_credential, token, InstanceCleanup};

/// Every key in the Redis and what it holds, as text.
fn redis_contents(redis: &RedisServer) -> String {
    let mut all = String::new();
    for key in redis.cli(&["--scan"]).lines() {
        let value = match redis.cli(&["TYPE", key]).trim() {
            "hash" => redis.cli(&["HGETALL", key]),
            "set" => redis.cli(&["SMEMBERS", key]),
            "string" => redis.cli(&["GET", key]),
            other => panic!("a {other} in the store: read it here too"),
        };
        all.push_str(&format!("{key}\n{value}\n"));
    }
    all
}

#[tokio::test]
async fn secrets_reach_the_worker_and_nothing_else() {
    // cargo-leptos writes the site into the repository's target/site.
    let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");
    let wasm = std::fs::read_dir(format!("{site}/pkg"))
        .expect("the secrets test reads the built site: run scripts/build.sh first")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "wasm" || e == "js"))
        .collect::<Vec<_>>();
    assert!(!wasm.is_empty(), "no WASM or JS in {site}/pkg");

    let api_key = format!("sk-ant-secret-{}", token());
    let oauth_token = format!("sk-ant-oat01-secret-{}", token());
    let gh_token = format!("ghp_secret{}", token());
    let git_token = format!("git-secret-{}", token());
    let password = format!("login-secret-{}", token());
    let repository = private_repository("private");
    let git_server = PrivateGitServer::start(repository.clone(), &git_token).await;
    let redis = RedisServer::start().await;
    let instance = format!("cwf-test-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    let log_path = std::env::temp_dir().join(format!("cwf-secrets-{}.log", token()));
    let port = free_port();
    let image = std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into());
    let mut command = Command::new(env!("CARGO_BIN_EXE_claude-worker-farm"));
    command
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--instance",
            &instance,
        ])
        .args(["--worker-image", &image, "--redis-url", &redis.url()])
        .args(["--state-dir", &crate::support::state_dir()])
        .env("LEPTOS_SITE_ROOT", site)
        .env("ANTHROPIC_API_KEY", &api_key)
        .env("CLAUDE_CODE_OAUTH_TOKEN", &oauth_token)
        .env("FARM_PASSWORD", &password)
        // The most verbose log there is, from every crate (Docker client, HTTP, Redis).
        .env("RUST_LOG", "trace")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()));
    let dashboard = Dashboard::run(command, port).await;
    let base = format!("http://{}", dashboard.base);
    let http = reqwest::Client::new();

    // Use everything once: log in (a wrong password too), create, list, read, open pages.
    let mut seen = String::new();
    let wrong = http
        .post(format!("{base}/api/login"))
        .json(&json!({ "password": format!("{password}-not") }))
        .send()
        .await
        .unwrap();
    seen.push_str(&wrong.text().await.unwrap());
    let login: Value = http
        .post(format!("{base}/api/login"))
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = login["token"].as_str().unwrap().to_owned();
    // A preset too: the store holds it beside the workers.
    let preset = http
        .put(format!("{base}/api/presets/sec-private"))
        .bearer_auth(&bearer)
        .json(&json!({ "env": { "RUST_LOG": "debug" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(preset.status(), reqwest::StatusCode::OK);
    let created = http
        .post(format!("{base}/api/workers"))
        .bearer_auth(&bearer)
        .json(&json!({
            "name": "sec-keyed",
            "preset": "sec-private",
            "git_repo": git_server.url(&instance),
            "git_token": git_token,
            "secrets": { "GH_TOKEN": gh_token },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    seen.push_str(&created.text().await.unwrap());
    for path in [
        "/api/workers",
        "/api/workers/sec-keyed",
        "/api/workers/sec-keyed/logs",
        "/api/presets",
        "/api/presets/sec-private",
        "/",
        "/workers/sec-keyed",
        "/login",
    ] {
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        seen.push_str(&response.text().await.unwrap());
    }
    // The server functions the pages call (their paths carry a hash).
    for path in [ListWorkers::PATH, ListPresets::PATH] {
        let rpc = http
            .post(format!("{base}{path}"))
            .bearer_auth(&bearer)
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap();
        assert!(rpc.status().is_success(), "{path}: {}", rpc.status());
        seen.push_str(&rpc.text().await.unwrap());
    }
    // The event stream, for its first seconds (it never ends by itself).
    let mut events = http
        .get(format!("{base}/api/events"))
        .bearer_auth(&bearer)
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await
        .unwrap();
    while let Ok(Some(chunk)) = events.chunk().await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("sec-keyed") && seen.contains("GH_TOKEN"),
        "the requests did not reach the worker: {seen}"
    );

    // The keys and tokens reach the worker, where Claude Code, git and the user read them.
    for (variable, value) in [
        ("ANTHROPIC_API_KEY", &api_key),
        ("CLAUDE_CODE_OAUTH_TOKEN", &oauth_token),
        ("GH_TOKEN", &gh_token),
        ("FARM_GIT_TOKEN", &git_token),
    ] {
        let inside = docker(&["exec", "claude-worker-sec-keyed", "printenv", variable]);
        assert_eq!(inside.trim(), value.as_str(), "{variable}");
    }

    // The credential the dashboard gave this worker's ttyd, as given and as ttyd would
    // print it (base64 of `user:password`).
    let credential = terminal_credential("claude-worker-sec-keyed");
    let password_part = credential.split_once(':').unwrap().1.to_owned();
    let credential_b64 = base64::engine::general_purpose::STANDARD.encode(&credential);
    let git_basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_USER}:{git_token}"));
    // The worker's own log, once its terminal is up, from Docker and from the dashboard
    // (plain and followed).
    let mut worker_logs = String::new();
    for _ in 0..100 {
        worker_logs = docker(&["logs", "claude-worker-sec-keyed"]);
        if worker_logs.contains("terminal ready") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(worker_logs.contains("terminal ready"), "{worker_logs}");
    // ttyd writes after the entrypoint's last line: give it the time to.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut worker_logs = docker(&["logs", "claude-worker-sec-keyed"]);
    for path in [
        "/api/workers/sec-keyed/logs?tail=10000",
        "/api/workers/sec-keyed/logs?follow=true",
    ] {
        let request = http
            .get(format!("{base}{path}"))
            .bearer_auth(&bearer)
            .timeout(std::time::Duration::from_secs(3));
        let mut response = request.send().await.unwrap();
        // A followed log never ends by itself: take what comes in its first seconds.
        while let Ok(Some(chunk)) = response.chunk().await {
            worker_logs.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(worker_logs.contains("terminal ready"), "{worker_logs}");
    // The repository was cloned with the token, and its remote is the plain URL.
    let remotes = docker(&[
        "exec",
        "claude-worker-sec-keyed",
        "git",
        "-C",
        "/shared/repos/sec-keyed",
        "remote",
        "-v",
    ]);
    assert!(remotes.contains("/repo.git (fetch)"), "{remotes}");
    let git_paths = git_server.paths.lock().unwrap().join("\n");
    std::fs::remove_dir_all(&repository).ok();

    let labels = docker(&[
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        "claude-worker-sec-keyed",
    ]);
    let store = redis_contents(&redis);
    assert!(
        store.contains("sec-keyed") && store.contains("sec-private"),
        "the store holds the worker and the preset: {store}"
    );
    drop(dashboard);
    let log = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).ok();
    assert!(log.contains("TRACE"), "the log was not at trace level");

    let mut places = vec![
        ("answers and pages", seen),
        ("labels", labels),
        ("store", store),
        ("log", log),
        ("worker's log", worker_logs),
        ("remote", remotes),
        ("git server's request paths", git_paths),
    ];
    for path in &wasm {
        let bytes = std::fs::read(path).unwrap();
        places.push(("site", String::from_utf8_lossy(&bytes).into_owned()));
    }
    for (place, text) in &places {
        for (what, secret) in [
            ("API key", &api_key),
            ("subscription token", &oauth_token),
            ("worker's secret", &gh_token),
            ("git token", &git_token),
            ("git token as git sends it (base64)", &git_basic),
            ("password", &password),
            ("session token", &bearer),
            ("terminal credential", &password_part),
            ("terminal credential (base64)", &credential_b64),
        ]
        .into_iter()
        .flat_map(|(what, secret)| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
            [
                (what.to_owned(), secret.clone()),
                (format!("{what} in base64"), encoded),
            ]
        }) {
            // The token is the user's to hold: it may be in the login answer, nowhere else.
            if what == "session token" && *place == "answers and pages" {
                continue;
            }
            let line = text.lines().find(|line| line.contains(secret.as_str()));
            assert!(
                line.is_none(),
                "the {what} is in the {place}: {}",
                line.unwrap_or_default()
                    .replace(secret.as_str(), "<secret>")
            );
        }
    }
}
