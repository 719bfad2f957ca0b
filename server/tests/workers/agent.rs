//! The agent status of a real worker: its hook (`claude-worker-agent-hook`) is run exactly as
//! Claude Code runs it, with the documented JSON on standard input inside the container,
//! and the status must reach the API; without hooks the pane's text tells.
//!
//! The test image has no Claude Code (it needs an account), so a program named `claude` (a
//! `sleep` started as `claude`) stands in for it in the tmux pane: what the dashboard looks
//! at is the pane's foreground program, the hooks' output and the screen, all real.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestFarm, PATIENCE};
use crate::{open_terminal, run_until};

const HOOK: &str = "/usr/local/bin/claude-worker-agent-hook";

/// Runs the worker's hook as Claude Code does: the event's JSON on standard input.
fn fire_hook(container: &str, input: &Value) {
    let mut hook = Command::new("docker")
        .args(["exec", "-i", container, HOOK])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    hook.stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = hook.wait_with_output().unwrap();
    assert!(out.status.success(), "the hook failed: {out:?}");
    // Some events add a hook's output to the conversation: it must say nothing.
    assert!(out.stdout.is_empty(), "the hook printed {:?}", out.stdout);
}

/// What Claude Code puts in every hook's input, plus the event's own fields.
fn hook_input(event: &str, fields: Value) -> Value {
    let mut input = json!({
        "session_id": "6c1b4e1e-4f7e-4e0b-9d57-2f1f0c3c9a10",
        "transcript_path": "/home/worker/.claude/projects/-home-worker/6c1b4e1e.jsonl",
        "cwd": "/home/worker",
        "permission_mode": "default",
        "hook_event_name": event,
    });
    input
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    input
}

