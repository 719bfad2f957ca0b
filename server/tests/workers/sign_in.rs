//! Signing in with a Claude subscription: a farm with only `CLAUDE_CODE_OAUTH_TOKEN` (no API
//! key) runs the real Claude Code (the worker image with the CLI) against the scripted model.
//! Claude Code opens with no login screen and no first-run dialog, reaches the model with the
//! token as its bearer, and runs with the model and permission mode the worker was made with.
//! A subscription's usage limit shows as `limited` with the time it resets, and the tokens of
//! a model the farm has no price for are counted with their cost unknown.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::claude::{claude_image, pane, wait_for};
use crate::model::ScriptedModel;
use crate::support::{token, TestFarm, PATIENCE};

#[tokio::test]
async fn a_subscription_token_signs_the_real_claude_code_in() {
    let model = ScriptedModel::start().await;
    let url = model.url();
    let oauth = format!("sk-ant-oat01-sec-{}", token());
    let image = claude_image();
    let farm = TestFarm::start_with(&[
        "--worker-image",
        &image,
        "--anthropic-base-url",
        &url,
        "--anthropic-api-key",
        "",
        "--claude-code-oauth-token",
        &oauth,
    ])
    .await;
    let id = format!("sec-oauth-{}", token());
    let created = farm
        .post(
            "/api/workers",
            &json!({
                "name": id,
                "prompt": "say hello from the subscription",
                "model": "claude-sec-model",
                "permission_mode": "acceptEdits",
            }),
        )
        .await;
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);

    // Nobody touched its terminal: Claude Code signed in by itself and answered.
    wait_for(
        &farm,
        &id,
        "idle",
        Some("Scripted answer: say hello from the subscription"),
    )
    .await;
    let screen = pane(&id);
    for first_run in [
        "Select login method",
        "/login",
        "Do you want to use this API key",
        "trust the files",
        "Choose the text style",
    ] {
        assert!(!screen.contains(first_run), "a first-run screen: {screen}");
    }
    assert!(screen.contains("accept edits on"), "{screen}");

    let calls = model.calls();
    assert!(!calls.is_empty(), "Claude Code never reached the model");
    for call in &calls {
        assert_eq!(call.credential, format!("Bearer {oauth}"), "{call:?}");
    }
    assert!(
        calls.iter().any(|c| c.model == "claude-sec-model"),
        "{calls:?}"
    );
    let worker: Value = farm.get_json(&format!("/api/workers/{id}")).await;
    assert_eq!(worker["model"], "claude-sec-model");
    assert_eq!(worker["permission_mode"], "acceptEdits");
    assert!(!worker.to_string().contains(&oauth));

    // The subscription's five-hour limit: Claude Code says when it resets.
    let typed = farm
        .post(
            "/api/workers/batch",
            &json!({ "ids": [id], "action": "prompt", "text": "[limit] now" }),
        )
        .await;
    assert_eq!(typed.status(), reqwest::StatusCode::OK);
    wait_for(
        &farm,
        &id,
        "limited",
        Some("You've hit your 5-hour limit · resets"),
    )
    .await;
    // The answer's tokens are summed once Claude Code has written them to its transcript.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let worker: Value = farm.get_json(&format!("/api/workers/{id}")).await;
        if worker["usage"]["input_tokens"].as_u64() > Some(0) {
            assert!(worker["usage"]["cost_usd"].is_null(), "{worker}");
            break;
        }
        assert!(Instant::now() < deadline, "no usage: {worker}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
