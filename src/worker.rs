//! The worker as users see it, and the rules for what they may ask for. Free of Docker and of
//! transport so that the browser build shares it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agent::usage::AgentUsage;
use crate::agent::AgentStatus;
use crate::batch::check_prompt;
use crate::claude_options::{check_model, PermissionMode};
use crate::git_identity::{check_author_email, check_author_name, check_token};
use crate::git_url::check_git_url;
use crate::limits::Limits;
use crate::worker_env::{check_env, SecretValue};

/// Longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest id (slug) derived from a name; Docker names allow far more, people read less.
pub const MAX_ID_CHARS: usize = 40;

/// A worker: one container running Claude Code in a shared tmux session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    /// Stable, URL- and Docker-safe id derived from the name (`My Worker` → `my-worker`).
    pub id: String,
    /// The name as the user typed it.
    pub name: String,
    pub status: WorkerStatus,
    /// Repository cloned into `/shared/repos/<id>`, with any credentials removed.
    pub git_repo: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    /// Page that shows this worker's terminal.
    pub terminal_url: String,
    /// Port on 127.0.0.1 where ttyd answers directly, for debugging (only with `BASE_PORT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_port: Option<u16>,
    /// Memory and CPU the worker may use (absent for containers made before limits were
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// When the kernel last killed one of the worker's processes for want of memory (seconds
    /// since the Unix epoch), until the worker is restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_memory: Option<i64>,
    /// What the Claude Code agent inside is doing, while the worker runs and it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentStatus>,
    /// Tokens and cost of its Claude Code conversations, while it runs and once summed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<AgentUsage>,
    /// The image the worker runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(flatten)]
    pub options: WorkerOptions,
}

/// What a worker was made with beyond its name and repository, as the API shows it: plain
/// variables with their values, secrets by name only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerOptions {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Names of the secrets in the worker's environment; their values are never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<PermissionMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_author_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_author_email: Option<String>,
}

/// Lifecycle state of a worker's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum WorkerStatus {
    Starting,
    /// Running, and still cloning its repository.
    Cloning,
    Running,
    Restarting,
    Paused,
    Stopping,
    Exited {
        code: i64,
    },
    /// Running, but not as asked: the reason says what went wrong and what to do.
    Failed {
        reason: String,
    },
}

impl WorkerStatus {
    /// Short word for badges and CSS classes.
    pub fn label(&self) -> &'static str {
        match self {
            WorkerStatus::Starting => "starting",
            WorkerStatus::Cloning => "cloning",
            WorkerStatus::Running => "running",
            WorkerStatus::Restarting => "restarting",
            WorkerStatus::Paused => "paused",
            WorkerStatus::Stopping => "stopping",
            WorkerStatus::Exited { .. } => "exited",
            WorkerStatus::Failed { .. } => "failed",
        }
    }

    /// What a user should know beyond the badge, in a sentence.
    pub fn detail(&self) -> Option<String> {
        match self {
            WorkerStatus::Cloning => Some("cloning the repository…".into()),
            WorkerStatus::Exited { code } => Some(format!(
                "stopped with exit code {code}: restart it to start a new session"
            )),
            WorkerStatus::Failed { reason } => Some(reason.clone()),
            _ => None,
        }
    }
}

/// What a user asks for when creating a worker. Unknown fields are refused, so a typo such as
/// `git_url` is an error instead of a worker without its repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorker {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub git_repo: Option<String>,
    /// Memory in MiB; the farm's default (`WORKER_MEMORY_MB`) when absent.
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// CPU cores; the farm's default (`WORKER_CPUS`) when absent.
    #[serde(default)]
    pub cpus: Option<f64>,
    /// A task: the worker starts Claude Code on it in its session, in its repository.
    #[serde(default)]
    pub prompt: Option<String>,
    /// A saved preset this request starts from; the request's own fields win over it.
    #[serde(default)]
    pub preset: Option<String>,
    /// One of the images the farm allows (`WORKER_IMAGE`, `FARM_ALLOWED_IMAGES`).
    #[serde(default)]
    pub image: Option<String>,
    /// Plain variables for the worker's environment, shown back by the API.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Variables whose values reach only the worker's environment (`GH_TOKEN`).
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretValue>,
    /// A token git's credential helper answers with for `git_repo` (https only).
    #[serde(default)]
    pub git_token: Option<SecretValue>,
    #[serde(default)]
    pub git_author_name: Option<String>,
    #[serde(default)]
    pub git_author_email: Option<String>,
    /// Claude Code's model (`--model`): an alias such as `sonnet`, or a full name.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub permission_mode: Option<PermissionMode>,
}

/// A request that passed every check, ready to become a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSpec {
    pub id: String,
    pub name: String,
    pub git_repo: Option<String>,
    /// What Claude Code starts on, if anything.
    pub prompt: Option<String>,
    /// The image asked for; the service checks it against the farm's list.
    pub image: Option<String>,
    pub options: WorkerOptions,
    pub secrets: BTreeMap<String, SecretValue>,
    pub git_token: Option<SecretValue>,
}

/// Why a request was refused; the message tells the user what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub String);

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidInput {}

