//! What the Claude Code agent inside a worker is doing, as the dashboard shows it: waiting
//! for the user, working, done, or not running. Shared with the WASM front end.
//!
//! Two sources tell it: Claude Code's hooks (the main signal, `hooks`) and, when they are
//! silent, the tmux pane's text (`screen`).

#[cfg(feature = "server")]
pub mod feed;
pub mod hooks;
#[cfg(feature = "server")]
pub mod prices;
pub mod screen;
pub mod usage;

use serde::{Deserialize, Serialize};

/// Longest `line` kept, in characters: a card shows one line.
pub const MAX_LINE_CHARS: usize = 200;

/// The agent's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentState {
    /// A permission prompt or a question: the agent waits for the user.
    NeedsInput,
    Working,
    /// Finished, waiting for the next prompt.
    Idle,
    /// Stopped by a usage or rate limit; the line says when it resets.
    Limited,
    /// Its last turn ended in an error (the API's, after Claude Code's retries, or no
    /// login): the line says which. It waits for the user to try again.
    Error,
    /// No Claude Code runs in the worker's terminal.
    NoAgent,
}

impl AgentState {
    /// The word the dashboard shows.
    pub fn label(self) -> &'static str {
        match self {
            AgentState::NeedsInput => "needs input",
            AgentState::Working => "working",
            AgentState::Idle => "idle",
            AgentState::Limited => "limit reached",
            AgentState::Error => "error",
            AgentState::NoAgent => "no agent",
        }
    }

    /// The class name the dashboard styles it by.
    pub fn slug(self) -> &'static str {
        match self {
            AgentState::NeedsInput => "needs-input",
            AgentState::Working => "working",
            AgentState::Idle => "idle",
            AgentState::Limited => "limited",
            AgentState::Error => "error",
            AgentState::NoAgent => "no-agent",
        }
    }
}

/// Where a status came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentSource {
    /// A Claude Code hook fired.
    Hook,
    /// Read from the terminal's text.
    Screen,
}

/// The agent's status as the API and the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub state: AgentState,
    /// What the agent asks or said last, one line (for needs-input: the question).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    pub source: AgentSource,
    /// When the state began, seconds since the Unix epoch.
    pub since: i64,
}

/// `text`'s first non-blank line, trimmed and cut to `MAX_LINE_CHARS` (on a character).
pub fn one_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let cut: String = line.chars().take(MAX_LINE_CHARS).collect();
    Some(if cut.len() < line.len() {
        format!("{cut}…")
    } else {
        cut
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_takes_the_first_line_and_cuts_it() {
        assert_eq!(
            one_line("\n  \n  Allow Bash?  \nmore").as_deref(),
            Some("Allow Bash?")
        );
        assert_eq!(one_line("   \n"), None);
        let long = "é".repeat(MAX_LINE_CHARS + 5);
        let cut = one_line(&long).unwrap();
        assert_eq!(cut.chars().count(), MAX_LINE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    #[cfg(feature = "server")]
    fn states_serialise_as_the_api_names_them() {
        let status = AgentStatus {
            state: AgentState::NeedsInput,
            line: Some("Claude needs your permission to use Bash".into()),
            source: AgentSource::Hook,
            since: 1,
        };
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["state"], "needs-input");
        assert_eq!(json["source"], "hook");
    }
}
