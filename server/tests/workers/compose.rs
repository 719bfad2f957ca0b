//! docker-compose.yml: its structure as Compose reads it, and the stack brought up for real.
//! The images are local stand-ins because no registry is reachable here: the dashboard image
//! holds the release build (the same files the Dockerfile's last stage copies), and the Redis
//! image is Debian's redis-server on the local base image.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::{json, Value};

use crate::support::{docker, free_port, token, InstanceCleanup, PATIENCE};
use crate::{open_terminal, run_until};

const REDIS_IMAGE: &str = "claude-farm-redis:test";
const DASHBOARD_IMAGE: &str = "claude-worker-farm:test";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `docker compose` on the repository's file with `env`; the caller checks the outcome.
fn compose(env: &[(&str, String)], args: &[&str]) -> Output {
    let mut command = Command::new("docker");
    command
        .current_dir(repo_root())
        .args(["compose", "--file", "docker-compose.yml"])
        .args(args)
        // Nothing from a developer's .env or shell may leak into what is checked.
        .env_remove("FARM_INSTANCE")
        .env_remove("REDIS_PASSWORD")
        .env_remove("NGINX_HOST")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("FARM_PASSWORD")
        .env_remove("FARM_PASSWORD_HASH");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .expect("docker compose must be installed (scripts/install-compose.sh)")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_compose_file_gives_the_socket_to_the_dashboard_only() {
    let refused = compose(&[], &["config"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("set REDIS_PASSWORD in .env"),
        "{}",
        text(&refused)
    );

    let env = [
        ("REDIS_PASSWORD", "pw-compose".to_owned()),
        ("FARM_INSTANCE", "farm-x".to_owned()),
    ];
    let output = compose(&env, &["config", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let config: Value = serde_json::from_slice(&output.stdout).unwrap();
    let dashboard = &config["services"]["dashboard"];
    let redis = &config["services"]["redis"];

    let mounts = |service: &Value| -> Vec<String> {
        service["volumes"]
            .as_array()
            .map(|v| v.iter().map(|m| m["source"].to_string()).collect())
            .unwrap_or_default()
    };
    assert!(mounts(dashboard)
        .iter()
        .any(|m| m.contains("/var/run/docker.sock")));
    assert!(!mounts(redis).iter().any(|m| m.contains("docker.sock")));
    assert!(mounts(redis).iter().any(|m| m.contains("redis-data")));
    assert!(redis.get("ports").is_none(), "Redis must not be published");
    assert_eq!(dashboard["ports"][0]["host_ip"], "127.0.0.1");
    assert_eq!(dashboard["ports"][0]["published"], "8080");

    assert_eq!(
        dashboard["environment"]["REDIS_URL"],
        "redis://:pw-compose@redis:6379/0"
    );
    assert_eq!(dashboard["environment"]["FARM_INSTANCE"], "farm-x");
    // Reachable beyond its container, the dashboard needs a password: the file passes it on.
    assert!(dashboard["environment"].get("FARM_PASSWORD_HASH").is_some());
    assert!(redis["command"].to_string().contains("--requirepass"));
    assert!(!redis["command"].to_string().contains("pw-compose"));

    assert!(dashboard["networks"].get("workers").is_some());
    assert!(redis["networks"].get("workers").is_none());
    assert_eq!(config["networks"]["workers"]["name"], "farm-x_workers");
}

/// Builds `tag` from a Dockerfile given as text, with `context` as its build context.
fn build_image(tag: &str, dockerfile: &str, context: &Path) {
    std::fs::write(context.join("Dockerfile"), dockerfile).unwrap();
    let output = Command::new("docker")
        .args(["build", "--quiet", "--tag", tag])
        .arg(context)
        .output()
        .unwrap();
    assert!(output.status.success(), "building {tag}: {}", text(&output));
}

fn base_image() -> String {
    std::env::var("FARM_BASE_IMAGE").unwrap_or_else(|_| "claude-farm-base:sid".into())
}

/// Debian's redis-server on the base image; built once per machine.
fn redis_image() {
    if docker(&["image", "inspect", "--format", "ok", REDIS_IMAGE]).trim() == "ok" {
        return;
    }
    let context = std::env::temp_dir().join(format!("cwf-redis-{}", token()));
    std::fs::create_dir_all(&context).unwrap();
    build_image(
        REDIS_IMAGE,
        &format!(
            "FROM {}\nRUN apt-get -o Acquire::Check-Valid-Until=false update \
             && apt-get install -y --no-install-recommends redis-server \
             && rm -rf /var/lib/apt/lists/*\n",
            base_image()
        ),
        &context,
    );
    std::fs::remove_dir_all(context).ok();
}

/// The release build (scripts/build.sh) in the Dockerfile's last stage's layout.
fn dashboard_image() {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    let binary = target.join("release/claude-worker-farm");
    let site = repo_root().join("target/site");
    assert!(
        binary.exists() && site.join("pkg").exists(),
        "the compose test runs the release build: run scripts/build.sh first"
    );
    let context = std::env::temp_dir().join(format!("cwf-dashboard-{}", token()));
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(&binary, context.join("claude-worker-farm")).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(&site)
        .arg(context.join("site"))
        .status()
        .unwrap();
    assert!(copied.success());
    build_image(
        DASHBOARD_IMAGE,
        &format!(
            "FROM {}\nCOPY claude-worker-farm /usr/local/bin/claude-worker-farm\n\
             COPY site /srv/site\nENV LEPTOS_SITE_ROOT=/srv/site FARM_BIND=0.0.0.0:8080\n\
             ENTRYPOINT [\"/usr/local/bin/claude-worker-farm\"]\n",
            base_image()
        ),
        &context,
    );
    std::fs::remove_dir_all(context).ok();
}

/// Takes the stack down (with its volumes) however the test ends.
struct StackDown(Vec<(&'static str, String)>);

impl Drop for StackDown {
    fn drop(&mut self) {
        let env: Vec<(&str, String)> = self.0.clone();
        compose(&env, &["down", "--volumes", "--timeout", "2"]);
    }
}

/// Logs in as soon as the dashboard answers; returns the bearer token.
async fn wait_for_login(base: &str, password: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let response = reqwest::Client::new()
            .post(format!("http://{base}/api/login"))
            .json(&json!({ "password": password }))
            .send()
            .await;
        if let Ok(response) = response.and_then(|r| r.error_for_status()) {
            let body: Value = response.json().await.unwrap();
            return body["token"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "the dashboard did not answer");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn wait_for_workers(base: &str, token: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let response = reqwest::Client::new()
            .get(format!("http://{base}/api/workers"))
            .bearer_auth(token)
            .send()
            .await;
        if let Ok(response) = response.and_then(|r| r.error_for_status()) {
            return response.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "the dashboard did not answer");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_compose_stack_runs_workers_through_redis() {
    redis_image();
    dashboard_image();
    let instance = format!("cwf-test-compose-{}", token());
    let port = free_port();
    let password = format!("pw{}", token());
    let login = format!("farm-pw-{}", token());
    let image = std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into());
    let env = vec![
        ("FARM_PASSWORD", login.clone()),
        ("FARM_INSTANCE", instance.clone()),
        ("FARM_PORT", port.to_string()),
        ("REDIS_PASSWORD", password.clone()),
        ("DASHBOARD_IMAGE", DASHBOARD_IMAGE.to_owned()),
        ("REDIS_IMAGE", REDIS_IMAGE.to_owned()),
        ("WORKER_IMAGE", image),
    ];
    // Dropped in reverse: the workers go first, then the stack and its network.
    let _stack = StackDown(env.clone());
    let _workers = InstanceCleanup(instance.clone());
    let up = compose(&env, &["up", "--detach", "--no-build"]);
    assert!(up.status.success(), "{}", text(&up));

    let base = format!("127.0.0.1:{port}");
    // The dashboard listens on every address of its container: it asks for the password.
    let bearer = wait_for_login(&base, &login).await;
    assert_eq!(wait_for_workers(&base, &bearer).await, json!([]));
    let response = reqwest::Client::new()
        .post(format!("http://{base}/api/workers"))
        .bearer_auth(&bearer)
        .json(&json!({"name": "Composed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    // The dashboard's proxy reaches the worker over the workers' network, from its container.
    let authorization = format!("Bearer {bearer}");
    let mut socket = open_terminal(&base, "composed", &[("authorization", &authorization)])
        .await
        .unwrap();
    run_until(&mut socket, "echo in-$((6*7))\r", "in-42").await;
    // The page is served from the image too.
    let page = reqwest::Client::new()
        .get(format!("http://{base}/"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Composed"), "{page}");

    // Redis holds the worker's record, behind its password.
    let redis = format!("{instance}-redis-1");
    let key = format!("claude-worker-farm:{instance}:workers");
    let members = docker(&[
        "exec",
        &redis,
        "redis-cli",
        "--no-auth-warning",
        "-a",
        &password,
        "SMEMBERS",
        &key,
    ]);
    assert_eq!(members.trim(), "composed");
    let anonymous = docker(&["exec", &redis, "redis-cli", "SMEMBERS", &key]);
    assert!(anonymous.contains("NOAUTH"), "{anonymous}");

    // A restarted dashboard container finds the worker and its session as they were, and
    // the login too (the session is in Redis).
    let restarted = compose(&env, &["restart", "dashboard"]);
    assert!(restarted.status.success(), "{}", text(&restarted));
    let workers = wait_for_workers(&base, &bearer).await;
    assert_eq!(workers[0]["id"], "composed");
    assert_eq!(workers[0]["status"]["state"], "running");
}
