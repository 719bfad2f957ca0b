//! The `claude-worker-farm` binary: reads settings, connects to Docker, serves until Ctrl-C
//! or SIGTERM. Workers keep running when it stops.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use farm::auth::password::StoredPassword;
use farm::auth::Auth;
use farm::config::{Command, Config};
use farm::WorkerService;
use tokio::net::TcpListener;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Settings may come from `.env` in the working directory; the real environment wins.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: cannot read .env: {e}");
            return ExitCode::FAILURE;
        }
    }
    // Logs go to standard error, coloured only for a person at a terminal.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_filter(filter)
                .with_filter(filter_fn(never_secret)),
        )
        .init();
    let config = Config::parse();
    if let Some(Command::HashPassword) = config.command {
        return hash_password();
    }
    let bind = match config.listen_addr() {
        Ok(bind) => bind,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let tls = match server::tls::from_config(&config) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let service = match WorkerService::start(config).await {
        Ok(service) => service,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let auth = match Auth::from_config(service.config(), bind, service.store()) {
        Ok(auth) => auth,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let login = if auth.enabled() {
        "password required"
    } else {
        "no password: loopback only"
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("dashboard on {scheme}://{bind} ({login})");
    match server::serve(listener, tls, service, auth, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The Docker client logs each request's body below `info`, and a worker's body holds the
/// API key in its environment: those events are never written, whatever `RUST_LOG` asks.
fn never_secret(event: &tracing::Metadata<'_>) -> bool {
    !(event.target().starts_with("bollard") && *event.level() > tracing::Level::INFO)
}

/// `claude-worker-farm hash-password`: reads one line (the password) from standard input and
/// prints its hash for FARM_PASSWORD_HASH.
fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("error: cannot read the password from standard input: {e}");
        return ExitCode::FAILURE;
    }
    match StoredPassword::hash(line.trim_end_matches(['\r', '\n'])) {
        Ok(hash) => {
            println!("{}", hash.phc());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
