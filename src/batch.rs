//! One action for several workers at once: the same prompt typed into each one's session,
//! or all restarted, or all deleted; each worker gets its own result. Shared with the
//! browser, which checks a request as the user makes it.

use serde::{Deserialize, Serialize};

use crate::worker::{is_valid_id, InvalidInput};

/// Most workers one request may name (the farm's own limit is lower by default).
pub const MAX_IDS: usize = 100;
/// Longest prompt, in characters.
pub const MAX_PROMPT_CHARS: usize = 10_000;

/// `{"ids": ["a", "b"], "action": "prompt", "text": "run the tests"}`, or
/// `"action": "restart"` / `"delete"`. Read through [`WireRequest`]: serde cannot refuse
/// unknown fields beside a flattened enum, and a typo such as `"force": true` must be an
/// error, not ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireRequest")]
pub struct BatchRequest {
    pub ids: Vec<String>,
    #[serde(flatten)]
    pub action: BatchAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum BatchAction {
    /// Typed into the worker's tmux session, then Enter.
    Prompt {
        text: String,
    },
    Restart,
    Delete,
}

/// The request as it arrives, every field named: anything else is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    ids: Vec<String>,
    action: String,
    #[serde(default)]
    text: Option<String>,
}

impl TryFrom<WireRequest> for BatchRequest {
    type Error = InvalidInput;

    fn try_from(wire: WireRequest) -> Result<BatchRequest, InvalidInput> {
        let action = match (wire.action.as_str(), wire.text) {
            ("prompt", Some(text)) => BatchAction::Prompt { text },
            ("prompt", None) => {
                return Err(InvalidInput(
                    "a prompt needs its text: add \"text\": \"…\"".into(),
                ))
            }
            ("restart" | "delete", Some(_)) => {
                return Err(InvalidInput(format!(
                    "\"text\" goes only with \"action\": \"prompt\", not \"{}\"",
                    wire.action
                )))
            }
            ("restart", None) => BatchAction::Restart,
            ("delete", None) => BatchAction::Delete,
            (other, _) => {
                return Err(InvalidInput(format!(
                    "unknown action '{}': use \"prompt\", \"restart\" or \"delete\"",
                    other.chars().take(32).collect::<String>()
                )))
            }
        };
        Ok(BatchRequest {
            ids: wire.ids,
            action,
        })
    }
}

/// What happened to one worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    pub id: String,
    pub ok: bool,
    /// What went wrong, said for a person, and its stable code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl BatchRequest {
    /// The request as a whole must make sense; each worker may still fail on its own.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if self.ids.is_empty() {
            return Err(InvalidInput("choose at least one worker (ids)".into()));
        }
        if self.ids.len() > MAX_IDS {
            return Err(InvalidInput(format!(
                "at most {MAX_IDS} workers at once, not {}",
                self.ids.len()
            )));
        }
        for (i, id) in self.ids.iter().enumerate() {
            if !is_valid_id(id) {
                return Err(InvalidInput(format!(
                    "'{}' is not a worker id (lowercase letters, digits and dashes)",
                    id.chars().take(64).collect::<String>()
                )));
            }
            if self.ids[..i].contains(id) {
                return Err(InvalidInput(format!("worker '{id}' is named twice")));
            }
        }
        if let BatchAction::Prompt { text } = &self.action {
            check_prompt(text)?;
        }
        Ok(())
    }
}

/// A prompt is one line of text: it is typed as keys, and a line break would send it early.
pub fn check_prompt(text: &str) -> Result<(), InvalidInput> {
    if text.trim().is_empty() {
        return Err(InvalidInput(
            "the prompt is empty: type what to send".into(),
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_PROMPT_CHARS {
        return Err(InvalidInput(format!(
            "the prompt is {chars} characters long; at most {MAX_PROMPT_CHARS}"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(InvalidInput(
            "the prompt must be one line, without control characters: it is typed into each \
             terminal and Enter is pressed after it"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(ids: &[&str], text: &str) -> BatchRequest {
        BatchRequest {
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            action: BatchAction::Prompt { text: text.into() },
        }
    }

    #[test]
    fn good_requests_pass() {
        assert!(prompt(&["a", "b-2"], "run the tests").validate().is_ok());
        let restart = BatchRequest {
            ids: vec!["a".into()],
            action: BatchAction::Restart,
        };
        assert!(restart.validate().is_ok());
    }

    #[test]
    fn bad_requests_say_what_to_fix() {
        let cases = [
            (prompt(&[], "x"), "at least one"),
            (prompt(&["a", "a"], "x"), "named twice"),
            (prompt(&["../etc"], "x"), "not a worker id"),
            (prompt(&["--help"], "x"), "not a worker id"),
            (prompt(&["a"], "  "), "empty"),
            (prompt(&["a"], "two\nlines"), "one line"),
            (prompt(&["a"], "esc \u{1b}[2J"), "control"),
            (prompt(&["a"], &"x".repeat(MAX_PROMPT_CHARS + 1)), "at most"),
        ];
        for (request, expected) in cases {
            let error = request.validate().unwrap_err().0;
            assert!(error.contains(expected), "{request:?}: {error}");
        }
        let many: Vec<String> = (0..=MAX_IDS).map(|i| format!("w{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(prompt(&many, "x").validate().is_err());
    }

    #[test]
    #[cfg(feature = "server")]
    fn the_wire_format_is_flat() {
        let request: BatchRequest =
            serde_json::from_str(r#"{"ids":["a"],"action":"prompt","text":"hi"}"#).unwrap();
        assert_eq!(request, prompt(&["a"], "hi"));
        let delete: BatchRequest =
            serde_json::from_str(r#"{"ids":["a"],"action":"delete"}"#).unwrap();
        assert_eq!(delete.action, BatchAction::Delete);
        for (body, expected) in [
            (r#"{"ids":["a"],"action":"format"}"#, "unknown action"),
            (
                r#"{"ids":["a"],"action":"delete","force":true}"#,
                "unknown field `force`",
            ),
            (r#"{"ids":["a"],"action":"prompt"}"#, "needs its text"),
            (
                r#"{"ids":["a"],"action":"restart","text":"x"}"#,
                "only with",
            ),
        ] {
            let error = serde_json::from_str::<BatchRequest>(body).unwrap_err();
            assert!(error.to_string().contains(expected), "{body}: {error}");
        }
        // What the page sends comes back the same.
        let sent = serde_json::to_string(&prompt(&["a"], "hi")).unwrap();
        assert_eq!(
            serde_json::from_str::<BatchRequest>(&sent).unwrap(),
            prompt(&["a"], "hi")
        );
    }
}
