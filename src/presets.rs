//! Named presets: what a create request may leave out because a saved preset says it (image,
//! limits, environment, repository, model, permission mode). A preset is kept in the farm's
//! store, so it never holds a secret: one is refused with what to do instead. Shared with the
//! browser, which checks a preset as the user fills it in.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::claude_options::{check_model, PermissionMode};
use crate::git_url::{check_git_url, redact_credentials};
use crate::worker::{is_valid_id, InvalidInput, NewWorker};
use crate::worker_env::check_env;

/// Most presets one farm keeps.
pub const MAX_PRESETS: usize = 100;

/// What in a variable's name says it holds a secret, which a preset must not: anywhere in the
/// name, or (`KEY`) as one of its `_`-separated words.
const SECRET_PARTS: &[&str] = &["TOKEN", "SECRET", "PASSW", "CREDENTIAL", "APIKEY"];
const SECRET_WORDS: &[&str] = &["KEY", "PAT"];

/// `PUT /api/presets/{name}` `{"image"?, "memory_mb"?, "cpus"?, "env"?, "git_repo"?,
/// "model"?, "permission_mode"?}`. Read through [`PresetWire`], so that a secret sent by
/// mistake gets a refusal that says where it belongs instead of "unknown field".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PresetWire")]
pub struct Preset {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<PermissionMode>,
}

/// A preset as it arrives: the secret fields of a create request are named so that they can
/// be refused by name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetWire {
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    memory_mb: Option<u32>,
    #[serde(default)]
    cpus: Option<f64>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    git_repo: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    permission_mode: Option<PermissionMode>,
    #[serde(default)]
    secrets: Option<IgnoredAny>,
    #[serde(default)]
    git_token: Option<IgnoredAny>,
}

impl TryFrom<PresetWire> for Preset {
    type Error = InvalidInput;

    fn try_from(wire: PresetWire) -> Result<Preset, InvalidInput> {
        if wire.secrets.is_some() || wire.git_token.is_some() {
            return Err(InvalidInput(
                "a preset never holds secrets (it is saved in the farm's store): leave out \
                 secrets and git_token, and give them in each create request"
                    .into(),
            ));
        }
        let text =
            |field: Option<String>| field.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let preset = Preset {
            image: text(wire.image),
            memory_mb: wire.memory_mb,
            cpus: wire.cpus,
            env: wire.env,
            git_repo: text(wire.git_repo),
            model: text(wire.model),
            permission_mode: wire.permission_mode,
        };
        preset.check()?;
        Ok(preset)
    }
}

impl Preset {
    /// The checks that need no farm settings (the image and the limits need them: the
    /// service checks those).
    pub fn check(&self) -> Result<(), InvalidInput> {
        check_env(&self.env, &BTreeMap::new())?;
        if let Some(name) = self.env.keys().find(|name| looks_secret(name)) {
            return Err(InvalidInput(format!(
                "{name} looks like a secret, and a preset is saved in the farm's store: give it \
                 in secrets when creating the worker"
            )));
        }
        if let Some(repo) = &self.git_repo {
            check_git_url(repo)?;
            if redact_credentials(repo) != *repo {
                return Err(InvalidInput(
                    "the preset's git_repo carries credentials: save the URL without them and \
                     give git_token when creating the worker"
                        .into(),
                ));
            }
        }
        if let Some(model) = &self.model {
            check_model(model)?;
        }
        Ok(())
    }

    /// `request` filled in from this preset: what the request says wins, variable by
    /// variable for `env`.
    pub fn under(&self, mut request: NewWorker) -> NewWorker {
        let mut env = self.env.clone();
        env.append(&mut request.env);
        request.env = env;
        request.image = request.image.or_else(|| self.image.clone());
        request.memory_mb = request.memory_mb.or(self.memory_mb);
        request.cpus = request.cpus.or(self.cpus);
        if request
            .git_repo
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
        {
            request.git_repo = self.git_repo.clone();
        }
        if request.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            request.model = self.model.clone();
        }
        request.permission_mode = request.permission_mode.or(self.permission_mode);
        request
    }
}

/// A preset's name: what a worker id may be (lower-case letters, digits, single dashes).
pub fn check_preset_name(name: &str) -> Result<(), InvalidInput> {
    if is_valid_id(name) {
        Ok(())
    } else {
        Err(InvalidInput(format!(
            "'{}' is not a preset name: use lower-case letters, digits and dashes, like \
             rust-fixer",
            name.chars().take(40).collect::<String>()
        )))
    }
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_PARTS.iter().any(|part| upper.contains(part))
        || upper.split('_').any(|word| SECRET_WORDS.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(json: &str) -> Result<Preset, String> {
        serde_json::from_str::<Preset>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn presets_refuse_secrets_with_what_to_do() {
        for json in [r#"{"secrets": {"GH_TOKEN": "x"}}"#, r#"{"git_token": "x"}"#] {
            let refused = preset(json).unwrap_err();
            assert!(refused.contains("never holds secrets"), "{refused}");
        }
        for name in [
            "GH_TOKEN",
            "NPM_AUTH_TOKEN",
            "DB_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "APIKEY",
        ] {
            let refused = preset(&format!(r#"{{"env": {{"{name}": "x"}}}}"#)).unwrap_err();
            assert!(refused.contains("looks like a secret"), "{name}: {refused}");
        }
        let refused = preset(r#"{"git_repo": "https://me:pw@example.com/r.git"}"#).unwrap_err();
        assert!(refused.contains("carries credentials"), "{refused}");
        assert!(preset(r#"{"env": {"KEYBOARD_LAYOUT": "us", "MONKEY": "1"}}"#).is_ok());
        assert!(preset(r#"{"colour": "red"}"#)
            .unwrap_err()
            .contains("unknown field"));
    }

    #[test]
    fn the_request_wins_over_the_preset() {
        let saved = preset(
            r#"{"env": {"A": "preset", "B": "preset"}, "model": "opus", "memory_mb": 1024,
                "git_repo": "https://example.com/r.git", "permission_mode": "plan"}"#,
        )
        .unwrap();
        let request = NewWorker {
            env: BTreeMap::from([("B".to_owned(), "request".to_owned())]),
            model: Some("sonnet".into()),
            ..Default::default()
        };
        let merged = saved.under(request);
        assert_eq!(merged.env["A"], "preset");
        assert_eq!(merged.env["B"], "request");
        assert_eq!(merged.model.as_deref(), Some("sonnet"));
        assert_eq!(merged.memory_mb, Some(1024));
        assert_eq!(
            merged.git_repo.as_deref(),
            Some("https://example.com/r.git")
        );
        assert_eq!(merged.permission_mode, Some(PermissionMode::Plan));
    }

    #[test]
    fn preset_names_are_slugs() {
        assert!(check_preset_name("rust-fixer").is_ok());
        for bad in ["", "Rust", "a b", "../x", "-a"] {
            assert!(check_preset_name(bad).is_err(), "{bad}");
        }
    }
}
