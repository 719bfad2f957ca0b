//! The real `claude-worker-farm` binary: its settings (flags, `.env`), and that it is only a
//! window onto Docker: killing it and starting it again leaves every worker, its status and
//! its tmux session as they were.

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use farm::store::{Setup, Store};
use serde_json::{json, Value};

use crate::client::wait_for_dashboard;
use crate::redis::RedisServer;
use crate::support::{free_port, token, InstanceCleanup, PATIENCE};
use crate::{open_terminal, run_until};

/// The real `claude-worker-farm` binary on a free port.
pub struct Dashboard {
    child: Child,
    pub base: String,
}

impl Dashboard {
    pub async fn start(instance: &str, settings: &[&str]) -> Dashboard {
        Dashboard::start_logging(instance, settings, Stdio::inherit()).await
    }

    /// Like `start`, with the dashboard's log (standard error) going to `log`.
    async fn start_logging(instance: &str, settings: &[&str], log: Stdio) -> Dashboard {
        let port = free_port();
        let image = std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into());
        let mut command = Command::new(env!("CARGO_BIN_EXE_claude-worker-farm"));
        command
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--instance",
                instance,
            ])
            .args(["--worker-image", &image])
            .args(settings);
        command.stderr(log);
        Dashboard::run(command, port).await
    }

    /// Starts `command` and waits until the dashboard answers on `port`.
    pub async fn run(mut command: Command, port: u16) -> Dashboard {
        let child = command.stdout(Stdio::null()).spawn().unwrap();
        let base = format!("127.0.0.1:{port}");
        wait_for_dashboard(&base, PATIENCE).await;
        Dashboard { child, base }
    }

    /// The dashboard's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn workers(&self) -> Value {
        reqwest::get(format!("http://{}/api/workers", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Types `command` into the worker's terminal until `needle` shows up on screen.
async fn type_until(base: &str, id: &str, command: &str, needle: &str) -> String {
    let mut socket = open_terminal(base, id, &[]).await.unwrap();
    run_until(&mut socket, command, needle).await
}

/// Kills the dashboard under a working session and a failed clone, starts it again with the
/// same `settings`, and expects everything as it was. Container names are the engine's, so
/// the workers' names carry `tag`.
/// How many agent watchers run in the container, polled until `wanted` says yes.
async fn wait_for_watchers(container: &str, wanted: impl Fn(usize) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let listed = crate::support::docker(&[
            "exec",
            container,
            "sh",
            "-c",
            "cat /proc/[0-9]*/cmdline | tr '\\0' ' ' ; true",
        ]);
        let count = listed.matches("bin/claude-worker-agent-watch").count();
        if wanted(count) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{count} agent watcher(s) in {container}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn without_agents(mut workers: Value) -> Value {
    for worker in workers.as_array_mut().unwrap() {
        worker.as_object_mut().unwrap().remove("agent");
    }
    workers
}

async fn survives_being_killed(tag: &str, settings: &[&str]) {
    let instance = format!("cwf-test-restart-{}", token());
    let cleanup = InstanceCleanup(instance.clone());
    let broken = format!("Broken {tag}");
    let first = Dashboard::start(&instance, settings).await;
    let client = reqwest::Client::new();
    for body in [
        json!({"name": format!("Survivor {tag}")}),
        json!({"name": broken, "git_repo": "https://127.0.0.1:1/nothing.git"}),
    ] {
        let response = client
            .post(format!("http://{}/api/workers", first.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }
    let survivor = format!("survivor-{tag}");
    // A shell variable lives only in the running tmux session.
    let mark = token();
    type_until(
        &first.base,
        &survivor,
        &format!("MARK={mark}; echo set-$((3*3))\r"),
        "set-9",
    )
    .await;
    let deadline = Instant::now() + PATIENCE;
    let before = loop {
        let workers = first.workers().await;
        let broken = workers
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == broken);
        if broken.is_some_and(|w| w["status"]["state"] == "failed") {
            break workers;
        }
        assert!(
            Instant::now() < deadline,
            "the clone never failed: {workers}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // The first dashboard watched the survivor's agent (a process inside the worker).
    let container = format!("claude-worker-{survivor}");
    wait_for_watchers(&container, |n| n > 0).await;
    first.kill();
    // Its watcher does not outlive it.
    wait_for_watchers(&container, |n| n == 0).await;

    let second = Dashboard::start(&instance, settings).await;
    // Everything as it was, but the agents' status, which the new dashboard learns anew.
    assert_eq!(
        without_agents(second.workers().await),
        without_agents(before)
    );
    let screen = type_until(
        &second.base,
        &survivor,
        "echo mark-$MARK\r",
        &format!("mark-{mark}"),
    )
    .await;
    assert!(screen.contains(&format!("mark-{mark}")));
    drop(second);
    drop(cleanup);
}

#[tokio::test]
async fn killing_the_dashboard_leaves_workers_and_sessions_untouched() {
    survives_being_killed("embedded", &[]).await;
}

#[tokio::test]
async fn killing_the_dashboard_with_redis_leaves_workers_and_sessions_untouched() {
    let redis = RedisServer::start().await;
    survives_being_killed("redis", &["--redis-url", &redis.url()]).await;
}

#[tokio::test]
async fn starting_reconciles_the_store_with_docker_and_says_so() {
    let redis = RedisServer::start().await;
    let instance = format!("cwf-test-reconcile-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    // A worker the Redis store never heard of: made while the farm ran without Redis.
    let first = Dashboard::start(&instance, &[]).await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/workers", first.base))
        .json(&json!({"name": "Adoptee"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    first.kill();
    // And a record whose container is gone.
    let store = Store::open(Some(&redis.url()), &instance).await.unwrap();
    store.set_setup("ghost", &Setup::Ready).await.unwrap();

    let log_path = std::env::temp_dir().join(format!("{instance}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let second =
        Dashboard::start_logging(&instance, &["--redis-url", &redis.url()], log.into()).await;
    let records = store.records().await.unwrap();
    assert_eq!(records.keys().collect::<Vec<_>>(), vec!["adoptee"]);
    assert_eq!(records["adoptee"].setup, Some(Setup::Ready));
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("forgot 1 worker(s) whose containers are gone: ghost"),
        "{log}"
    );
    assert!(
        log.contains("adopted 1 worker(s) the store did not know: adoptee"),
        "{log}"
    );
    assert!(
        log.contains("found 1 existing worker(s), 1 running"),
        "{log}"
    );
    assert!(
        !log.contains(&redis.password),
        "the log shows the Redis password"
    );
    drop(second);
    std::fs::remove_file(log_path).ok();
}

#[tokio::test]
async fn settings_come_from_a_dot_env_file() {
    let instance = format!("cwf-test-dotenv-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    let port = free_port();
    let dir = std::env::temp_dir().join(&instance);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env"),
        format!("FARM_BIND=127.0.0.1:{port}\nFARM_INSTANCE={instance}\nMAX_WORKERS=0\n"),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_claude-worker-farm"));
    command
        .current_dir(&dir)
        .env_remove("FARM_BIND")
        .env_remove("FARM_INSTANCE")
        .env_remove("MAX_WORKERS");
    let dashboard = Dashboard::run(command, port).await;
    // MAX_WORKERS=0 from the file: every create is refused.
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/workers", dashboard.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CONFLICT);
    drop(dashboard);
    std::fs::remove_dir_all(dir).ok();
}
