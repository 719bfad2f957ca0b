//! A real Redis for tests: `redis-server` (installed by scripts/setup.sh) on a free port with
//! a password, no persistence, stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::support::{free_port, token, PATIENCE};

pub struct RedisServer {
    child: Child,
    pub port: u16,
    pub password: String,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let port = free_port();
        let password = format!("pw-{}", token());
        let child = spawn(port, &password).await;
        RedisServer {
            child,
            port,
            password,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}/0", self.password, self.port)
    }

    /// What `redis-cli` prints for `args`, logged in.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "-a", &self.password])
            .arg("--no-auth-warning")
            .args(args)
            .output()
            .expect("redis-cli comes with redis-server");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stops the server; what it held is gone (it keeps nothing on disk).
    pub fn stop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    /// Starts it again, empty, on the same port with the same password.
    pub async fn restart(&mut self) {
        self.child = spawn(self.port, &self.password).await;
    }
}

/// `redis-server` on `port`, once it accepts connections.
async fn spawn(port: u16, password: &str) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--requirepass", password])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("these tests need redis-server (scripts/setup.sh installs it)");
    let deadline = Instant::now() + PATIENCE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "redis-server did not start");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