/// Waits until the worker's agent status is `state`; returns it and how long it took.
async fn wait_for_agent(farm: &TestFarm, id: &str, state: &str) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let worker = farm.get_json(&format!("/api/workers/{id}")).await;
        if worker["agent"]["state"] == state {
            return (worker["agent"].clone(), started.elapsed());
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the agent never became {state}: {worker}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn hooks_and_then_the_screen_tell_what_the_agent_does() {
    let farm = TestFarm::start().await;
    assert_eq!(farm.create("agent").await.status(), StatusCode::CREATED);
    let container = "claude-worker-agent";
    // The tmux session exists once a terminal is open.
    let mut terminal = open_terminal(&farm.base, "agent", &[]).await.unwrap();
    run_until(&mut terminal, "echo up-$((2+3))\r", "up-5").await;
    let (agent, _) = wait_for_agent(&farm, "agent", "no-agent").await;
    assert_eq!(agent["source"], "screen");

    // "Claude Code" starts in the pane.
    run_until(
        &mut terminal,
        "bash -c 'exec -a claude sleep 600'\r",
        "exec -a claude",
    )
    .await;
    let steps = [
        (
            hook_input(
                "SessionStart",
                json!({"source": "startup", "model": "claude-sonnet-4-5"}),
            ),
            "idle",
            None,
        ),
        (
            hook_input("UserPromptSubmit", json!({"prompt": "run the tests"})),
            "working",
            None,
        ),
        (
            hook_input(
                "PreToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": "npm test"}}),
            ),
            "working",
            None,
        ),
        (
            hook_input(
                "Notification",
                json!({"message": "Claude needs your permission to use Bash", "notification_type": "permission_prompt"}),
            ),
            "needs-input",
            Some("Claude needs your permission to use Bash"),
        ),
        (
            hook_input(
                "PostToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": "npm test"}, "tool_response": {"stdout": "ok"}}),
            ),
            "working",
            None,
        ),
        (
            hook_input(
                "Stop",
                json!({"stop_hook_active": false, "last_assistant_message": "All 12 tests pass.\n\nShall I commit?"}),
            ),
            "idle",
            Some("Shall I commit?"),
        ),
    ];
    for (input, state, line) in steps {
        fire_hook(container, &input);
        let (agent, took) = wait_for_agent(&farm, "agent", state).await;
        assert_eq!(agent["source"], "hook", "{agent}");
        assert_eq!(agent["line"].as_str(), line, "{agent}");
        println!(
            "hook {} -> {state} on the API in {} ms",
            input["hook_event_name"],
            took.as_millis()
        );
    }
    // Nothing of what the hook was given leaks beyond the fields that tell the state.
    let recorded = crate::support::docker(&[
        "exec",
        container,
        "cat",
        "/home/worker/.claude-worker/agent.json",
    ]);
    assert!(!recorded.contains("transcript"), "{recorded}");

    // The agent quits (its last hook, then the process ends): no agent.
    fire_hook(
        container,
        &hook_input("SessionEnd", json!({"reason": "prompt_input_exit"})),
    );
    run_until(&mut terminal, "\u{3}echo back-$((3+4))\r", "back-7").await;
    wait_for_agent(&farm, "agent", "no-agent").await;

    // Without hooks, the screen: an agent whose pane shows Claude Code thinking, then one
    // showing a permission dialog.
    for (fixture, screen, state) in [
        (
            "working",
            include_str!("../../../src/agent/screens/cc-2.1.332-working.txt"),
            "working",
        ),
        (
            "asking",
            include_str!("../../../src/agent/screens/cc-2.1.332-bash-permission-manual.txt"),
            "needs-input",
        ),
    ] {
        let path = format!("/tmp/{fixture}.txt");
        let mut copy = Command::new("docker")
            .args([
                "exec",
                "-i",
                container,
                "sh",
                "-c",
                &format!("cat > {path}"),
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        copy.stdin
            .take()
            .unwrap()
            .write_all(screen.as_bytes())
            .unwrap();
        assert!(copy.wait().unwrap().success());
        run_until(
            &mut terminal,
            &format!("clear; bash -c 'cat {path}; exec -a claude sleep 600'\r"),
            "exec -a claude",
        )
        .await;
        let (agent, took) = wait_for_agent(&farm, "agent", state).await;
        assert_eq!(agent["source"], "screen", "{agent}");
        println!(
            "screen {fixture} -> {state} on the API in {} ms",
            took.as_millis()
        );
        run_until(&mut terminal, "\u{3}echo out-$((4+4))\r", "out-8").await;
        wait_for_agent(&farm, "agent", "no-agent").await;
    }
}

/// Every hook payload the real Claude Code 2.1.332 sent in one session (a prompt, a question,
/// a Bash call under the auto-mode notice, an API error, a usage limit, the exit), recorded
/// in a worker with a hook that saved its standard input. Replayed through the worker's own
/// hook, each must give the state Claude Code was in.
#[tokio::test]
async fn the_real_claude_codes_hook_payloads_give_its_states() {
    let farm = TestFarm::start().await;
    assert_eq!(
        farm.create("hook-replay").await.status(),
        StatusCode::CREATED
    );
    let container = "claude-worker-hook-replay";
    let mut terminal = open_terminal(&farm.base, "hook-replay", &[]).await.unwrap();
    run_until(
        &mut terminal,
        "bash -c 'exec -a claude sleep 600'\r",
        "exec -a claude",
    )
    .await;
    let recorded = include_str!("../../../src/agent/hook-payloads/cc-2.1.332.jsonl");
    let expected = [
        ("SessionStart", "idle"),
        ("UserPromptSubmit", "working"),
        ("Stop", "idle"),
        ("UserPromptSubmit", "working"),
        ("PreToolUse", "needs-input"),
        ("PermissionRequest", "needs-input"),
        ("Notification", "needs-input"),
        ("PostToolUse", "working"),
        ("Stop", "idle"),
        ("UserPromptSubmit", "working"),
        ("PreToolUse", "working"),
        ("Notification", "needs-input"),
        ("PostToolUse", "working"),
        ("Stop", "idle"),
        ("UserPromptSubmit", "working"),
        ("StopFailure", "error"),
        ("StopFailure", "limited"),
        ("SessionEnd", ""),
    ];
    let payloads: Vec<Value> = recorded
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(payloads.len(), expected.len());
    for (payload, (event, state)) in payloads.iter().zip(expected) {
        assert_eq!(payload["hook_event_name"], event);
        fire_hook(container, payload);
        if state.is_empty() {
            // The session ended while `claude` still runs: a new one, not yet heard from.
            continue;
        }
        let (agent, _) = wait_for_agent(&farm, "hook-replay", state).await;
        let line = agent["line"].as_str().unwrap_or_default();
        match (event, payload["tool_name"].as_str()) {
            ("PreToolUse" | "PermissionRequest" | "Notification", Some("AskUserQuestion"))
            | ("Notification", None)
                if state == "needs-input"
                    && payload["notification_type"] != "agent_needs_input" =>
            {
                assert_eq!(line, "Which colour should the button be?", "{event}");
            }
            ("StopFailure", _) => {
                let said = payload["last_assistant_message"].as_str().unwrap();
                assert_eq!(line, said);
            }
            _ => {}
        }
    }
}
