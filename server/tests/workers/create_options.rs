//! What a create request may give a worker beyond a name and a repository, on a real engine:
//! plain variables (shown back) and secrets (names only), the git author (a real commit in the
//! worker carries it), the model and permission mode (in Claude Code's environment and
//! settings), only the images the farm allows, and named presets saved, reused and deleted.
//! Bad input gets a 400 that says what to fix, and creates nothing.

use std::time::{Duration, Instant};

use app::dashboard::CreateWorker;
use app::presets_view::{DeletePreset, SavePreset};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::claude::claude_image;
use crate::support::{docker, token, TestFarm, PATIENCE};

fn in_worker(id: &str, script: &str) -> String {
    docker(&["exec", &format!("claude-worker-{id}"), "sh", "-c", script])
}

/// Waits until the worker's entrypoint has done its setup (its terminal is up).
async fn wait_until_ready(id: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !docker(&["logs", &format!("claude-worker-{id}")]).contains("terminal ready") {
        assert!(Instant::now() < deadline, "{id} never got ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn put(farm: &TestFarm, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(farm.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn env_secrets_and_the_git_author_reach_the_worker_and_secrets_stay_there() {
    let farm = TestFarm::start_with(&[
        "--git-author-name",
        "Farm Bot",
        "--git-author-email",
        "bot@farm.example",
    ])
    .await;
    let secret = format!("ghp_sec{}", token());
    let own = format!("sec-env-{}", token());
    let created = farm
        .post(
            "/api/workers",
            &json!({
                "name": own,
                "env": {"RUST_LOG": "debug"},
                "secrets": {"GH_TOKEN": secret},
                "git_author_name": "Ada Lovelace",
                "git_author_email": "ada@example.com",
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let worker: Value = created.json().await.unwrap();
    assert_eq!(worker["env"], json!({"RUST_LOG": "debug"}));
    assert_eq!(worker["secrets"], json!(["GH_TOKEN"]));
    assert_eq!(worker["git_author_email"], "ada@example.com");
    let listed = farm.get("/api/workers").await.text().await.unwrap();
    assert!(listed.contains("GH_TOKEN") && !listed.contains(&secret));

    // Only the worker holds the secret's value.
    assert_eq!(in_worker(&own, "printenv GH_TOKEN").trim(), secret);
    assert_eq!(in_worker(&own, "printenv RUST_LOG").trim(), "debug");

    // A real commit carries the worker's author; one made without its own, the farm's.
    let farmwide = format!("sec-author-{}", token());
    let created = farm
        .post("/api/workers", &json!({ "name": farmwide }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let commit = "cd /tmp && git init -q repo && cd repo && git commit -q --allow-empty -m x \
                  && git log -1 --format='%an <%ae> / %cn <%ce>'";
    for (id, author) in [
        (&own, "Ada Lovelace <ada@example.com>"),
        (&farmwide, "Farm Bot <bot@farm.example>"),
    ] {
        wait_until_ready(id).await;
        assert_eq!(
            in_worker(id, commit).trim(),
            format!("{author} / {author}"),
            "{id}"
        );
    }
}

#[tokio::test]
async fn bad_options_are_refused_with_what_to_fix_and_create_nothing() {
    let farm = TestFarm::start().await;
    let id = format!("sec-bad-{}", token());
    let refused = [
        (json!({"env": {"HOME": "/tmp"}}), "HOME is set by the farm"),
        (
            json!({"secrets": {"ANTHROPIC_API_KEY": "x"}}),
            "ANTHROPIC_API_KEY is refused",
        ),
        (
            json!({"secrets": {"CLAUDE_CODE_OAUTH_TOKEN": "x"}}),
            "set by the farm",
        ),
        (
            json!({"env": {"TTYD_CREDENTIAL": "worker:x"}}),
            "set by the farm",
        ),
        (json!({"env": {"WORKER_ID": "x"}}), "set by the farm"),
        (json!({"env": {"CLAUDE_TASK": "x"}}), "set by the farm"),
        (json!({"env": {"PATH": "/tmp"}}), "set by the farm"),
        (json!({"env": {"GIT_REPO": "x"}}), "git_token"),
        (json!({"env": {"FARM_GIT_TOKEN": "x"}}), "FARM_"),
        (json!({"env": {"1A": "x"}}), "not a variable name"),
        (json!({"secrets": {"A-B": "x"}}), "not a variable name"),
        (
            json!({"env": {"A": "x".repeat(5000)}}),
            "at most 4096 bytes",
        ),
        (
            json!({"env": {"A": "1"}, "secrets": {"A": "2"}}),
            "give it once",
        ),
        (json!({"image": "alpine:latest"}), "not allowed here"),
        (json!({"model": "sonnet; rm -rf /"}), "not a model name"),
        (json!({"permission_mode": "yolo"}), "acceptEdits"),
        (json!({"git_token": "t"}), "needs a git_repo"),
        (
            json!({"git_token": "t", "git_repo": "git@github.com:me/private.git"}),
            "https://",
        ),
        (
            json!({"git_author_email": "not an email"}),
            "git_author_email",
        ),
        (json!({"preset": "sec-no-such-preset"}), "no preset named"),
    ];
    let many: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("V{i}"), json!("x"))).collect();
    for (mut body, says) in refused
        .into_iter()
        .chain([(json!({"env": many}), "at most 32")])
    {
        body["name"] = json!(id);
        let response = farm.post("/api/workers", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(says), "{body}: {error}");
        assert_eq!(answer["code"], "invalid_input");
    }
    assert!(farm.containers().is_empty(), "{:?}", farm.containers());
}

#[tokio::test]
async fn presets_are_saved_reused_and_never_hold_secrets() {
    let image = claude_image();
    let farm = TestFarm::start_with(&["--allowed-images", &image]).await;
    let name = format!("sec-preset-{}", token());
    let path = format!("/api/presets/{name}");
    let preset = json!({
        "env": {"RUST_LOG": "info", "SHARED": "preset"},
        "model": "sonnet",
        "permission_mode": "plan",
        "memory_mb": 512,
        "image": image,
    });
    let saved = put(&farm, &path, &preset).await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert_eq!(farm.get_json(&path).await, preset);
    assert_eq!(farm.get_json("/api/presets").await[&name], preset);

    // A secret, an image the farm does not allow, limits beyond the caps, a bad name: 400.
    for (body, says) in [
        (json!({"secrets": {"GH_TOKEN": "x"}}), "never holds secrets"),
        (json!({"git_token": "x"}), "never holds secrets"),
        (json!({"env": {"GH_TOKEN": "x"}}), "looks like a secret"),
        (json!({"image": "alpine:latest"}), "not allowed here"),
        (json!({"memory_mb": 1_000_000}), "memory_mb must be between"),
        (json!({"permission_mode": "yolo"}), "acceptEdits"),
    ] {
        let response = put(&farm, &path, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error = response.text().await.unwrap();
        assert!(error.contains(says), "{body}: {error}");
    }
    let bad_name = put(&farm, "/api/presets/Not%20A%20Name", &json!({})).await;
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    assert_eq!(farm.get_json(&path).await, preset, "a refusal changed it");

    // A worker from the preset: what the request says wins, variable by variable.
    let id = format!("sec-from-preset-{}", token());
    let created = farm
        .post(
            "/api/workers",
            &json!({"name": id, "preset": name, "env": {"SHARED": "request"}, "model": "opus"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let worker: Value = created.json().await.unwrap();
    assert_eq!(
        worker["env"],
        json!({"RUST_LOG": "info", "SHARED": "request"})
    );
    assert_eq!(worker["model"], "opus");
    assert_eq!(worker["permission_mode"], "plan");
    assert_eq!(worker["limits"]["memory_mb"], 512);
    assert_eq!(worker["image"], image.as_str());
    wait_until_ready(&id).await;
    assert_eq!(in_worker(&id, "printenv ANTHROPIC_MODEL").trim(), "opus");
    let settings = in_worker(&id, "cat ~/.claude/settings.json");
    let settings: Value = serde_json::from_str(&settings).expect(&settings);
    assert_eq!(settings["permissions"]["defaultMode"], "plan");

    // Presets outlive the dashboard (the embedded store keeps them in FARM_STATE_DIR).
    let again = TestFarm::start_as(&farm.instance, &["--allowed-images", &image]).await;
    assert_eq!(again.get_json(&path).await, preset);
    let deleted = again.delete(&path).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(again.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(again.delete(&path).await.status(), StatusCode::NOT_FOUND);
}

/// Posts a form as the page's server functions receive it.
async fn form_post(farm: &TestFarm, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(farm.url(path))
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_pages_forms_save_presets_and_create_with_options() {
    let farm = TestFarm::start().await;
    let preset = format!("sec-form-{}", token());
    let saved = form_post(
        &farm,
        SavePreset::PATH,
        &[
            ("name", &preset),
            ("preset[image]", ""),
            ("preset[memory_mb]", "512"),
            ("preset[cpus]", ""),
            ("preset[env]", "RUST_LOG=info"),
            ("preset[git_repo]", ""),
            ("preset[model]", "sonnet"),
            ("preset[permission_mode]", "plan"),
        ],
    )
    .await;
    assert!(
        saved.status().is_success(),
        "{}",
        saved.text().await.unwrap()
    );

    let secret = format!("ghp_form{}", token());
    let id = format!("sec-form-worker-{}", token());
    let secrets = format!("GH_TOKEN={secret}");
    let mut fields = vec![
        ("name", id.as_str()),
        ("git_repo", ""),
        ("prompt", ""),
        ("options[preset]", &preset),
        ("options[env]", "A=1"),
        ("options[secrets]", &secrets),
        ("options[git_token]", ""),
        ("options[git_author_name]", ""),
        ("options[git_author_email]", ""),
        ("options[model]", ""),
        ("options[permission_mode]", ""),
    ];
    // A line that is not NAME=value: refused with what to fix, nothing created.
    fields[5].1 = "just a token";
    let refused = form_post(&farm, CreateWorker::PATH, &fields).await;
    let answer = refused.text().await.unwrap();
    assert!(answer.contains("NAME=value"), "{answer}");
    assert!(farm.containers().is_empty());

    fields[5].1 = &secrets;
    let created = form_post(&farm, CreateWorker::PATH, &fields).await;
    let answer = created.text().await.unwrap();
    assert!(
        answer.contains(&id) && !answer.contains(&secret),
        "{answer}"
    );
    let worker = farm.get_json(&format!("/api/workers/{id}")).await;
    assert_eq!(worker["env"], json!({"A": "1", "RUST_LOG": "info"}));
    assert_eq!(worker["secrets"], json!(["GH_TOKEN"]));
    assert_eq!(worker["model"], "sonnet");
    assert_eq!(worker["permission_mode"], "plan");
    assert_eq!(worker["limits"]["memory_mb"], 512);
    assert_eq!(in_worker(&id, "printenv GH_TOKEN").trim(), secret);

    let deleted = form_post(&farm, DeletePreset::PATH, &[("name", &preset)]).await;
    assert!(deleted.status().is_success());
    assert_eq!(farm.get_json("/api/presets").await, json!({}));
}
