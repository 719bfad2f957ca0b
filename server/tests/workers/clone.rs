//! A repository cloned for real: a git server on this machine (git's "dumb" HTTP protocol,
//! static files served by a few lines of axum) that the worker reaches over its network.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use reqwest::StatusCode as HttpStatus;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::support::{docker, token, TestFarm};
use crate::{open_terminal, run_until, wait_for_state};

/// Serves the files of `root` over HTTP, but only after `gate` lets it: the test decides
/// how long "cloning" lasts.
struct GitServer {
    port: u16,
    gate: Arc<Semaphore>,
    _task: tokio::task::JoinHandle<()>,
}

impl GitServer {
    async fn start(root: PathBuf) -> GitServer {
        let gate = Arc::new(Semaphore::new(0));
        let app = Router::new()
            .route("/{*path}", get(serve_file))
            .with_state((root, gate.clone()));
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        GitServer {
            port,
            gate,
            _task: task,
        }
    }

    fn open(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }
}

async fn serve_file(
    State((root, gate)): State<(PathBuf, Arc<Semaphore>)>,
    UrlPath(path): UrlPath<String>,
) -> Result<Vec<u8>, StatusCode> {
    drop(gate.acquire().await.map_err(|_| StatusCode::GONE)?);
    if path.split('/').any(|part| part == "..") {
        return Err(StatusCode::NOT_FOUND);
    }
    tokio::fs::read(root.join(path))
        .await
        .map_err(|_| StatusCode::NOT_FOUND)
}

pub(crate) fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=farm", "-c", "user.email=farm@example.com"])
        .args(args)
        .status()
        .expect("git must be installed");
    assert!(status.success(), "git {args:?}");
}

/// A bare repository with one file holding `content`, ready for the dumb HTTP protocol.
pub(crate) fn bare_repository(root: &Path, content: &str) {
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("README"), content).unwrap();
    git(&work, &["add", "README"]);
    git(&work, &["commit", "-q", "-m", "first"]);
    git(root, &["clone", "-q", "--bare", "work", "repo.git"]);
    git(&root.join("repo.git"), &["update-server-info"]);
}

#[tokio::test]
async fn a_repository_is_cloned_into_shared_repos_and_the_status_follows_it() {
    let farm = TestFarm::start().await;
    let root = std::env::temp_dir().join(format!("cwf-git-{}", token()));
    let content = format!("cloned-{}", token());
    bare_repository(&root, &content);
    let server = GitServer::start(root.clone()).await;
    // The host as the workers see it: their network's gateway.
    let gateway = docker(&[
        "network",
        "inspect",
        &format!("{}_workers", farm.instance),
        "--format",
        "{{(index .IPAM.Config 0).Gateway}}",
    ]);
    let url = format!("http://{}:{}/repo.git", gateway.trim(), server.port);

    let response = farm
        .post("/api/workers", &json!({"name": "Cloner", "git_repo": url}))
        .await;
    assert_eq!(response.status(), HttpStatus::CREATED);
    // The server holds every request: the clone cannot have finished.
    let worker: serde_json::Value = response.json().await.unwrap();
    assert_eq!(worker["status"]["state"], "cloning", "{worker}");
    assert_eq!(worker["git_repo"], url);
    server.open();
    wait_for_state(&farm, "cloner", "running").await;

    let mut socket = open_terminal(&farm.base, "cloner", &[]).await.unwrap();
    let screen = run_until(&mut socket, "pwd; cat README\r", &content).await;
    assert!(screen.contains("/shared/repos/cloner"), "{screen}");
    let logs = farm.get("/api/workers/cloner/logs?tail=100").await;
    let logs = logs.text().await.unwrap();
    assert!(
        logs.contains("claude-worker: cloning into /shared/repos/cloner"),
        "{logs}"
    );

    // A restart keeps the clone: the repository is found again, and stays ready.
    let response = farm.post("/api/workers/cloner/restart", &json!({})).await;
    assert_eq!(response.status(), HttpStatus::OK);
    wait_for_state(&farm, "cloner", "running").await;
    let mut socket = open_terminal(&farm.base, "cloner", &[]).await.unwrap();
    run_until(&mut socket, "cat README\r", &content).await;
    std::fs::remove_dir_all(root).ok();
}
