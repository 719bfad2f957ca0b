//! The real Claude Code CLI (the worker image's, with the CLI) in a farm worker, against the
//! scripted model (`shared/model.rs`): it opens at its prompt with no first-run dialog, and
//! the farm's agent status follows it through an answer, a slow answer, the auto-mode notice,
//! a permission prompt answered from the terminal, a question with choices, an API error, a
//! usage limit and its exit; with Claude Code's hooks and from the screen alone. The tokens
//! the worker reports are the ones the model answered with. How long each dialog takes from
//! the screen to the API is printed (measured, not asserted: these machines are noisy).

use std::time::{Duration, Instant};

use farm::ttyd;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{open_terminal, Socket};
use crate::model::{ScriptedModel, ERROR_MESSAGE, QUESTION};
use crate::support::{docker, TestFarm, PATIENCE};

/// The worker image with the Claude Code CLI (scripts/test.sh builds it).
pub(crate) fn claude_image() -> String {
    std::env::var("CLAUDE_WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:latest".into())
}

/// The scripted model, and a farm whose workers run the real Claude Code against it.
async fn claude_farm() -> (ScriptedModel, TestFarm) {
    let model = ScriptedModel::start().await;
    let url = model.url();
    let image = claude_image();
    let farm =
        TestFarm::start_with(&["--worker-image", &image, "--anthropic-base-url", &url]).await;
    (model, farm)
}

