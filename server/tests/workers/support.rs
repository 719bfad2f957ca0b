//! A real farm for tests: the real server on port 0, a real Docker engine, a fresh instance
//! name so that each test owns its network, volumes and containers, and removes them after.

use std::process::Command;
use std::time::Duration;

use clap::Parser;
use farm::auth::Auth;
use farm::config::Config;
use farm::{labels, WorkerService};
use rand::Rng;
use reqwest::Response;
use serde_json::Value;
use tokio::net::TcpListener;

/// Upper bound for anything a test waits for; generous because CI machines are slow. It only
/// turns a hang into a failure, it measures nothing.
pub const PATIENCE: Duration = Duration::from_secs(90);

pub struct TestFarm {
    pub base: String,
    pub instance: String,
    /// The API key this farm hands to its workers; it must never come back out.
    pub api_key: String,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl TestFarm {
    pub async fn start() -> TestFarm {
        TestFarm::start_with(&[]).await
    }

    /// A farm with extra command-line settings, e.g. `["--max-workers", "1"]`.
    pub async fn start_with(settings: &[&str]) -> TestFarm {
        let instance = format!("cwf-test-{:08x}", rand::rng().random::<u32>());
        TestFarm::start_as(&instance, settings).await
    }

    /// A farm of a given instance: a second dashboard of the same farm, or its restart.
    pub async fn start_as(instance: &str, settings: &[&str]) -> TestFarm {
        let instance = instance.to_owned();
        // A test may ask for its own image (the one with the Claude Code CLI).
        let image = match settings.iter().position(|s| *s == "--worker-image") {
            Some(at) => settings[at + 1].to_owned(),
            None => std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into()),
        };
        let settings: Vec<&str> = match settings.iter().position(|s| *s == "--worker-image") {
            Some(at) => [&settings[..at], &settings[at + 2..]].concat(),
            None => settings.to_vec(),
        };
        // A test may sign in another way (or give its own key).
        let api_key = match settings.iter().position(|s| *s == "--anthropic-api-key") {
            Some(at) => settings[at + 1].to_owned(),
            None => format!("sk-ant-test-{}", token()),
        };
        let settings: Vec<&str> = match settings.iter().position(|s| *s == "--anthropic-api-key") {
            Some(at) => [&settings[..at], &settings[at + 2..]].concat(),
            None => settings,
        };
        let state = state_dir();
        let config = Config::parse_from(
            [
                "farm",
                "--instance",
                &instance,
                "--worker-image",
                &image,
                "--anthropic-api-key",
                &api_key,
                "--state-dir",
                &state,
            ]
            .into_iter()
            .chain(settings.iter().copied()),
        );
        let service = WorkerService::start(config)
            .await
            .expect("these tests need a running Docker engine (scripts/setup.sh starts one)");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("127.0.0.1:{}", addr.port());
        let auth = Auth::from_config(service.config(), addr, service.store()).unwrap();
        let tls = server::tls::from_config(service.config()).unwrap();
        let server = tokio::spawn(async move {
            server::serve(listener, tls, service, auth, std::future::pending())
                .await
                .unwrap();
        });
        TestFarm {
            base,
            instance,
            api_key,
            http: reqwest::Client::new(),
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/workers` with just a name.
    pub async fn create(&self, name: &str) -> Response {
        self.post("/api/workers", &serde_json::json!({ "name": name }))
            .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.http.delete(self.url(path)).send().await.unwrap()
    }

    /// Names of the Docker containers that carry this farm's label, running or not.
    pub fn containers(&self) -> Vec<String> {
        docker(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "--filter",
            &self.label(),
        ])
        .lines()
        .map(str::to_owned)
        .collect()
    }

    fn label(&self) -> String {
        format!("label={}", labels::instance_filter(&self.instance))
    }
}

impl Drop for TestFarm {
    fn drop(&mut self) {
        self.server.abort();
        remove_instance(&self.instance);
    }
}

/// Removes an instance's containers, network and volumes when dropped.
pub struct InstanceCleanup(pub String);

impl Drop for InstanceCleanup {
    fn drop(&mut self) {
        remove_instance(&self.0);
    }
}

/// `GET url` as JSON, from a dashboard without a password.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Where test farms keep their login sessions: never the user's own state folder. Files
/// stay after a test (a restarted farm reads them); the folder is the system's temporary one.
pub fn state_dir() -> String {
    std::env::temp_dir()
        .join("cwf-test-state")
        .to_string_lossy()
        .into_owned()
}

fn remove_instance(instance: &str) {
    let filter = format!("label={}", labels::instance_filter(instance));
    let ids = docker(&["ps", "-aq", "--filter", &filter]);
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids);
        docker(&args);
    }
    docker(&["network", "rm", &format!("{instance}_workers")]);
    docker(&[
        "volume",
        "rm",
        &format!("{instance}_shared-repos"),
        &format!("{instance}_shared-state"),
    ]);
}

/// Runs the docker CLI and returns what it printed, standard output then standard error
/// (`docker logs` replays a container's stderr on its own stderr).
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI must be installed");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// The `user:password` the dashboard gave a worker's ttyd (from its environment, as only
/// Docker's own users can read it).
pub fn terminal_credential(container: &str) -> String {
    let env = docker(&[
        "inspect",
        "-f",
        "{{range .Config.Env}}{{println .}}{{end}}",
        container,
    ]);
    env.lines()
        .find_map(|line| line.strip_prefix("TTYD_CREDENTIAL="))
        .expect("every worker gets a terminal credential")
        .to_owned()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A unique token for a test to look for in terminal output.
pub fn token() -> String {
    format!("{:010x}", rand::rng().random::<u64>() >> 24)
}
