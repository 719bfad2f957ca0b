//! Settings of the dashboard, from flags, the environment or a `.env` file. `--help` lists them.

use std::net::SocketAddr;

use clap::Parser;

use crate::limits::{LimitRules, Limits};

/// A value that must never be printed: `Debug` shows only whether it is set.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() {
            "Secret(***)"
        } else {
            "Secret(unset)"
        })
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// Whether the dashboard asks for a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// On when a password is configured or the dashboard listens beyond loopback.
    Auto,
    On,
    /// Off even beyond loopback: only behind a reverse proxy that authenticates.
    Off,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Read a password from standard input and print its hash for FARM_PASSWORD_HASH.
    HashPassword,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "claude-worker-farm",
    version,
    about = "Run many Claude Code terminals in Docker, from one web dashboard"
)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Password of the dashboard as an argon2 hash (`claude-worker-farm hash-password`
    /// makes one). Required when the dashboard listens beyond loopback.
    #[arg(long, env = "FARM_PASSWORD_HASH", hide_env_values = true)]
    pub password_hash: Option<Secret>,

    /// The password itself, hashed at start and then forgotten. FARM_PASSWORD_HASH is better:
    /// it keeps the password out of the environment.
    #[arg(long, env = "FARM_PASSWORD", hide_env_values = true)]
    pub password: Option<Secret>,

    /// Whether the dashboard asks for the password.
    #[arg(long, env = "FARM_AUTH", value_enum, default_value = "auto")]
    pub auth: AuthMode,

    /// Trust X-Forwarded-Host, X-Forwarded-Proto and X-Forwarded-For from a reverse proxy in
    /// front of the dashboard (set it only when one is, and the dashboard is not reachable
    /// around it).
    #[arg(long, env = "FARM_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Folder for what the dashboard keeps on disk without Redis (its login sessions).
    /// [default: $XDG_STATE_HOME/claude-worker-farm, or ~/.local/state/claude-worker-farm]
    #[arg(long, env = "FARM_STATE_DIR")]
    pub state_dir: Option<std::path::PathBuf>,

    /// How long a login lasts, in hours.
    #[arg(long, env = "FARM_SESSION_HOURS", default_value_t = 168)]
    pub session_hours: u64,

    /// Serve https with this certificate chain (PEM, leaf first); needs FARM_TLS_KEY.
    #[arg(long, env = "FARM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key of FARM_TLS_CERT (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "FARM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Address and port the dashboard listens on. Use 0.0.0.0:8080 to reach it from a phone
    /// on your network. [default: 127.0.0.1:8080, or NGINX_HOST:8080]
    #[arg(long, env = "FARM_BIND")]
    pub bind: Option<SocketAddr>,

    /// Host address of the dashboard, as in the original farm's .env: the dashboard listens
    /// on this address, port 8080 (FARM_BIND wins when both are set).
    #[arg(long, env = "NGINX_HOST")]
    pub host: Option<String>,

    /// Redis for shared state, e.g. redis://:password@localhost:6379/0. Without it the state
    /// lives in the dashboard's memory and is rebuilt from Docker on every start.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<Secret>,

    /// Image that workers run (build it with scripts/build-worker-image.sh).
    #[arg(long, env = "WORKER_IMAGE", default_value = "claude-worker:latest")]
    pub worker_image: String,

    /// Other images a worker may ask for (`image` in a create request or a preset), comma
    /// separated; WORKER_IMAGE is always allowed, any other image never.
    #[arg(long, env = "FARM_ALLOWED_IMAGES", value_delimiter = ',')]
    pub allowed_images: Vec<String>,

    /// Author name of the workers' git commits, unless a worker is given its own.
    #[arg(long, env = "FARM_GIT_AUTHOR_NAME")]
    pub git_author_name: Option<String>,

    /// Author email of the workers' git commits, unless a worker is given its own.
    #[arg(long, env = "FARM_GIT_AUTHOR_EMAIL")]
    pub git_author_email: Option<String>,

    /// Name of this farm: prefixes its Docker network and volumes and labels its containers,
    /// so that several farms (or test runs) share one Docker engine without meeting.
    #[arg(long, env = "FARM_INSTANCE", default_value = "claude-farm")]
    pub instance: String,

    /// Anthropic API key handed to every worker; never shown, logged or labelled.
    #[arg(
        long,
        env = "ANTHROPIC_API_KEY",
        hide_env_values = true,
        default_value = ""
    )]
    pub anthropic_api_key: Secret,

    /// Claude subscription token handed to every worker (`claude setup-token` prints one), so
    /// that Claude Code runs on a Pro or Max plan without a login in each worker; never shown,
    /// logged or labelled.
    #[arg(
        long,
        env = "CLAUDE_CODE_OAUTH_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    pub claude_code_oauth_token: Secret,

    /// Where every worker's Claude Code sends its requests instead of Anthropic's API: a
    /// company gateway or proxy (the tests' scripted model). Workers then also skip Claude
    /// Code's non-essential traffic (updates, telemetry), which would go elsewhere.
    #[arg(long, env = "ANTHROPIC_BASE_URL")]
    pub anthropic_base_url: Option<String>,

    /// Also publish each worker's ttyd on 127.0.0.1, from this port up, for debugging with a
    /// plain browser or curl. Off by default: the dashboard's proxy needs no published port.
    #[arg(long, env = "BASE_PORT")]
    pub base_port: Option<u16>,

    /// Most workers that may exist at once.
    #[arg(long, env = "MAX_WORKERS", default_value_t = 20)]
    pub max_workers: usize,

    /// Memory limit of a worker that does not ask for one, in MiB (Claude Code uses ~260 MB,
    /// builds use more).
    #[arg(long, env = "WORKER_MEMORY_MB", default_value_t = 2048)]
    pub worker_memory_mb: u32,

    /// Most memory one worker may ask for, in MiB.
    #[arg(long, env = "WORKER_MEMORY_MAX_MB", default_value_t = 8192)]
    pub worker_memory_max_mb: u32,

    /// CPU limit of a worker that does not ask for one, in cores.
    #[arg(long, env = "WORKER_CPUS", default_value_t = 2.0)]
    pub worker_cpus: f64,

    /// Most CPU cores one worker may ask for.
    #[arg(long, env = "WORKER_CPUS_MAX", default_value_t = 4.0)]
    pub worker_cpus_max: f64,

    /// Memory all workers together may be given, in MiB: a worker whose limit would take the
    /// sum of limits past it is refused. [default: 80% of the Docker engine's memory]
    #[arg(long, env = "FARM_MEMORY_BUDGET_MB")]
    pub memory_budget_mb: Option<u64>,

    /// Follow what the Claude Code agent in each worker does (a small watcher process runs in
    /// every worker for it). `false` leaves agents' status unknown.
    #[arg(long, env = "FARM_AGENT_STATUS", default_value_t = true, action = clap::ArgAction::Set)]
    pub agent_status: bool,

    /// Most processes one worker may run.
    #[arg(long, env = "WORKER_PIDS", default_value_t = 1024)]
    pub worker_pids: i64,

    /// Folder with the built site (pkg/ and static files), as cargo-leptos writes it.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// Port the dashboard uses when only a host is configured (`NGINX_HOST`).