/// Waits until the worker's screen shows `text`.
async fn wait_for_screen(id: &str, text: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !pane(id).contains(text) {
        assert!(
            Instant::now() < deadline,
            "{id} never showed {text:?}:\n{}",
            pane(id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn agent(farm: &TestFarm, id: &str) -> (String, String, String) {
    let worker: Value = farm.get_json(&format!("/api/workers/{id}")).await;
    let field = |name: &str| {
        worker["agent"][name]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    (field("state"), field("line"), field("source"))
}

pub(crate) fn pane(id: &str) -> String {
    docker(&[
        "exec",
        &format!("claude-worker-{id}"),
        "tmux",
        "capture-pane",
        "-p",
        "-t",
        "main",
    ])
}

/// Types into the worker's terminal through the dashboard's proxy, as the page does.
async fn type_keys(socket: &mut Socket, keys: &str) {
    socket
        .send(Message::binary(ttyd::input(keys.as_bytes())))
        .await
        .unwrap();
}

/// Waits until the API says `state` (and, if given, a line containing `line`); returns the
/// states seen on the way.
pub(crate) async fn wait_for(
    farm: &TestFarm,
    id: &str,
    state: &str,
    line: Option<&str>,
) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (now, now_line, _) = agent(farm, id).await;
        if seen.last() != Some(&now) {
            seen.push(now.clone());
        }
        if now == state && line.is_none_or(|l| now_line.contains(l)) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never said {state} {line:?}; it said {seen:?} ({now_line:?}), the screen:\n{}",
            pane(id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for `shown` to appear on screen and for the API to say `state` with a line that
/// contains `says`; returns that line and how long after the screen it came.
async fn delay(
    farm: &TestFarm,
    id: &str,
    shown: &str,
    state: &str,
    says: &str,
) -> (String, Duration) {
    let deadline = Instant::now() + PATIENCE;
    let mut on_screen = None;
    loop {
        if on_screen.is_none() && pane(id).contains(shown) {
            on_screen = Some(Instant::now());
        }
        let (now, line, _) = agent(farm, id).await;
        if let Some(at) = on_screen {
            if now == state && line.contains(says) {
                return (line, at.elapsed());
            }
        }
        assert!(
            Instant::now() < deadline,
            "{id}: no {shown:?} with {state} ({says}); the API said {now} ({line}); the screen:\n{}",
            pane(id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// [`delay`] for a dialog: needs-input.
async fn dialog_delay(farm: &TestFarm, id: &str, shown: &str, asks: &str) -> (String, Duration) {
    delay(farm, id, shown, "needs-input", asks).await
}

async fn the_agent_is_followed(hooks: bool) {
    let (model, farm) = claude_farm().await;
    let id = if hooks { "agent-hooks" } else { "agent-screen" };
    let created = farm.post("/api/workers", &json!({ "name": id })).await;
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    let container = format!("claude-worker-{id}");
    if !hooks {
        // Hooks off: the hook cannot write what it records, so only the screen tells.
        docker(&[
            "exec",
            &container,
            "sh",
            "-c",
            "mkdir -p ~/.claude-worker && chmod a-w ~/.claude-worker",
        ]);
    }
    let mut terminal = open_terminal(&farm.base, id, &[]).await.unwrap();
    // A desktop-sized terminal: the auto-mode notice is taller than 24 rows.
    terminal
        .send(Message::binary(ttyd::resize(120, 50)))
        .await
        .unwrap();
    wait_for(&farm, id, "no-agent", None).await;

    // It opens at its prompt: no theme picker, no "use this API key?", no trust question.
    type_keys(&mut terminal, "claude\r").await;
    wait_for(&farm, id, "idle", None).await;
    let screen = pane(id);
    for first_run in [
        "Do you want to use this API key",
        "trust the files",
        "Choose the text style",
    ] {
        assert!(!screen.contains(first_run), "a first-run dialog: {screen}");
    }

    // An answer streamed over a few seconds: working, then idle with its last line.
    type_keys(&mut terminal, "[slow] tell me about the farm\r").await;
    wait_for(&farm, id, "working", None).await;
    // The screen shows no last line; Claude Code's Stop hook gives it.
    let answered = hooks.then_some("Scripted answer");
    let seen = wait_for(&farm, id, "idle", answered).await;
    assert_eq!(
        seen.first().map(String::as_str),
        Some("working"),
        "{seen:?}"
    );

    // A Bash call: Claude Code 2.1 first shows its auto-mode notice, then asks permission.
    // The command takes two seconds: working while the tool runs.
    type_keys(
        &mut terminal,
        "[bash: sleep 2 && touch /tmp/agent-ran] go\r",
    )
    .await;
    let (line, notice) =
        dialog_delay(&farm, id, "Auto mode can't check actions", "Auto mode").await;
    println!("{id}: auto-mode notice on the API {notice:?} after the screen ({line})");
    assert!(line.contains("Auto mode"), "{line}");
    type_keys(&mut terminal, "\r").await;
    wait_for_screen(id, "Do you want to proceed?").await;
    let (line, prompt) = dialog_delay(&farm, id, "Do you want to proceed?", "Bash").await;
    assert!(line.contains("sleep 2 && touch /tmp/agent-ran"), "{line}");
    println!("{id}: permission prompt on the API {prompt:?} after the screen ({line})");
    assert!(line.contains("Bash"), "{line}");

    // Answered Yes from the terminal: the command runs, the answer comes, idle again.
    type_keys(&mut terminal, "\x1b[B\r").await;
    let seen = wait_for(&farm, id, "idle", hooks.then_some("Ran the command")).await;
    assert!(seen.contains(&"working".to_owned()), "{seen:?}");
    let ran = docker(&[
        "exec",
        &container,
        "sh",
        "-c",
        "test -e /tmp/agent-ran && echo yes",
    ]);
    assert_eq!(ran.trim(), "yes", "the approved command did not run");
    let (_, _, source) = agent(&farm, id).await;
    if !hooks {
        assert_eq!(source, "screen", "hooks were off");
    }

    // A question with choices, in its own words; the second choice taken from the terminal.
    type_keys(&mut terminal, "[ask] pick a colour\r").await;
    let (line, asked) = dialog_delay(&farm, id, QUESTION, QUESTION).await;
    println!("{id}: question on the API {asked:?} after the screen ({line})");
    // Two key presses, as a person makes them: the menu takes a chunk with both as one.
    type_keys(&mut terminal, "\x1b[B").await;
    wait_for_screen(id, "❯ 2. Blue").await;
    type_keys(&mut terminal, "\r").await;
    wait_for(&farm, id, "idle", hooks.then_some("Ran the command")).await;
    wait_for_screen(id, "→ Blue").await;

    // An API error ends the turn: the error, with Claude Code's words for it.
    type_keys(&mut terminal, "[error] now\r").await;
    let expected = format!("API Error: 400 {ERROR_MESSAGE}");
    let (_, took) = delay(&farm, id, &expected, "error", &expected).await;
    println!("{id}: API error on the API {took:?} after the screen");
    // A usage limit (an API key's 429: Claude Code says so and stops the turn).
    type_keys(&mut terminal, "[limit] now\r").await;
    let (_, took) = delay(&farm, id, "(429) · usage limit", "limited", "usage limit").await;
    println!("{id}: usage limit on the API {took:?} after the screen");
    // The next prompt that goes through is a turn like any other.
    type_keys(&mut terminal, "hello again\r").await;
    let answer = "Scripted answer: hello again";
    let says = if hooks { answer } else { "" };
    let (_, took) = delay(&farm, id, answer, "idle", says).await;
    println!("{id}: idle after an answer on the API {took:?} after the screen");

    if hooks {
        // What the worker spent, from Claude Code's transcripts: what the model reported.
        let (input, output) = model.usage();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let worker: Value = farm.get_json(&format!("/api/workers/{id}")).await;
            let usage = &worker["usage"];
            if usage["input_tokens"] == input && usage["output_tokens"] == output {
                assert!(
                    usage["cost_usd"].as_f64().is_some_and(|c| c > 0.0),
                    "{usage}"
                );
                let farm_use: Value = farm.get_json("/api/farm").await;
                assert_eq!(farm_use["claude"]["input_tokens"], input, "{farm_use}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the worker says {usage}; the model answered {input} in, {output} out; its transcripts:\n{}",
                docker(&[
                    "exec", &container, "sh", "-c",
                    "cat ~/.claude/projects/*/*.jsonl | jq -c 'select(.type == \"assistant\") | [.message.id, .message.model, .message.usage.input_tokens, (.message.content[0] | .text // .name)]'",
                ])
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Claude Code exits: no agent.
    type_keys(&mut terminal, "/exit\r").await;
    wait_for(&farm, id, "no-agent", None).await;
    let (input, output) = model.usage();
    assert!(
        input > 0 && output > 0,
        "the CLI never reached the scripted model"
    );
}

#[tokio::test]
async fn the_real_claude_code_is_followed_with_its_hooks() {
    the_agent_is_followed(true).await;
}

#[tokio::test]
async fn the_real_claude_code_is_followed_from_the_screen_alone() {
    the_agent_is_followed(false).await;
}

#[tokio::test]
async fn a_worker_made_with_a_task_starts_claude_code_on_it() {
    let (model, farm) = claude_farm().await;
    let created = farm
        .post(
            "/api/workers",
            &json!({ "name": "tasked", "prompt": "summarise the repository" }),
        )
        .await;
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    // Nobody opened its terminal: Claude Code answered the task by itself.
    wait_for(
        &farm,
        "tasked",
        "idle",
        Some("Scripted answer: summarise the repository"),
    )
    .await;
    assert!(pane("tasked").contains("summarise the repository"));

    // A restart resumes the conversation instead of starting the task again.
    let restarted = farm.post("/api/workers/tasked/restart", &json!({})).await;
    assert_eq!(restarted.status(), reqwest::StatusCode::OK);
    wait_for(&farm, "tasked", "idle", None).await;
    wait_for_screen("tasked", "summarise the repository").await;
    assert_eq!(
        model.answered("summarise the repository"),
        1,
        "the task ran again after the restart"
    );

    // A task must be one line: refused with a reason, nothing created.
    let refused = farm
        .post(
            "/api/workers",
            &json!({ "name": "two-lines", "prompt": "a\nb" }),
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_plan_waits_for_its_approval() {
    let (_model, farm) = claude_farm().await;
    let created = farm
        .post(
            "/api/workers",
            &json!({ "name": "planner", "prompt": "[plan] add a button", "permission_mode": "plan" }),
        )
        .await;
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    let (line, took) = dialog_delay(&farm, "planner", "Exit plan mode?", "Exit plan mode?").await;
    println!("planner: plan approval on the API {took:?} after the screen ({line})");
    // Approved (its first option), the plan goes on.
    docker(&[
        "exec",
        "claude-worker-planner",
        "tmux",
        "send-keys",
        "-t",
        "main",
        "Enter",
    ]);
    wait_for(&farm, "planner", "idle", Some("Ran the command")).await;
}
