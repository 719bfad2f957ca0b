//! The Docker labels that mark our containers, volumes and networks. Labels are the source of
//! truth for which workers exist; every lookup filters on [`INSTANCE`].

/// Which farm owns the object (the instance name); several farms can share one engine.
pub const INSTANCE: &str = "farm.claude-worker.instance";
/// The worker's id (its slug).
pub const ID: &str = "farm.claude-worker.id";
/// The worker's display name.
pub const NAME: &str = "farm.claude-worker.name";
/// The repository cloned into the worker, credentials removed.
pub const GIT_REPO: &str = "farm.claude-worker.git-repo";

/// The worker's memory limit in MiB, and its CPU limit in cores.
pub const MEMORY_MB: &str = "farm.claude-worker.memory-mb";
pub const CPUS: &str = "farm.claude-worker.cpus";

/// What the worker was made with beyond its name (plain env, secret names, model, permission
/// mode, git author), as JSON: `farm::worker::WorkerOptions`. Never a secret's value.
pub const OPTIONS: &str = "farm.claude-worker.options";

/// The port on 127.0.0.1 where the worker's ttyd is published, when `BASE_PORT` is set.
pub const DIRECT_PORT: &str = "farm.claude-worker.direct-port";

/// The `label=` filter value that selects one instance's objects.
pub fn instance_filter(instance: &str) -> String {
    format!("{INSTANCE}={instance}")
}