pub const DEFAULT_PORT: u16 = 8080;

impl Config {
    /// Where to listen: `FARM_BIND`, else `NGINX_HOST` on port 8080, else loopback.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        if let Some(bind) = self.bind {
            return Ok(bind);
        }
        let Some(host) = self.host.as_deref().map(str::trim) else {
            return Ok(SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)));
        };
        let host = if host == "localhost" {
            "127.0.0.1"
        } else {
            host
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.parse::<std::net::IpAddr>()
            .map(|ip| SocketAddr::new(ip, DEFAULT_PORT))
            .map_err(|_| {
                format!(
                    "NGINX_HOST must be an IP address of this machine (or localhost), not '{host}'"
                )
            })
    }

    /// What a worker gets unless it asks, and the most it may ask for.
    pub fn limit_rules(&self) -> LimitRules {
        LimitRules {
            default: Limits {
                memory_mb: self.worker_memory_mb,
                cpus: self.worker_cpus,
            },
            max: Limits {
                memory_mb: self.worker_memory_max_mb,
                cpus: self.worker_cpus_max,
            },
        }
    }

    /// Where the embedded store keeps this farm's login sessions; `None` when there is no
    /// home to put them in.
    pub fn sessions_file(&self) -> Option<std::path::PathBuf> {
        self.state_file("sessions")
    }

    /// Where the embedded store keeps this farm's presets; `None` when there is no home.
    pub fn presets_file(&self) -> Option<std::path::PathBuf> {
        self.state_file("presets")
    }

    /// The images a worker may run: WORKER_IMAGE, then FARM_ALLOWED_IMAGES.
    pub fn images(&self) -> Vec<&str> {
        let listed = self.allowed_images.iter().map(|i| i.trim());
        std::iter::once(self.worker_image.as_str())
            .chain(listed)
            .filter(|i| !i.is_empty())
            .collect()
    }

    /// Whether a worker may run `image`: WORKER_IMAGE and FARM_ALLOWED_IMAGES only.
    pub fn image_allowed(&self, image: &str) -> bool {
        self.images().contains(&image)
    }

    fn state_file(&self, what: &str) -> Option<std::path::PathBuf> {
        let dir = self.state_dir.clone().or_else(|| {
            let state_home = std::env::var_os("XDG_STATE_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|home| std::path::PathBuf::from(home).join(".local/state"))
                })?;
            Some(state_home.join("claude-worker-farm"))
        })?;
        Some(dir.join(format!("{}.{what}.json", self.instance)))
    }

    /// The Docker network that workers join.
    pub fn network(&self) -> String {
        format!("{}_workers", self.instance)
    }

    /// The volume mounted at `/shared/repos` (same name docker compose would give it).
    pub fn repos_volume(&self) -> String {
        format!("{}_shared-repos", self.instance)
    }

    /// The volume mounted at `/shared/state`.
    pub fn state_volume(&self) -> String {
        format!("{}_shared-state", self.instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_api_key() {
        let config = Config::parse_from(["farm", "--anthropic-api-key", "sk-ant-very-secret"]);
        let printed = format!("{config:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(printed.contains("Secret(***)"));
        assert_eq!(config.anthropic_api_key.expose(), "sk-ant-very-secret");
    }

    #[test]
    fn the_listen_address_comes_from_bind_or_host() {
        let listen = |args: &[&str]| {
            let mut argv = vec!["farm"];
            argv.extend_from_slice(args);
            Config::parse_from(argv).listen_addr()
        };
        assert_eq!(listen(&[]).unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(
            listen(&["--host", "localhost"]).unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            listen(&["--host", "192.168.1.20"]).unwrap().to_string(),
            "192.168.1.20:8080"
        );
        assert_eq!(
            listen(&["--host", "[::1]"]).unwrap().to_string(),
            "[::1]:8080"
        );
        assert_eq!(
            listen(&["--host", "192.168.1.20", "--bind", "0.0.0.0:9000"])
                .unwrap()
                .to_string(),
            "0.0.0.0:9000"
        );
        let refused = listen(&["--host", "my-laptop.local"]).unwrap_err();
        assert!(refused.contains("NGINX_HOST"), "{refused}");
    }

    #[test]
    fn passwords_are_secrets() {
        let config = Config::parse_from([
            "farm",
            "--password",
            "pw-very-secret",
            "--password-hash",
            "$argon2id$very-secret",
        ]);
        assert!(!format!("{config:?}").contains("very-secret"));
        assert_eq!(config.auth, AuthMode::Auto);
    }

    #[test]
    fn the_subscription_token_is_a_secret() {
        let config = Config::parse_from([
            "farm",
            "--claude-code-oauth-token",
            "sk-ant-oat01-very-secret",
        ]);
        assert!(!format!("{config:?}").contains("very-secret"));
        assert_eq!(
            config.claude_code_oauth_token.expose(),
            "sk-ant-oat01-very-secret"
        );
    }

    #[test]
    fn only_listed_images_are_allowed() {
        let config = Config::parse_from([
            "farm",
            "--worker-image",
            "claude-worker:latest",
            "--allowed-images",
            "claude-worker:rust, claude-worker:node",
        ]);
        for image in [
            "claude-worker:latest",
            "claude-worker:rust",
            "claude-worker:node",
        ] {
            assert!(config.image_allowed(image), "{image}");
        }
        for image in ["alpine", "claude-worker:latest ", ""] {
            assert!(!config.image_allowed(image), "{image}");
        }
    }

    #[test]
    fn the_redis_url_is_a_secret() {
        let config = Config::parse_from(["farm", "--redis-url", "redis://:pw-very-secret@r:6379"]);
        assert!(!format!("{config:?}").contains("very-secret"));
    }

    #[test]
    fn names_derive_from_the_instance() {
        let config = Config::parse_from(["farm", "--instance", "t1"]);
        assert_eq!(config.network(), "t1_workers");
        assert_eq!(config.repos_volume(), "t1_shared-repos");
        assert_eq!(config.state_volume(), "t1_shared-state");
    }
}
