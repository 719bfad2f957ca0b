//! Core of Claude Worker Farm: the worker domain (shared with the WASM front end) and, with
//! the `server` feature, the Docker runtime, the worker service and the terminal proxy that
//! the dashboard's REST API and server functions both go through.

pub mod agent;
pub mod batch;
pub mod claude_options;
pub mod close_codes;
pub mod events;
pub mod gauges;
pub mod git_identity;
pub mod git_url;
pub mod limits;
pub mod presets;
pub mod ttyd;
pub mod worker;
pub mod worker_env;

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod labels;
#[cfg(feature = "server")]
pub mod proxy;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod setup;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod worker_image;

#[cfg(feature = "server")]
pub use error::FarmError;
#[cfg(feature = "server")]
pub use service::WorkerService;
