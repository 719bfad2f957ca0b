//! The contract between the dashboard and the worker image (`claude-worker/`): each name both
//! sides must spell alike, stated once on the Rust side. The test below reads the image's
//! files and finds each one there.

/// Port ttyd listens on inside every worker (never published on the host but for debugging).
pub const TTYD_PORT: u16 = 7681;
/// The variable that carries the worker's ttyd credential into its container; the entrypoint
/// hands it to ttyd and keeps it from the shell.
pub const CREDENTIAL_VAR: &str = "TTYD_CREDENTIAL";
/// The variable that carries a worker's task; the entrypoint starts Claude Code on it.
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
/// The tmux session every terminal of a worker attaches to, and prompts are typed into.
pub const TMUX_SESSION: &str = "main";
/// The agent watcher installed in the image (`claude-worker/agent-watch.sh`).
pub const WATCH_COMMAND: &str = "/usr/local/bin/claude-worker-agent-watch";

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRYPOINT: &str = include_str!("../claude-worker/entrypoint.sh");
    const DOCKERFILE: &str = include_str!("../claude-worker/Dockerfile");
    const WATCHER: &str = include_str!("../claude-worker/agent-watch.sh");
    const CREDENTIAL_HELPER: &str = include_str!("../claude-worker/git-credential-farm");

    #[test]
    fn the_image_spells_each_name_of_the_contract() {
        for (name, file, text) in [
            (format!("--port {TTYD_PORT}"), "entrypoint.sh", ENTRYPOINT),
            (format!("EXPOSE {TTYD_PORT}"), "Dockerfile", DOCKERFILE),
            (format!("${{{CREDENTIAL_VAR}"), "entrypoint.sh", ENTRYPOINT),
            (format!("${{{TASK_VAR}"), "entrypoint.sh", ENTRYPOINT),
            (
                format!("${GIT_TOKEN_VAR}"),
                "git-credential-farm",
                CREDENTIAL_HELPER,
            ),
            (
                format!("${{{GIT_AUTHOR_NAME_VAR}"),
                "entrypoint.sh",
                ENTRYPOINT,
            ),
            (
                format!("${{{GIT_AUTHOR_EMAIL_VAR}"),
                "entrypoint.sh",
                ENTRYPOINT,
            ),
            (
                format!("${{{PERMISSION_MODE_VAR}"),
                "entrypoint.sh",
                ENTRYPOINT,
            ),
            (format!("-s {TMUX_SESSION} "), "entrypoint.sh", ENTRYPOINT),
            (format!("-t {TMUX_SESSION} "), "agent-watch.sh", WATCHER),
            (
                format!("COPY agent-watch.sh {WATCH_COMMAND}"),
                "Dockerfile",
                DOCKERFILE,
            ),
        ] {
            assert!(text.contains(&name), "claude-worker/{file} has no {name:?}");
        }
        for marker in [
            crate::setup::STARTING,
            crate::setup::CLONING,
            crate::setup::ALREADY_PRESENT,
            crate::setup::CLONE_FAILED,
            crate::setup::TERMINAL_READY,
        ] {
            assert!(
                ENTRYPOINT.contains(marker.trim_end()),
                "claude-worker/entrypoint.sh never prints {marker:?}"
            );
        }
    }
}
