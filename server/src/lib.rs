//! The dashboard server as a library: the route table and the serve loop. `main.rs` only
//! parses settings; tests run the real thing on port 0.

mod api;
pub mod connections;
mod events;
mod guard;
mod login;
mod paths;
mod policy;
mod presets;
mod terminal;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::{shell, App};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::{get, post};
use axum::serve::Listener;
use axum::{Extension, Router};
use farm::auth::Auth;
use farm::config::AuthMode;
use farm::service::WorkersFeed;
use farm::WorkerService;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tower::Service;
use tower_http::compression::CompressionLayer;

use connections::{Caps, Gate, HEADER_READ_TIMEOUT};
pub use guard::Guard;
use tls::TlsListener;

/// Most a request's head may take in memory (hyper's default is about 400 KB): with
/// hundreds of connections trickling headers, that is what each may hold.
const MAX_HEADER_BYTES: usize = 32 * 1024;

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
        .route("/api/presets", get(presets::list))
        .route(
            "/api/presets/{name}",
            get(presets::get).put(presets::put).delete(presets::delete),
        )
        .layer(Extension(WorkersFeed::start(&service)))
        .with_state(service.clone());
    let routes = generate_route_list(App);
    // What every page and server function renders with, the "not found" page included.
    let context = {
        let auth = guard.auth.clone();
        move || {
            provide_context(service.clone());
            provide_context(auth.clone());
            policy::for_page();
        }
    };
    // Compression only for the site: it would hold back the streamed logs and terminal bytes.
    let site = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
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
        .layer(axum::middleware::from_fn_with_state(guard, guard::check))
        .layer(axum::middleware::from_fn(paths::canonical));
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
    let caps = Caps::for_this_process(service.config().trust_proxy);
    let app = router(service, auth, https);
    match tls {
        Some(tls) => serve_on(TlsListener::new(listener, tls)?, app, caps, shutdown).await,
        None => serve_on(listener, app, caps, shutdown).await,
    }
}

/// How long open requests get to finish once the dashboard is asked to stop; terminals and
/// event streams never finish by themselves.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The accept loop: every connection passes the gate (`connections`), gets a deadline for
/// its headers, and is served over HTTP/1.1 with upgrades (the terminals' websockets).
async fn serve_on<L>(
    mut listener: L,
    app: Router,
    caps: Caps,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    L::Io: OverTcp,
{
    let gate = Gate::new(caps);
    // Told to every connection when the dashboard stops; each holds `alive` until it ends.
    let (stopping, stop) = watch::channel(false);
    let (alive, mut all_ended) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Some(mut ticket) = gate.admit(peer.ip()) else {
            tracing::warn!(%peer, "refused a connection: {} are open", caps.total);
            continue;
        };
        // Keystrokes are tiny writes: send them at once rather than batch them (Nagle).
        io.tcp().set_nodelay(true).ok();
        let service = {
            let app = app.clone();
            let connection = ticket.connection.clone();
            service_fn(move |mut request: Request<Incoming>| {
                // The peer's address counts wrong passwords per client; the connection
                // learns from the gate whether a login came on it.
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(connection.clone());
                app.clone().call(request.map(Body::new))
            })
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_buf_size(MAX_HEADER_BYTES)
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        let mut stop = stop.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                () = ticket.closed() => return,
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
            // Stopping: the request under way may finish, no other starts.
            connection.as_mut().graceful_shutdown();
            connection.await.ok();
            drop(alive);
        });
    }
    stopping.send(true).ok();
    drop(alive);
    tokio::time::timeout(SHUTDOWN_GRACE, all_ended.recv())
        .await
        .ok();
    Ok(())
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
