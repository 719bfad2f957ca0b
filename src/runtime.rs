//! The Docker engine, seen through the few operations the farm needs. Everything bollard
//! lives here; the service above reads like the product.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::exec::StartExecResults;
use bollard::models::{
    ContainerCreateBody, ContainerSummary, ContainerSummaryStateEnum, HostConfig,
    HostConfigLogConfig, NetworkCreateRequest, PortBinding, RestartPolicy, RestartPolicyNameEnum,
    VolumeCreateRequest,
};
use bollard::models::{ContainerStatsResponse, ExecConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, EventsOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RestartContainerOptionsBuilder,
    StatsOptionsBuilder,
};
use bollard::Docker;
use futures_util::{Stream, StreamExt};

use crate::config::{Config, Secret};
use crate::error::FarmError;
use crate::gauges::Gauge;
use crate::git_url::redact_credentials;
use crate::labels;
use crate::limits::Limits;
use crate::worker::{WorkerOptions, WorkerSpec, WorkerStatus};

/// Seconds a worker gets to stop on restart before it is killed; tmux and ttyd stop at once.
pub const RESTART_GRACE_SECS: i32 = 5;
/// Port ttyd listens on inside every worker (never published on the host).
pub const TTYD_PORT: u16 = 7681;
/// The variable that carries the worker's ttyd credential into its container.
pub const CREDENTIAL_VAR: &str = "TTYD_CREDENTIAL";
/// The environment variable that carries a worker's task (`claude-worker/entrypoint.sh` starts
/// Claude Code on it).
pub const TASK_VAR: &str = "CLAUDE_TASK";
/// The variable that carries the worker's git token to git's credential helper
/// (`claude-worker/git-credential-farm`).
pub const GIT_TOKEN_VAR: &str = "FARM_GIT_TOKEN";
/// The variables the entrypoint writes into the worker's git configuration as its author.
pub const GIT_AUTHOR_NAME_VAR: &str = "FARM_GIT_AUTHOR_NAME";
pub const GIT_AUTHOR_EMAIL_VAR: &str = "FARM_GIT_AUTHOR_EMAIL";
/// The variable the entrypoint writes into Claude Code's settings as `permissions.defaultMode`.
pub const PERMISSION_MODE_VAR: &str = "FARM_PERMISSION_MODE";
/// Prefix of every worker container's name: `docker logs claude-worker-<id>` works.
pub const CONTAINER_PREFIX: &str = "claude-worker-";

/// A worker container as Docker reports it.
#[derive(Debug, Clone)]
pub struct WorkerContainer {
    pub id: String,
    pub name: String,
    pub git_repo: Option<String>,
    pub status: WorkerStatus,
    pub created: i64,
    pub direct_port: Option<u16>,
    pub limits: Option<Limits>,
    pub image: Option<String>,
    pub options: WorkerOptions,
}

/// Where a worker's ttyd answers, and the credential it asks for (none for a container made
/// before workers had one).
#[derive(Debug, Clone)]
pub struct TerminalTarget {
    pub addr: SocketAddr,
    /// `user:password` for ttyd's `--credential`; only the dashboard's proxy uses it.
    pub credential: Option<Secret>,
}

/// Something that happened to one of this farm's containers.
#[derive(Debug, Clone)]
pub struct ContainerEvent {
    /// Docker's word for it: `create`, `start`, `die`, `destroy`, `oom`…
    pub action: String,
    /// `None` for a container of ours without a worker id label (made by hand).
    pub worker: Option<String>,
    pub has_git_repo: bool,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

/// Which part of a container's output to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogRange {
    /// The last this many lines; `None` for all.
    pub tail: Option<usize>,
    /// Only lines printed from this time on (seconds since the Unix epoch; 0: from the start).
    pub since: i64,
    /// Keep the stream open for what comes next, until the container stops.
    pub follow: bool,
}

/// What removing a container did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    AlreadyGone,
}

#[derive(Clone)]
pub struct DockerRuntime {
    docker: Docker,
    config: Config,
}

impl DockerRuntime {
    /// The farm instance whose containers this runtime sees.
    pub fn instance(&self) -> &str {
        &self.config.instance
    }