impl NewWorker {
    /// Checks the request. `fallback_id` names a worker whose name is empty or has no
    /// characters a slug can keep (the caller supplies something unique).
    pub fn validate(
        &self,
        fallback_id: impl FnOnce() -> String,
    ) -> Result<WorkerSpec, InvalidInput> {
        let name = self.name.as_deref().map(str::trim).unwrap_or("");
        check_name(name)?;
        let id = slug(name).unwrap_or_else(fallback_id);
        let name = if name.is_empty() {
            id.clone()
        } else {
            name.to_owned()
        };
        let git_repo = match self.git_repo.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(check_git_url(url)?.to_owned()),
        };
        let prompt = match self.prompt.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(task) => {
                check_prompt(task)?;
                Some(task.to_owned())
            }
        };
        check_env(&self.env, &self.secrets)?;
        let model = given(&self.model);
        if let Some(model) = &model {
            check_model(model)?;
        }
        let git_author_name = given(&self.git_author_name);
        if let Some(author) = &git_author_name {
            check_author_name(author)?;
        }
        let git_author_email = given(&self.git_author_email);
        if let Some(email) = &git_author_email {
            check_author_email(email)?;
        }
        let git_token = self.git_token.clone().filter(|t| !t.expose().is_empty());
        if let Some(token) = &git_token {
            check_token(token.expose(), git_repo.as_deref())?;
        }
        Ok(WorkerSpec {
            id,
            name,
            git_repo,
            prompt,
            image: given(&self.image),
            options: WorkerOptions {
                env: self.env.clone(),
                secrets: self.secrets.keys().cloned().collect(),
                model,
                permission_mode: self.permission_mode,
                git_author_name,
                git_author_email,
            },
            secrets: self.secrets.clone(),
            git_token,
        })
    }
}

/// A text field that says something: trimmed, `None` when empty.
fn given(field: &Option<String>) -> Option<String> {
    field
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn check_name(name: &str) -> Result<(), InvalidInput> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(InvalidInput(format!(
            "the name is too long: use at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidInput(
            "the name contains control characters: use letters, digits, spaces and punctuation"
                .into(),
        ));
    }
    Ok(())
}

/// Lower-case ASCII letters and digits joined by single dashes: safe for container, volume
/// and directory names and for URLs. `None` when nothing is left.
pub fn slug(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_ID_CHARS);
    let out = out.trim_end_matches('-');
    (!out.is_empty()).then(|| out.to_owned())
}

/// Is `id` something [`slug`] could have produced? Guards paths and container names built
/// from ids that arrive in URLs.
pub fn is_valid_id(id: &str) -> bool {
    slug(id).as_deref() == Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<WorkerSpec, String> {
        serde_json::from_str::<NewWorker>(json)
            .map_err(|e| e.to_string())?
            .validate(|| "worker-0001".into())
            .map_err(|e| e.0)
    }

    #[test]
    fn env_secrets_and_git_settings_are_checked() {
        let spec = parse(
            r#"{"name": "w", "git_repo": "https://example.com/r.git", "env": {"A": "1"},
                "secrets": {"GH_TOKEN": "ghp_x"}, "git_token": "tok-secret-9",
                "git_author_name": " Ada ", "git_author_email": "ada@example.com",
                "model": "sonnet", "permission_mode": "acceptEdits"}"#,
        )
        .unwrap();
        assert_eq!(spec.options.secrets, vec!["GH_TOKEN".to_owned()]);
        assert_eq!(spec.options.git_author_name.as_deref(), Some("Ada"));
        assert_eq!(
            spec.options.permission_mode,
            Some(PermissionMode::AcceptEdits)
        );
        assert!(!format!("{spec:?}").contains("ghp_x"));
        assert!(!format!("{spec:?}").contains("secret-9"));
        for (bad, says) in [
            (r#"{"env": {"HOME": "/x"}}"#, "set by the farm"),
            (r#"{"secrets": {"A-B": "x"}}"#, "not a variable name"),
            (r#"{"git_token": "t"}"#, "needs a git_repo"),
            (r#"{"model": "a b"}"#, "not a model name"),
            (r#"{"git_author_email": "nobody"}"#, "git_author_email"),
        ] {
            let refused = parse(bad).unwrap_err();
            assert!(refused.contains(says), "{bad}: {refused}");
        }
        assert!(parse(r#"{"permission_mode": "yolo"}"#)
            .unwrap_err()
            .contains("acceptEdits"));
    }

    fn spec(name: Option<&str>, git: Option<&str>) -> Result<WorkerSpec, InvalidInput> {
        NewWorker {
            name: name.map(Into::into),
            git_repo: git.map(Into::into),
            ..Default::default()
        }
        .validate(|| "worker-0001".into())
    }

    #[test]
    fn display_names_become_slugs() {
        let s = spec(Some("  My Worker  "), None).unwrap();
        assert_eq!((s.id.as_str(), s.name.as_str()), ("my-worker", "My Worker"));
        assert_eq!(
            slug("Fix: bug #12 (urgent!)").as_deref(),
            Some("fix-bug-12-urgent")
        );
        assert_eq!(slug("--a__b--").as_deref(), Some("a-b"));
        assert_eq!(slug("日本語"), None);
        assert_eq!(slug(&"x".repeat(100)).unwrap().len(), MAX_ID_CHARS);
    }

    #[test]
    fn empty_or_unsluggable_names_use_the_fallback() {
        assert_eq!(spec(None, None).unwrap().id, "worker-0001");
        let s = spec(Some("日本語"), None).unwrap();
        assert_eq!((s.id.as_str(), s.name.as_str()), ("worker-0001", "日本語"));
    }

    #[test]
    fn bad_names_are_refused_with_a_reason() {
        assert!(spec(Some(&"a".repeat(65)), None)
            .unwrap_err()
            .0
            .contains("at most 64"));
        assert!(spec(Some("a\u{7}b"), None)
            .unwrap_err()
            .0
            .contains("control"));
    }

    #[test]
    fn ids_from_urls_are_checked() {
        assert!(is_valid_id("my-worker"));
        for bad in ["", "My-Worker", "../etc", "a--b", "-a", "a b"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
