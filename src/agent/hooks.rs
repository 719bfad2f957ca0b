//! Claude Code's hook events, as the worker's hook (`claude-worker/agent-hook.sh`) records
//! them: the fields of the hook's JSON input that tell the state, nothing else (no prompt,
//! no tool input but the question Claude asks the user). Each event maps to the state the
//! agent is in after it.

use serde::Deserialize;

use super::{one_line, AgentState};

/// One recorded hook event. Unknown fields are ignored and missing ones are `None`, so a
/// newer or older Claude Code still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HookEvent {
    /// `hook_event_name`: SessionStart, UserPromptSubmit, PreToolUse, ...
    pub event: String,
    /// Notification: `permission_prompt`, `idle_prompt`, `elicitation_dialog`, ...
    #[serde(default)]
    pub notification_type: Option<String>,
    /// Notification: what Claude Code tells the user.
    #[serde(default)]
    pub message: Option<String>,
    /// PreToolUse, PostToolUse, PermissionRequest: the tool.
    #[serde(default)]
    pub tool_name: Option<String>,
    /// AskUserQuestion's (first) question.
    #[serde(default)]
    pub question: Option<String>,
    /// StopFailure: why the turn failed (`rate_limit`, `server_error`, `authentication_failed`,
    /// `billing_error`, `unknown`, ...).
    #[serde(default)]
    pub error: Option<String>,
    /// Stop, StopFailure: the end of the agent's last message (for a failure, Claude Code's
    /// error message).
    #[serde(default)]
    pub last: Option<String>,
    /// When the hook ran, seconds since the Unix epoch (the worker's clock).
    #[serde(default)]
    pub at: i64,
}

/// The state after `event` and the line to show with it; `None` for events that do not
/// change it (a login succeeded, a subagent started).
pub fn state_after(event: &HookEvent) -> Option<(AgentState, Option<String>)> {
    let state = match event.event.as_str() {
        // A new or resumed session waits for its first prompt.
        "SessionStart" => (AgentState::Idle, None),
        // Claude asks the user a question: its menu is on screen now. (Claude Code 2.1.332
        // then fires PermissionRequest for it, and a `permission_prompt` notification.)
        "PreToolUse" | "PermissionRequest" if event.tool_name.as_deref() == Some(QUESTION_TOOL) => {
            (AgentState::NeedsInput, question_line(event))
        }
        // No line while working: it would change with every tool, and every change of a
        // status reaches every open page.
        "UserPromptSubmit" | "PreToolUse" | "PostToolUse" | "PostToolUseFailure" => {
            (AgentState::Working, None)
        }
        // The permission dialog is on screen.
        "PermissionRequest" => (
            AgentState::NeedsInput,
            match event.tool_name.as_deref().and_then(one_line) {
                Some(tool) => one_line(&format!("Claude wants to use {tool}")),
                None => Some("Claude asks for permission".to_owned()),
            },
        ),
        // The turn ended in an error, after Claude Code's retries: a usage or rate limit
        // (its message says when it resets), or another API error.
        "StopFailure" => {
            let line = last_line(event.last.as_deref());
            match event.error.as_deref() {
                Some("rate_limit") => (
                    AgentState::Limited,
                    line.or_else(|| Some("Usage limit reached".to_owned())),
                ),
                other => (
                    AgentState::Error,
                    line.or_else(|| {
                        one_line(&format!("API error: {}", other.unwrap_or("unknown")))
                    }),
                ),
            }
        }
        "Notification" => return after_notification(event),
        // The answer is complete; the agent waits for the next prompt.
        "Stop" => (AgentState::Idle, last_line(event.last.as_deref())),
        "SessionEnd" => (AgentState::NoAgent, None),
        _ => return None,
    };
    Some(state)
}

/// Notification types the farm reads by their type. Claude Code adds new ones from time to
/// time (2.1 added `agent_needs_input` for its auto-mode notice): any other is read by its
/// message, and the feed logs it.
pub const KNOWN_NOTIFICATIONS: [&str; 5] = [
    "permission_prompt",
    "elicitation_dialog",
    "agent_needs_input",
    "idle_prompt",
    "auth_success",
];

/// Claude Code's tool for asking the user a question with choices.
const QUESTION_TOOL: &str = "AskUserQuestion";

fn question_line(event: &HookEvent) -> Option<String> {
    event
        .question
        .as_deref()
        .and_then(one_line)
        .or_else(|| Some("Claude has a question".to_owned()))
}

fn after_notification(event: &HookEvent) -> Option<(AgentState, Option<String>)> {
    let line = event.message.as_deref().and_then(one_line);
    let state = match event.notification_type.as_deref() {
        Some("permission_prompt" | "elicitation_dialog" | "agent_needs_input") => {
            AgentState::NeedsInput
        }
        // Sent a minute after the agent stopped: it still waits. Its message ("Claude is
        // waiting for your input") says nothing the agent's last line did not.
        Some("idle_prompt") => return Some((AgentState::Idle, None)),
        Some("auth_success") => return None,
        // A type this farm does not know, or a version from before types: the message says.
        _ => {
            let message = line.as_deref().unwrap_or_default().to_ascii_lowercase();
            if message.contains("waiting for your input") {
                AgentState::Idle
            } else if ["permission", "needs your", "your choice", "approv"]
                .iter()
                .any(|asks| message.contains(asks))
            {
                AgentState::NeedsInput
            } else {
                return None;
            }
        }
    };
    Some((state, line))
}

