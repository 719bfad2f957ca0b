//! The dashboard server as a library: the route table and the serve loop. `main.rs` only
//! parses settings; tests run the real thing on port 0.

mod api;
mod events;
mod guard;
mod login;
mod policy;
mod terminal;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use app::{shell, App};
use axum::routing::{get, post};
use axum::serve::{Listener, ListenerExt};
use axum::Router;
use farm::auth::Auth;
use farm::config::AuthMode;
use farm::WorkerService;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tower_http::compression::CompressionLayer;

pub use guard::Guard;
use tls::TlsListener;

/// Name cargo-leptos gives the WASM, JS and CSS bundles (`name` in Cargo.toml's metadata).
pub const SITE_NAME: &str = "claude-worker-farm";

/// Every route of the dashboard: the REST API, the terminal websockets, the pages and their
/// server functions, the login, and the static files of the site; all behind the gate.
/// `https` tells that the dashboard itself serves https (its cookies are then `Secure`).
pub fn router(service: WorkerService, auth: Auth, https: bool) -> Router {
    let config = service.config();
    let guard = Guard {
        loopback_only: !auth.enabled() && config.auth != AuthMode::Off,
        trust_proxy: config.trust_proxy,
        serves_https: https,
        auth,
    };
    let options = LeptosOptions::builder()
        .output_name(SITE_NAME)
        .site_root(service.config().site_root.as_str())
        .site_pkg_dir("pkg")
        .build();
    let api = Router::new()
        .route(farm::events::PATH, get(events::stream))
        .route("/api/farm", get(api::usage))
        .route("/api/workers", get(api::list).post(api::create))
        .route("/api/workers/batch", post(api::batch))
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
            {
                let auth = guard.auth.clone();
                move || {
                    provide_context(service.clone());
                    provide_context(auth.clone());
                    policy::for_page();
                }
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            policy::for_page,
            shell,
        ))
        .with_state(options)
        .layer(CompressionLayer::new());
    let login = Router::new()
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/api/login", post(login::api_login))
        .route("/api/logout", post(login::api_logout))
        .with_state(guard.clone());
    let routes = Router::new()
        .merge(api)
        .merge(login)
        .merge(site)
        .layer(axum::middleware::from_fn_with_state(guard, guard::check));
    policy::layers(routes)
}

/// Serves the dashboard on `listener` until `shutdown` completes: https when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    service: WorkerService,
    auth: Auth,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let https = tls.is_some();
    let app = router(service, auth, https);
    match tls {
        Some(tls) => serve_on(TlsListener::new(listener, tls)?, app, shutdown).await,
        None => serve_on(listener, app, shutdown).await,
    }
}

async fn serve_on<L>(
    listener: L,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    L::Io: OverTcp,
{
    // Keystrokes are tiny writes: send them at once rather than batch them (Nagle).
    let listener = listener.tap_io(|io| {
        io.tcp().set_nodelay(true).ok();
    });
    // The peer's address counts wrong passwords per client.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A connection of the dashboard, plain or with TLS, and the TCP stream it runs on.
trait OverTcp {
    fn tcp(&self) -> &TcpStream;
}

impl OverTcp for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl OverTcp for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}
