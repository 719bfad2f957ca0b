//! The dashboard server as a library: the route table and the serve loop. `main.rs` only
//! parses settings; tests run the real thing on port 0.

mod api;
mod events;
mod terminal;

use std::future::Future;

use app::{shell, App};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use farm::WorkerService;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

/// Name cargo-leptos gives the WASM, JS and CSS bundles (`name` in Cargo.toml's metadata).
pub const SITE_NAME: &str = "claude-worker-farm";

/// Every route of the dashboard: the REST API, the terminal websockets, the pages and their
/// server functions, and the static files of the site.
pub fn router(service: WorkerService) -> Router {
    let options = LeptosOptions::builder()
        .output_name(SITE_NAME)
        .site_root(service.config().site_root.as_str())
        .site_pkg_dir("pkg")
        .build();
    let api = Router::new()
        .route(farm::events::PATH, get(events::stream))
        .route("/api/workers", get(api::list).post(api::create))
        .route("/api/workers/{id}", get(api::get).delete(api::delete))
        .route("/api/workers/{id}/restart", post(api::restart))
        .route("/api/workers/{id}/logs", get(api::logs))
        .route("/api/workers/{id}/terminal", get(terminal::upgrade))
        .with_state(service.clone());
    let routes = generate_route_list(App);
    // Compression only for the site: it would hold back the streamed logs and terminal bytes.
    let site = Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(service.clone()),
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(CompressionLayer::new());
    Router::new().merge(api).merge(site)
}

/// Serves the dashboard on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    service: WorkerService,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Keystrokes are tiny writes: send them at once rather than batch them (Nagle).
    let listener = listener.tap_io(|tcp| {
        tcp.set_nodelay(true).ok();
    });
    axum::serve(listener, router(service))
        .with_graceful_shutdown(shutdown)
        .await
}
