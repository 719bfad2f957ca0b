//! A private repository cloned with a token: a git server on this machine that asks for it
//! (git's dumb HTTP protocol behind HTTP Basic authentication), reached by the worker over its
//! network. The token goes through git's credential helper: never in the URL (the server sees
//! every request's path), the remote, git's configuration or the log; a wrong or missing
//! token gives the failed state with git's reason, not a hang.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use reqwest::StatusCode as HttpStatus;
use serde_json::json;

use crate::clone::bare_repository;
use crate::support::{docker, token, TestFarm};
use crate::wait_for_state;

/// The user name git's credential helper gives with a token (`claude-worker/git-credential-farm`).
pub const TOKEN_USER: &str = "x-access-token";

/// Serves `root` to whoever sends `token` as the password of HTTP Basic authentication, and
/// remembers the path of every request.
pub struct PrivateGitServer {
    pub port: u16,
    /// What the server received: each request's path and query.
    pub paths: Arc<Mutex<Vec<String>>>,
    _task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Served {
    root: PathBuf,
    expected: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl PrivateGitServer {
    pub async fn start(root: PathBuf, token: &str) -> PrivateGitServer {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_USER}:{token}"))
        );
        let paths = Arc::new(Mutex::new(Vec::new()));
        let served = Served {
            root,
            expected,
            paths: paths.clone(),
        };
        let app = Router::new()
            .route("/{*path}", get(serve))
            .with_state(served);
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        PrivateGitServer {
            port,
            paths,
            _task: task,
        }
    }

    /// The repository's URL as the workers of farm `instance` reach this machine (their
    /// network's gateway).
    pub fn url(&self, instance: &str) -> String {
        let gateway = docker(&[
            "network",
            "inspect",
            &format!("{instance}_workers"),
            "--format",
            "{{(index .IPAM.Config 0).Gateway}}",
        ]);
        format!("http://{}:{}/repo.git", gateway.trim(), self.port)
    }
}

async fn serve(
    State(served): State<Served>,
    UrlPath(path): UrlPath<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    served.paths.lock().unwrap().push(uri.to_string());
    let authorized = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == served.expected.as_bytes());
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"private\"")],
        )
            .into_response();
    }
    if path.split('/').any(|part| part == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(served.root.join(path)).await {
        Ok(bytes) => bytes.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A bare repository with one file holding `content`, under a fresh folder.
pub fn private_repository(content: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("cwf-private-git-{}", token()));
    bare_repository(&root, content);
    root
}

fn in_worker(id: &str, script: &str) -> String {
    docker(&["exec", &format!("claude-worker-{id}"), "sh", "-c", script])
}

fn remove(root: &Path) {
    std::fs::remove_dir_all(root).ok();
}

// Several threads: the worker's `git fetch` below waits on this process's git server while
// the test waits on `docker exec`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_repository_is_cloned_with_its_token_through_the_credential_helper() {
    let farm = TestFarm::start().await;
    let content = format!("private-{}", token());
    let root = private_repository(&content);
    let git_token = format!("ghp_sec{}", token());
    let server = PrivateGitServer::start(root.clone(), &git_token).await;
    let url = server.url(&farm.instance);
    let id = format!("sec-private-{}", token());

    let response = farm
        .post(
            "/api/workers",
            &json!({"name": id, "git_repo": url, "git_token": git_token}),
        )
        .await;
    assert_eq!(response.status(), HttpStatus::CREATED);
    let answer = response.text().await.unwrap();
    assert!(!answer.contains(&git_token), "{answer}");
    wait_for_state(&farm, &id, "running").await;
    let dest = format!("/shared/repos/{id}");
    assert_eq!(in_worker(&id, &format!("cat {dest}/README")), content);

    // The remote is the plain URL; git's configuration names the helper, not the token.
    let remotes = in_worker(&id, &format!("git -C {dest} remote -v"));
    assert!(remotes.contains(&url), "{remotes}");
    let config = in_worker(&id, "cat ~/.gitconfig");
    assert!(config.contains("helper = farm"), "{config}");
    for (place, text) in [("git remote -v", &remotes), ("~/.gitconfig", &config)] {
        assert!(
            !text.contains(&git_token),
            "the token is in {place}: {text}"
        );
    }
    // Later fetches in the worker (a shell, Claude Code) use it too.
    let fetched = in_worker(&id, &format!("git -C {dest} fetch origin && echo fetched"));
    assert!(fetched.contains("fetched"), "{fetched}");
    // The token never travelled in a URL.
    let paths = server.paths.lock().unwrap().clone();
    assert!(paths.iter().any(|p| p.contains("info/refs")), "{paths:?}");
    assert!(paths.iter().all(|p| !p.contains(&git_token)), "{paths:?}");
    let logs = docker(&["logs", &format!("claude-worker-{id}")]);
    assert!(!logs.contains(&git_token), "the token is in the log");
    remove(&root);
}

#[tokio::test]
async fn a_wrong_or_missing_token_fails_the_clone_with_a_reason() {
    let farm = TestFarm::start().await;
    let root = private_repository("never seen");
    let server = PrivateGitServer::start(root.clone(), "the-right-token").await;
    let url = server.url(&farm.instance);
    let wrong = format!("sec-wrong-{}", token());
    let missing = format!("sec-missing-{}", token());
    for (id, body) in [
        (
            &wrong,
            json!({"name": wrong, "git_repo": url, "git_token": "a-wrong-token"}),
        ),
        (&missing, json!({"name": missing, "git_repo": url})),
    ] {
        let response = farm.post("/api/workers", &body).await;
        assert_eq!(response.status(), HttpStatus::CREATED);
        let worker = wait_for_state(&farm, id, "failed").await;
        let reason = worker["status"]["reason"].as_str().unwrap().to_owned();
        assert!(reason.contains("could not be cloned"), "{reason}");
        println!("{id}: {reason}");
        if id == &wrong {
            assert!(reason.contains("Authentication failed"), "{reason}");
            assert!(!reason.contains("a-wrong-token"), "{reason}");
        } else {
            assert!(reason.contains("could not read Username"), "{reason}");
        }
    }
    remove(&root);
}
