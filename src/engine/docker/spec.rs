//! What a worker's container is made of (image, environment, labels, limits, hardening),
//! and how a listed container reads back as a worker.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, ContainerSummary, ContainerSummaryStateEnum, HostConfig,
    HostConfigLogConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};

use crate::config::Config;
use crate::engine::WorkerContainer;
use crate::git_url::redact_credentials;
use crate::labels;
use crate::limits::Limits;
use crate::worker::{WorkerOptions, WorkerSpec, WorkerStatus};
use crate::worker_image::{
    CREDENTIAL_VAR, GIT_AUTHOR_EMAIL_VAR, GIT_AUTHOR_NAME_VAR, GIT_TOKEN_VAR, PERMISSION_MODE_VAR,
    TASK_VAR, TTYD_PORT,
};

pub(super) fn container_body(
    c: &Config,
    spec: &WorkerSpec,
    limits: Limits,
    direct_port: Option<u16>,
) -> ContainerCreateBody {
    // The request's own variables first; they cannot name any the farm sets below
    // (`farm::worker_env` refuses those).
    let mut env: Vec<String> = spec
        .options
        .env
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .chain(
            spec.secrets
                .iter()
                .map(|(name, value)| format!("{name}={}", value.expose())),
        )
        .collect();
    env.extend([
        format!("WORKER_ID={}", spec.id),
        "TERM=xterm-256color".into(),
        // Other workers share the network: without this, any of them could open this
        // worker's terminal. The entrypoint hands it to ttyd and keeps it from the shell.
        format!("{CREDENTIAL_VAR}=worker:{}", new_credential()),
    ]);
    if let Some(repo) = &spec.git_repo {
        env.push(format!("GIT_REPO={repo}"));
    }
    if let Some(token) = &spec.git_token {
        env.push(format!("{GIT_TOKEN_VAR}={}", token.expose()));
    }
    let options = &spec.options;
    if let Some(name) = &options.git_author_name {
        env.push(format!("{GIT_AUTHOR_NAME_VAR}={name}"));
    }
    if let Some(email) = &options.git_author_email {
        env.push(format!("{GIT_AUTHOR_EMAIL_VAR}={email}"));
    }
    if let Some(model) = &options.model {
        env.push(format!("ANTHROPIC_MODEL={model}"));
    }
    if let Some(mode) = options.permission_mode {
        env.push(format!("{PERMISSION_MODE_VAR}={}", mode.as_str()));
    }
    if let Some(prompt) = &spec.prompt {
        env.push(format!("{TASK_VAR}={prompt}"));
    }
    if c.anthropic_api_key.is_set() {
        env.push(format!(
            "ANTHROPIC_API_KEY={}",
            c.anthropic_api_key.expose()
        ));
    }
    if c.claude_code_oauth_token.is_set() {
        env.push(format!(
            "CLAUDE_CODE_OAUTH_TOKEN={}",
            c.claude_code_oauth_token.expose()
        ));
    }
    if let Some(url) = &c.anthropic_base_url {
        env.push(format!("ANTHROPIC_BASE_URL={url}"));
        env.push("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1".into());
    }
    // Our labels go in last so nothing a user supplies can override them.
    let mut labels = HashMap::new();
    if let Some(repo) = &spec.git_repo {
        labels.insert(labels::GIT_REPO.to_owned(), redact_credentials(repo));
    }
    if let Some(port) = direct_port {
        labels.insert(labels::DIRECT_PORT.to_owned(), port.to_string());
    }
    if *options != WorkerOptions::default() {
        let json = serde_json::to_string(options).expect("options always serialise");
        labels.insert(labels::OPTIONS.to_owned(), json);
    }
    labels.insert(labels::MEMORY_MB.to_owned(), limits.memory_mb.to_string());
    labels.insert(labels::CPUS.to_owned(), limits.cpus.to_string());
    labels.insert(labels::NAME.to_owned(), spec.name.clone());
    labels.insert(labels::ID.to_owned(), spec.id.clone());
    labels.insert(labels::INSTANCE.to_owned(), c.instance.clone());
    let ttyd = format!("{TTYD_PORT}/tcp");
    // Loopback only: a debugging aid for this machine, never a way in from the network.
    let port_bindings = direct_port.map(|port| {
        let binding = PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(port.to_string()),
        };
        HashMap::from([(ttyd.clone(), Some(vec![binding]))])
    });
    ContainerCreateBody {
        image: Some(spec.image.clone().unwrap_or_else(|| c.worker_image.clone())),
        exposed_ports: Some(vec![ttyd]),
        hostname: Some(spec.id.clone()),
        env: Some(env),
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some(c.network()),
            port_bindings,
            binds: Some(vec![
                format!("{}:/shared/repos", c.repos_volume()),
                format!("{}:/shared/state", c.state_volume()),
            ]),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            memory: Some(i64::from(limits.memory_mb) * 1024 * 1024),
            // No swap beyond the memory limit: over it, the worker is OOM-killed and says so.
            memory_swap: Some(i64::from(limits.memory_mb) * 1024 * 1024),
            nano_cpus: Some((limits.cpus * 1e9) as i64),
            pids_limit: Some(c.worker_pids),
            // The worker runs as an unprivileged user and needs no capabilities.
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            // A chatty worker must not fill the host's disk with its log.
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(HashMap::from([
                    ("max-size".to_owned(), "10m".to_owned()),
                    ("max-file".to_owned(), "3".to_owned()),
                ])),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(super) fn worker_from_summary(summary: &ContainerSummary) -> Option<WorkerContainer> {
    let labels = summary.labels.as_ref()?;
    let id = labels.get(labels::ID)?.clone();
    let status = match summary.state {
        Some(ContainerSummaryStateEnum::RUNNING) => WorkerStatus::Running,
        Some(ContainerSummaryStateEnum::RESTARTING) => WorkerStatus::Restarting,
        Some(ContainerSummaryStateEnum::PAUSED) => WorkerStatus::Paused,
        Some(ContainerSummaryStateEnum::REMOVING | ContainerSummaryStateEnum::STOPPING) => {
            WorkerStatus::Stopping
        }
        Some(ContainerSummaryStateEnum::EXITED | ContainerSummaryStateEnum::DEAD) => {
            WorkerStatus::Exited {
                code: exit_code(summary.status.as_deref().unwrap_or("")),
            }
        }
        _ => WorkerStatus::Starting,
    };
    Some(WorkerContainer {
        name: labels
            .get(labels::NAME)
            .cloned()
            .unwrap_or_else(|| id.clone()),
        git_repo: labels.get(labels::GIT_REPO).cloned(),
        direct_port: labels.get(labels::DIRECT_PORT).and_then(|p| p.parse().ok()),
        limits: limits_from(labels),
        image: summary.image.clone(),
        // What cannot be read (a label from another version) shows as nothing, not an error.
        options: labels
            .get(labels::OPTIONS)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default(),
        id,
        status,
        created: summary.created.unwrap_or_default(),
    })
}

/// 128 random bits, as hex: a password no other worker can guess.
fn new_credential() -> String {
    use rand::Rng;
    format!("{:032x}", rand::rng().random::<u128>())
}

/// The limits recorded in a worker's labels; `None` for a container made before they were.
fn limits_from(labels: &HashMap<String, String>) -> Option<Limits> {
    Some(Limits {
        memory_mb: labels.get(labels::MEMORY_MB)?.parse().ok()?,
        cpus: labels.get(labels::CPUS)?.parse().ok()?,
    })
}

/// Docker's list gives the exit code only inside its status text: "Exited (137) 3 minutes ago".
fn exit_code(status: &str) -> i64 {
    status
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(code, _)| code.parse().ok())
        .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_read_from_status_text() {
        assert_eq!(exit_code("Exited (137) 3 minutes ago"), 137);
        assert_eq!(exit_code("Exited (0) Less than a second ago"), 0);
        assert_eq!(exit_code("Dead"), -1);
    }
}