    /// Connects through `DOCKER_HOST` or the default socket and agrees on an API version
    /// (bollard's default is newer than Docker 20.10 speaks).
    pub async fn connect(config: Config) -> Result<Self, FarmError> {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| FarmError::DockerUnavailable(e.to_string()))?
            .negotiate_version()
            .await
            .map_err(|e| FarmError::DockerUnavailable(e.to_string()))?;
        Ok(DockerRuntime { docker, config })
    }

    /// Creates the workers' network and shared volumes if they do not exist yet.
    pub async fn prepare(&self) -> Result<(), FarmError> {
        let owned = HashMap::from([(labels::INSTANCE.to_owned(), self.config.instance.clone())]);
        let network = self.config.network();
        if self.docker.inspect_network(&network, None).await.is_err() {
            let request = NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".into()),
                labels: Some(owned.clone()),
                ..Default::default()
            };
            match self.docker.create_network(request).await {
                Ok(_) => tracing::info!(%network, "created the workers' network"),
                Err(e) if status_of(&e) == Some(409) => {}
                Err(e) => return Err(docker_error(e)),
            }
        }
        for name in [self.config.repos_volume(), self.config.state_volume()] {
            let request = VolumeCreateRequest {
                name: Some(name),
                labels: Some(owned.clone()),
                ..Default::default()
            };
            self.docker
                .create_volume(request)
                .await
                .map_err(docker_error)?;
        }
        Ok(())
    }

    pub async fn image_exists(&self, image: &str) -> Result<bool, FarmError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// Creates the container of a worker, not started yet. It counts towards the farm's
    /// limit and reserves the worker's name from here on.
    pub async fn create_worker(
        &self,
        spec: &WorkerSpec,
        limits: Limits,
        direct_port: Option<u16>,
    ) -> Result<(), FarmError> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&container_name(&spec.id))
            .build();
        match self
            .docker
            .create_container(
                Some(options),
                self.container_body(spec, limits, direct_port),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(409) => Err(FarmError::AlreadyExists(spec.id.clone())),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// Starts a created worker. If it cannot start, its container is removed again: no
    /// half-created worker stays behind.
    pub async fn start_worker(&self, id: &str) -> Result<(), FarmError> {
        if let Err(e) = self.docker.start_container(&container_name(id), None).await {
            self.remove_worker(id).await.ok();
            return Err(docker_error(e));
        }
        Ok(())
    }

    fn container_body(
        &self,
        spec: &WorkerSpec,
        limits: Limits,
        direct_port: Option<u16>,
    ) -> ContainerCreateBody {
        let c = &self.config;
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

    /// Every worker container of this farm, running or not, oldest first.
    pub async fn list_workers(&self) -> Result<Vec<WorkerContainer>, FarmError> {
        let filters = HashMap::from([(
            "label",
            vec![labels::instance_filter(&self.config.instance)],
        )]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(docker_error)?;
        let mut workers: Vec<_> = summaries.iter().filter_map(worker_from_summary).collect();
        workers.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok(workers)
    }

    pub async fn remove_worker(&self, id: &str) -> Result<Removal, FarmError> {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match self
            .docker
            .remove_container(&container_name(id), Some(options))
            .await
        {
            Ok(()) => Ok(Removal::Removed),
            Err(e) if status_of(&e) == Some(404) => Ok(Removal::AlreadyGone),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// Restarts the container: a new tmux session; the volumes under /shared keep their data.
    pub async fn restart_worker(&self, id: &str) -> Result<(), FarmError> {
        let options = RestartContainerOptionsBuilder::default()
            .t(RESTART_GRACE_SECS)
            .build();
        match self
            .docker
            .restart_container(&container_name(id), Some(options))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Err(FarmError::NotFound(id.to_owned())),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// One item per change to any of this farm's containers (created, started, died,
    /// restarted, removed…); ends when the connection to the engine drops.
    pub fn container_events(
        &self,
    ) -> impl Stream<Item = Result<ContainerEvent, FarmError>> + Send + 'static {
        let filters = HashMap::from([
            ("type", vec!["container".to_owned()]),
            (
                "label",
                vec![labels::instance_filter(&self.config.instance)],
            ),
        ]);
        let options = EventsOptionsBuilder::default().filters(&filters).build();
        self.docker.events(Some(options)).map(|event| {
            let event = event.map_err(docker_error)?;
            let attributes = event.actor.and_then(|a| a.attributes).unwrap_or_default();
            Ok(ContainerEvent {
                worker: attributes.get(labels::ID).cloned(),
                has_git_repo: attributes.contains_key(labels::GIT_REPO),
                action: event.action.unwrap_or_default(),
                time: event.time.unwrap_or_default(),
            })
        })
    }

    /// The container's output (entrypoint, clone, ttyd) in `range`, and with `follow`
    /// everything it prints afterwards until it stops.
    pub fn logs(
        &self,
        id: &str,
        range: LogRange,
    ) -> impl Stream<Item = Result<axum::body::Bytes, FarmError>> + Send + 'static {
        let tail = range
            .tail
            .map_or_else(|| "all".to_owned(), |n| n.to_string());
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(range.follow)
            .since(i32::try_from(range.since).unwrap_or(i32::MAX))
            .tail(&tail)
            .build();
        self.docker
            .logs(&container_name(id), Some(options))
            .map(|chunk| {
                chunk
                    .map(|output| output.into_bytes())
                    .map_err(docker_error)
            })
    }

    /// The memory of the machine the engine runs on, in MiB.
    pub async fn engine_memory_mb(&self) -> Result<u64, FarmError> {
        let info = self.docker.info().await.map_err(docker_error)?;
        let bytes = info.mem_total.unwrap_or_default().max(0) as u64;
        Ok(bytes / (1024 * 1024))
    }

    /// The worker's CPU and memory, about once a second, until it stops.
    pub fn stats(&self, id: &str) -> impl Stream<Item = Result<Gauge, FarmError>> + Send + 'static {
        let options = StatsOptionsBuilder::default()
            .stream(true)
            .one_shot(false)
            .build();
        self.docker
            .stats(&container_name(id), Some(options))
            .map(|reading| reading.map(|r| gauge_of(&r)).map_err(docker_error))
    }

    /// Whether the worker's container is running (`false` when it is gone).
    pub async fn is_running(&self, id: &str) -> Result<bool, FarmError> {
        match self
            .docker
            .inspect_container(&container_name(id), None)
            .await
        {
            Ok(inspect) => Ok(inspect.state.and_then(|s| s.running).unwrap_or(false)),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(docker_error(e)),
        }
    }

    /// Runs `command` in the worker (as its user) and streams what it prints on standard
    /// output, until the command ends or the container stops; dropping the stream closes the
    /// command's standard input. The worker only ever writes into this stream: it gets no
    /// way into the dashboard.
    pub async fn exec_output(
        &self,
        id: &str,
        command: &[&str],
    ) -> Result<impl Stream<Item = Result<axum::body::Bytes, FarmError>> + Send + 'static, FarmError>
    {
        let exec = self.create_exec(id, command, true).await?;
        let started = self
            .docker
            .start_exec(&exec, None)
            .await
            .map_err(|e| self.exec_error(id, e))?;
        let StartExecResults::Attached { output, input } = started else {
            return Err(FarmError::Docker("the command did not attach".into()));
        };
        Ok(output
            .filter_map(|chunk| async move {
                match chunk {
                    Ok(LogOutput::StdOut { message }) => Some(Ok(message)),
                    Ok(_) => None,
                    Err(e) => Some(Err(docker_error(e))),
                }
            })
            // The command's standard input stays open, and silent, for as long as its output
            // is read; it closes with the stream, which tells the command to end.
            .map(move |chunk| {
                let _open = &input;
                chunk
            }))
    }

    /// Runs `command` in the worker (as its user) to its end; returns its exit code.
    pub async fn exec(&self, id: &str, command: &[&str]) -> Result<i64, FarmError> {
        let exec = self.create_exec(id, command, false).await?;
        if let StartExecResults::Attached { mut output, .. } = self
            .docker
            .start_exec(&exec, None)
            .await
            .map_err(|e| self.exec_error(id, e))?
        {
            while output.next().await.is_some() {}
        }
        let inspect = self
            .docker
            .inspect_exec(&exec)
            .await
            .map_err(docker_error)?;
        Ok(inspect.exit_code.unwrap_or(-1))
    }

    async fn create_exec(
        &self,
        id: &str,
        command: &[&str],
        stdin: bool,
    ) -> Result<String, FarmError> {
        let config = ExecConfig {
            cmd: Some(command.iter().map(|part| (*part).to_owned()).collect()),
            attach_stdin: Some(stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(&container_name(id), config)
            .await
            .map_err(|e| self.exec_error(id, e))?;
        Ok(created.id)
    }

    fn exec_error(&self, id: &str, e: DockerError) -> FarmError {
        match status_of(&e) {
            Some(404) => FarmError::NotFound(id.to_owned()),
            Some(409) => {
                FarmError::TerminalUnreachable(id.to_owned(), "the worker is not running".into())
            }
            _ => docker_error(e),
        }
    }

    /// Where the worker's ttyd listens, on the workers' network, and its credential.
    pub async fn terminal(&self, id: &str) -> Result<TerminalTarget, FarmError> {
        let inspect = match self
            .docker
            .inspect_container(&container_name(id), None)
            .await
        {
            Ok(inspect) => inspect,
            Err(e) if status_of(&e) == Some(404) => return Err(FarmError::NotFound(id.to_owned())),
            Err(e) => return Err(docker_error(e)),
        };
        let ours = inspect
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(labels::INSTANCE))
            .is_some_and(|i| *i == self.config.instance);
        if !ours {
            return Err(FarmError::NotFound(id.to_owned()));
        }
        let credential = inspect
            .config
            .as_ref()
            .and_then(|c| c.env.as_ref())
            .and_then(|env| {
                env.iter()
                    .find_map(|var| var.strip_prefix(CREDENTIAL_VAR)?.strip_prefix('='))
            })
            .map(|value| Secret::from(value.to_owned()));
        let ip = inspect
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(&self.config.network()))
            .and_then(|endpoint| endpoint.ip_address)
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .ok_or_else(|| {
                FarmError::TerminalUnreachable(id.to_owned(), "the worker is not running".into())
            })?;
        Ok(TerminalTarget {
            addr: SocketAddr::new(ip, TTYD_PORT),
            credential,
        })
    }
}

pub fn container_name(id: &str) -> String {
    format!("{CONTAINER_PREFIX}{id}")
}

fn worker_from_summary(summary: &ContainerSummary) -> Option<WorkerContainer> {
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

/// CPU as Docker's own `docker stats` works it out (the share of the machine's time since
/// the previous reading, in cores), memory without the page cache it could drop.
fn gauge_of(reading: &ContainerStatsResponse) -> Gauge {
    let total = |s: Option<&bollard::models::ContainerCpuStats>| {
        let s = s?;
        Some((s.cpu_usage.as_ref()?.total_usage?, s.system_cpu_usage?))
    };
    let cpu_percent = match (
        total(reading.cpu_stats.as_ref()),
        total(reading.precpu_stats.as_ref()),
    ) {
        (Some((used, system)), Some((used_before, system_before))) if system > system_before => {
            let cores = reading
                .cpu_stats
                .as_ref()
                .and_then(|s| s.online_cpus)
                .unwrap_or(1);
            let share = used.saturating_sub(used_before) as f64 / (system - system_before) as f64;
            (share * f64::from(cores) * 100.0) as f32
        }
        _ => 0.0,
    };
    let memory = reading.memory_stats.as_ref();
    let cache = memory
        .and_then(|m| m.stats.as_ref())
        .and_then(|s| {
            s.get("inactive_file")
                .or_else(|| s.get("total_inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    let used = memory
        .and_then(|m| m.usage)
        .unwrap_or(0)
        .saturating_sub(cache);
    let limit = memory.and_then(|m| m.limit).unwrap_or(0);
    let mib = |bytes: u64| u32::try_from(bytes / (1024 * 1024)).unwrap_or(u32::MAX);
    Gauge {
        cpu_percent,
        memory_mb: mib(used),
        memory_limit_mb: mib(limit),
    }
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

fn status_of(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn docker_error(e: DockerError) -> FarmError {
    match e {
        DockerError::DockerResponseServerError { message, .. } => FarmError::Docker(message),
        other => FarmError::DockerUnavailable(other.to_string()),
    }
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