/// The last non-blank line of the agent's last message: where it usually sums up or asks.
fn last_line(text: Option<&str>) -> Option<String> {
    let line = text?.lines().rev().find(|l| !l.trim().is_empty())?;
    one_line(line)
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    fn event(json: &str) -> HookEvent {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_event_gives_its_state() {
        let cases = [
            (r#"{"event":"SessionStart"}"#, Some(AgentState::Idle)),
            (r#"{"event":"UserPromptSubmit"}"#, Some(AgentState::Working)),
            (
                r#"{"event":"PreToolUse","tool_name":"Bash"}"#,
                Some(AgentState::Working),
            ),
            (
                r#"{"event":"PostToolUse","tool_name":"Edit"}"#,
                Some(AgentState::Working),
            ),
            (
                r#"{"event":"PermissionRequest","tool_name":"Bash"}"#,
                Some(AgentState::NeedsInput),
            ),
            (
                r#"{"event":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission to use Bash"}"#,
                Some(AgentState::NeedsInput),
            ),
            (
                r#"{"event":"Notification","notification_type":"elicitation_dialog","message":"Claude has a question"}"#,
                Some(AgentState::NeedsInput),
            ),
            (
                r#"{"event":"Notification","notification_type":"idle_prompt","message":"Claude is waiting for your input"}"#,
                Some(AgentState::Idle),
            ),
            (
                r#"{"event":"Notification","notification_type":"auth_success","message":"Logged in"}"#,
                None,
            ),
            // Claude Code 2.1.332's auto-mode notice, as its hook reported it.
            (
                r#"{"event":"Notification","notification_type":"agent_needs_input","message":"Auto mode can't check actions in this session and needs your choice"}"#,
                Some(AgentState::NeedsInput),
            ),
            // A type from a later release is read by what it says.
            (
                r#"{"event":"Notification","notification_type":"plan_review","message":"Claude needs your approval for the plan"}"#,
                Some(AgentState::NeedsInput),
            ),
            (
                r#"{"event":"Notification","notification_type":"update_ready","message":"Update installed"}"#,
                None,
            ),
            (r#"{"event":"Stop","last":"Done."}"#, Some(AgentState::Idle)),
            (
                r#"{"event":"PreToolUse","tool_name":"AskUserQuestion","question":"Which colour?"}"#,
                Some(AgentState::NeedsInput),
            ),
            (
                r#"{"event":"StopFailure","error":"rate_limit","last":"You've hit your 5-hour limit · resets 8:33am (UTC)"}"#,
                Some(AgentState::Limited),
            ),
            (
                r#"{"event":"StopFailure","error":"server_error"}"#,
                Some(AgentState::Error),
            ),
            (r#"{"event":"SessionEnd"}"#, Some(AgentState::NoAgent)),
            (r#"{"event":"SubagentStart"}"#, None),
            (r#"{"event":""}"#, None),
        ];
        for (json, expected) in cases {
            assert_eq!(
                state_after(&event(json)).map(|(s, _)| s),
                expected,
                "{json}"
            );
        }
    }

    #[test]
    fn the_line_says_what_is_asked_or_said() {
        let asked = event(
            r#"{"event":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission to use Bash\n"}"#,
        );
        assert_eq!(
            state_after(&asked).unwrap().1.as_deref(),
            Some("Claude needs your permission to use Bash")
        );
        let permission = event(r#"{"event":"PermissionRequest","tool_name":"Write"}"#);
        assert_eq!(
            state_after(&permission).unwrap().1.as_deref(),
            Some("Claude wants to use Write")
        );
        let stopped =
            event(r#"{"event":"Stop","last":"I changed two files.\n\nShall I run the tests?\n"}"#);
        assert_eq!(
            state_after(&stopped).unwrap().1.as_deref(),
            Some("Shall I run the tests?")
        );
    }

    #[test]
    fn older_notifications_without_a_type_are_read_from_their_message() {
        let asked = event(
            r#"{"event":"Notification","message":"Claude needs your permission to use Bash"}"#,
        );
        assert_eq!(state_after(&asked).unwrap().0, AgentState::NeedsInput);
        let idle =
            event(r#"{"event":"Notification","message":"Claude is waiting for your input"}"#);
        assert_eq!(state_after(&idle).unwrap().0, AgentState::Idle);
        let other = event(r#"{"event":"Notification","message":"Update available"}"#);
        assert_eq!(state_after(&other), None);
    }

    #[test]
    fn unknown_and_missing_fields_are_fine() {
        let newer = event(r#"{"event":"Stop","at":5,"future_field":{"x":[1,2]}}"#);
        assert_eq!(state_after(&newer), Some((AgentState::Idle, None)));
        assert_eq!(newer.at, 5);
    }
}
