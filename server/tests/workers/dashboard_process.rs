//! The real `claude-worker-farm` binary: its settings (flags, `.env`), and that it is only a
//! window onto Docker: killing it and starting it again leaves every worker, its status and
//! its tmux session as they were.

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

use crate::support::{token, InstanceCleanup, PATIENCE};
use crate::{open_terminal, run_until};

/// The real `claude-worker-farm` binary on a free port.
struct Dashboard {
    child: Child,
    base: String,
}

impl Dashboard {
    async fn start(instance: &str) -> Dashboard {
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
            .args(["--worker-image", &image]);
        Dashboard::run(command, port).await
    }

    /// Starts `command` and waits until the dashboard answers on `port`.
    async fn run(mut command: Command, port: u16) -> Dashboard {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let base = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        while reqwest::get(format!("http://{base}/api/workers"))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the dashboard did not start");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Dashboard { child, base }
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

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Types `command` into the worker's terminal until `needle` shows up on screen.
async fn type_until(base: &str, id: &str, command: &str, needle: &str) -> String {
    let mut socket = open_terminal(base, id, None).await.unwrap();
    run_until(&mut socket, command, needle).await
}

#[tokio::test]
async fn killing_the_dashboard_leaves_workers_and_sessions_untouched() {
    let instance = format!("cwf-test-restart-{}", token());
    let cleanup = InstanceCleanup(instance.clone());
    let first = Dashboard::start(&instance).await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/workers", first.base))
        .json(&json!({"name": "Survivor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    // A shell variable lives only in the running tmux session.
    let mark = token();
    type_until(
        &first.base,
        "survivor",
        &format!("MARK={mark}; echo set-$((3*3))\r"),
        "set-9",
    )
    .await;
    let before = first.workers().await;
    first.kill();

    let second = Dashboard::start(&instance).await;
    assert_eq!(second.workers().await, before);
    let screen = type_until(
        &second.base,
        "survivor",
        "echo mark-$MARK\r",
        &format!("mark-{mark}"),
    )
    .await;
    assert!(screen.contains(&format!("mark-{mark}")));
    drop(second);
    drop(cleanup);
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
