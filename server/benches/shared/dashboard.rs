//! The real dashboard binary for benchmarks, so that its memory is its own, on a free port
//! with a throw-away farm instance that is removed afterwards.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::client;

/// Only turns a hang into a failure.
pub const PATIENCE: Duration = Duration::from_secs(120);

pub struct Dashboard {
    child: Child,
    pub base: String,
    pub instance: String,
}

impl Dashboard {
    /// The dashboard with extra settings (e.g. `["--max-workers", "40"]`); `name` tells the
    /// benchmark's instances apart.
    pub async fn start(name: &str, settings: &[&str]) -> Dashboard {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let instance = format!("cwf-bench-{name}-{}", std::process::id());
        let image = std::env::var("WORKER_IMAGE").unwrap_or_else(|_| "claude-worker:test".into());
        let child = Command::new(env!("CARGO_BIN_EXE_claude-worker-farm"))
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--instance", &instance, "--worker-image", &image])
            .args(settings)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("127.0.0.1:{port}");
        client::wait_for_dashboard(&base, PATIENCE).await;
        Dashboard {
            child,
            base,
            instance,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The dashboard's resident memory, in KiB.
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/remove-instance.sh");
        Command::new(script).arg(&self.instance).status().ok();
    }
}
