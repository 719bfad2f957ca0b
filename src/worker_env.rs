//! A worker's own environment: the plain variables (`env`, shown back) and the secrets
//! (`secrets`, whose values never leave the worker) a create request may give, and the
//! names the farm keeps for itself. Shared with the browser, which checks the form alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::worker::InvalidInput;

/// Most variables one worker may be given, plain and secret together.
pub const MAX_VARS: usize = 32;
/// Longest variable name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest value, in bytes: a token or a short setting, not a file.
pub const MAX_VALUE_BYTES: usize = 4096;

/// Names the worker's entrypoint, its shell or the farm set; a request may not replace them.
const RESERVED: &[&str] = &[
    "WORKER_ID",
    "TTYD_CREDENTIAL",
    "CLAUDE_TASK",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "CLAUDE_CONFIG_DIR",
    "HOME",
    "PATH",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "TMUX",
    "TMUX_TMPDIR",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
];

/// Prefixes the farm owns, and what to use instead.
const RESERVED_PREFIXES: &[(&str, &str)] = &[
    (
        "ANTHROPIC_",
        "the farm sets Claude Code's API variables itself (ANTHROPIC_API_KEY and \
         ANTHROPIC_BASE_URL from its settings, the model from `model`)",
    ),
    (
        "GIT_",
        "the farm sets git's variables itself (use `git_author_name`, `git_author_email` and \
         `git_token`)",
    ),
    (
        "FARM_",
        "the farm passes its own settings to the worker under FARM_*",
    ),
];

/// A value that is never shown: `Debug` hides it. It travels in a create request and goes
/// into the worker's environment, nowhere else.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        SecretValue(value)
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

/// A variable name the worker may be given: `[A-Za-z_][A-Za-z0-9_]*`, not one the farm owns.
pub fn check_name(name: &str) -> Result<(), InvalidInput> {
    let shown: String = name.chars().take(MAX_NAME_BYTES).collect();
    let mut chars = name.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(InvalidInput(format!(
            "'{shown}' is not a variable name: use letters, digits and _, not starting with a \
             digit (like GH_TOKEN)"
        )));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(InvalidInput(format!(
            "the variable name '{shown}…' is too long: use at most {MAX_NAME_BYTES} characters"
        )));
    }
    if RESERVED.contains(&name) {
        return Err(InvalidInput(format!(
            "{name} is set by the farm itself (the worker relies on it): choose another name"
        )));
    }
    if let Some((prefix, instead)) = RESERVED_PREFIXES.iter().find(|(p, _)| name.starts_with(p)) {
        return Err(InvalidInput(format!(
            "{name} is refused: {instead}; choose a name that does not start with {prefix}"
        )));
    }
    Ok(())
}

/// A value the worker's environment can carry: bounded, without a NUL byte.
pub fn check_value(name: &str, value: &str) -> Result<(), InvalidInput> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(InvalidInput(format!(
            "the value of {name} is too long: use at most {MAX_VALUE_BYTES} bytes"
        )));
    }
    if value.contains('\0') {
        return Err(InvalidInput(format!(
            "the value of {name} contains a NUL character, which an environment cannot hold"
        )));
    }
    Ok(())
}

/// Checks the plain variables and the secrets of one request together: every name and value,
/// no name in both, not too many.
pub fn check_env(
    env: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, SecretValue>,
) -> Result<(), InvalidInput> {
    if env.len() + secrets.len() > MAX_VARS {
        return Err(InvalidInput(format!(
            "too many variables ({}): give a worker at most {MAX_VARS}, env and secrets together",
            env.len() + secrets.len()
        )));
    }
    for (name, value) in env {
        check_name(name)?;
        check_value(name, value)?;
    }
    for (name, value) in secrets {
        check_name(name)?;
        check_value(name, value.expose())?;
        if env.contains_key(name) {
            return Err(InvalidInput(format!(
                "{name} is given both in env and in secrets: give it once"
            )));
        }
    }
    Ok(())
}

/// `NAME=value` lines, as the page's form takes them; blank lines are skipped.
pub fn parse_lines(text: &str, field: &str) -> Result<BTreeMap<String, String>, InvalidInput> {
    let mut vars = BTreeMap::new();
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(InvalidInput(format!(
                "each line of {field} must be NAME=value, like GH_TOKEN=…"
            )));
        };
        let name = name.trim();
        if vars.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(InvalidInput(format!(
                "{name} is given twice in {field}: give it once"
            )));
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn names_are_shell_names() {
        for good in ["GH_TOKEN", "_x", "a1", "NPM_CONFIG_REGISTRY"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "A=B", "É", "A\n"] {
            let refused = check_name(bad).unwrap_err().0;
            assert!(refused.contains("not a variable name"), "{bad}: {refused}");
        }
        assert!(check_name(&"A".repeat(65))
            .unwrap_err()
            .0
            .contains("at most 64"));
    }

    #[test]
    fn names_the_farm_owns_are_refused_with_what_to_use() {
        for name in [
            "HOME",
            "PATH",
            "WORKER_ID",
            "TTYD_CREDENTIAL",
            "CLAUDE_TASK",
        ] {
            let refused = check_name(name).unwrap_err().0;
            assert!(refused.contains("set by the farm"), "{refused}");
        }
        let key = check_name("ANTHROPIC_API_KEY").unwrap_err().0;
        assert!(key.contains("`model`"), "{key}");
        let git = check_name("GIT_AUTHOR_NAME").unwrap_err().0;
        assert!(git.contains("git_author_name"), "{git}");
        assert!(check_name("CLAUDE_CODE_OAUTH_TOKEN").is_err());
        assert!(check_name("FARM_GIT_TOKEN").is_err());
    }

    #[test]
    fn values_and_counts_are_bounded() {
        let none = BTreeMap::new();
        assert!(check_env(&env(&[("A", "x")]), &none).is_ok());
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        assert!(check_env(&env(&[("A", &long)]), &none)
            .unwrap_err()
            .0
            .contains("at most 4096"));
        assert!(check_env(&env(&[("A", "a\0b")]), &none)
            .unwrap_err()
            .0
            .contains("NUL"));
        let many: BTreeMap<_, _> = (0..=MAX_VARS)
            .map(|i| (format!("V{i}"), String::new()))
            .collect();
        assert!(check_env(&many, &none)
            .unwrap_err()
            .0
            .contains("at most 32"));
        let secrets = BTreeMap::from([("A".to_owned(), SecretValue::from("s".to_owned()))]);
        assert!(check_env(&env(&[("A", "x")]), &secrets)
            .unwrap_err()
            .0
            .contains("both in env and in secrets"));
    }

    #[test]
    fn secret_values_never_print() {
        let secret = SecretValue::from("ghp_very_secret".to_owned());
        assert!(!format!("{secret:?}").contains("very_secret"));
    }

    #[test]
    fn form_lines_become_variables() {
        let vars = parse_lines("A=1\n\n B = x=y \r\n", "env").unwrap();
        assert_eq!(vars, env(&[("A", "1"), ("B", " x=y ")]));
        assert!(parse_lines("just words", "env")
            .unwrap_err()
            .0
            .contains("NAME=value"));
        assert!(parse_lines("A=1\nA=2", "env")
            .unwrap_err()
            .0
            .contains("twice"));
    }
}
