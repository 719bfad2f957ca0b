//! Built-in https from a certificate and key (`FARM_TLS_CERT`, `FARM_TLS_KEY`).
//!
//! Handshakes run in their own tasks, never in the accept loop: a client that opens a
//! connection and then says nothing (or says it slowly) must not keep anyone else out. A
//! handshake has a deadline, and only so many may be under way at once.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use farm::config::Config;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A handshake not finished by then is dropped.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// Handshakes under way at once; past that, new connections wait in the kernel's backlog.
const HANDSHAKES_AT_ONCE: usize = 256;
/// Finished handshakes waiting for the server to take them.
const READY_QUEUE: usize = 64;

/// The https settings of `config`, read and checked; `None` when it asks for plain http.
pub fn from_config(config: &Config) -> Result<Option<Arc<ServerConfig>>, String> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => server_config(cert, key).map(Some),
        // Settings parsing already refused one without the other.
        _ => Ok(None),
    }
}

/// Reads the certificate chain and its key, and checks that they belong together, so that
/// a wrong file is a clear error at start and not a failed handshake in the browser.
fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "cannot read the certificate {} (FARM_TLS_CERT, PEM): {e}",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!(
            "no certificate in {} (FARM_TLS_CERT wants PEM: -----BEGIN CERTIFICATE-----)",
            cert.display()
        ));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!(
            "cannot read the private key {} (FARM_TLS_KEY, PEM: PKCS#8, PKCS#1 or SEC1): {e}",
            key.display()
        )
    })?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            format!(
                "the key {} does not fit the certificate {}: {e}",
                key.display(),
                cert.display()
            )
        })?;
    // HTTP/1.1 only: terminals are websockets, and over HTTP/2 a browser would open them
    // with extended CONNECT, a second path through the gate for no gain here.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener that hands the server connections whose TLS handshake has finished.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (ready_tx, ready) = mpsc::channel(READY_QUEUE);
        let accepting = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), ready_tx));
        Ok(TlsListener {
            ready,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // The accept loop owns the socket: the port is free once the server is done.
        self.accepting.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES_AT_ONCE));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(connection) => connection,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!("accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(tls)) => {
                    drop(permit);
                    ready.send((tls, peer)).await.ok();
                }
                Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
            }
        });
    }
}
