//! How a worker's Claude Code runs: its model (`ANTHROPIC_MODEL`, what `--model` sets) and its
//! permission mode (`permissions.defaultMode` in its user settings). Shared with the browser.

use serde::{Deserialize, Serialize};

use crate::worker::InvalidInput;

/// Longest model name, in characters (full names are about 30).
pub const MAX_MODEL_CHARS: usize = 100;

/// Claude Code's permission modes, as its settings spell them (Claude Code 2.1.332 accepts
/// exactly these for `permissions.defaultMode`; `manual` is its alias for `default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PermissionMode {
    Default,
    AcceptEdits,
    Auto,
    Plan,
    DontAsk,
    BypassPermissions,
}

impl PermissionMode {
    pub const ALL: [PermissionMode; 6] = [
        PermissionMode::Default,
        PermissionMode::AcceptEdits,
        PermissionMode::Auto,
        PermissionMode::Plan,
        PermissionMode::DontAsk,
        PermissionMode::BypassPermissions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "acceptEdits",
            PermissionMode::Auto => "auto",
            PermissionMode::Plan => "plan",
            PermissionMode::DontAsk => "dontAsk",
            PermissionMode::BypassPermissions => "bypassPermissions",
        }
    }
}

impl std::str::FromStr for PermissionMode {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        let s = if s == "manual" { "default" } else { s };
        PermissionMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = PermissionMode::ALL.iter().map(|m| m.as_str()).collect();
                InvalidInput(format!(
                    "unknown permission_mode '{}': use one of {}",
                    s.chars().take(32).collect::<String>(),
                    known.join(", ")
                ))
            })
    }
}

impl TryFrom<String> for PermissionMode {
    type Error = InvalidInput;

    fn try_from(s: String) -> Result<Self, InvalidInput> {
        s.parse()
    }
}

impl From<PermissionMode> for String {
    fn from(mode: PermissionMode) -> String {
        mode.as_str().to_owned()
    }
}

/// A model name or alias (`sonnet`, `claude-sonnet-4-5`, `claude-opus-4-1[1m]`): letters,
/// digits and `.-_:@/[]`, as Claude Code and gateways name them.
pub fn check_model(model: &str) -> Result<(), InvalidInput> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_:@/[]".contains(c);
    if model.is_empty() || model.chars().count() > MAX_MODEL_CHARS || !model.chars().all(allowed) {
        return Err(InvalidInput(format!(
            "'{}' is not a model name: use an alias such as sonnet or opus, or a full name such \
             as claude-sonnet-4-5 (letters, digits and .-_:@/[], at most {MAX_MODEL_CHARS})",
            model.chars().take(MAX_MODEL_CHARS).collect::<String>()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_modes_are_claude_codes_own() {
        for mode in PermissionMode::ALL {
            assert_eq!(mode.as_str().parse::<PermissionMode>().unwrap(), mode);
        }
        assert_eq!(
            "manual".parse::<PermissionMode>().unwrap(),
            PermissionMode::Default
        );
        let refused = "yolo".parse::<PermissionMode>().unwrap_err().0;
        assert!(refused.contains("acceptEdits"), "{refused}");
        let json: PermissionMode = serde_json::from_str("\"acceptEdits\"").unwrap();
        assert_eq!(json, PermissionMode::AcceptEdits);
        assert!(serde_json::from_str::<PermissionMode>("\"Plan\"").is_err());
    }

    #[test]
    fn model_names_are_plain() {
        for good in [
            "sonnet",
            "claude-sonnet-4-5",
            "claude-opus-4-1[1m]",
            "us.anthropic.x:0",
        ] {
            assert!(check_model(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "$(id)", "a;b", &"m".repeat(101)] {
            assert!(check_model(bad).is_err(), "{bad}");
        }
    }
}
