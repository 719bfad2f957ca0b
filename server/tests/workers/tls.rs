//! Built-in https (`--tls-cert`, `--tls-key`) with a self-signed certificate made by the
//! openssl command: pages, API, login cookie and terminals over TLS, plain http refused,
//! clients that never finish a handshake keep no one else out, bad files refused at start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clap::Parser;
use farm::config::Config;
use reqwest::header::SET_COOKIE;
use reqwest::{redirect, StatusCode};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_tungstenite::Connector;

use crate::client::open_terminal_at;
use crate::run_until;
use crate::support::{token, TestFarm};

const PASSWORD: &str = "a long test password";

/// A certificate and key for `localhost` and `127.0.0.1` in a fresh folder.
struct Certificate {
    dir: PathBuf,
}

impl Certificate {
    fn new() -> Certificate {
        let dir = std::env::temp_dir().join(format!("cwf-tls-{}", token()));
        std::fs::create_dir_all(&dir).unwrap();
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
            ])
            .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            // A server's own certificate, not a CA's (which rustls clients refuse to meet).
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .output()
            .expect("these tests need the openssl command (scripts/setup.sh installs it)");
        assert!(made.status.success(), "{made:?}");
        Certificate { dir }
    }

    fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    /// A client set-up that trusts this certificate only.
    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(self.cert()).unwrap())
            .unwrap();
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    fn http(&self) -> reqwest::Client {
        let pem = std::fs::read(self.cert()).unwrap();
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .redirect(redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The login page's status over https.
    async fn login_page(&self, base: &str) -> StatusCode {
        self.http()
            .get(format!("https://{base}/login"))
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn farm(&self) -> TestFarm {
        let (cert, key) = (self.cert(), self.key());
        TestFarm::start_with(&[
            "--password",
            PASSWORD,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ])
        .await
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

#[tokio::test]
async fn https_serves_the_login_the_api_and_terminals() {
    let certificate = Certificate::new();
    let farm = certificate.farm().await;
    let https = certificate.http();
    let url = |path: &str| format!("https://{}{path}", farm.base);

    // The page asks for the login, over https.
    let page = https.get(url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);

    // The browser's login: its cookie is Secure, since the dashboard itself serves https.
    let login = https
        .post(url("/login"))
        .form(&[("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let dashboard = https
        .get(url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard
        .text()
        .await
        .unwrap()
        .contains("Claude Worker Farm"));

    // A script's token, a worker, and its terminal over wss through the proxy.
    let login: Value = https
        .post(url("/api/login"))
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", login["token"].as_str().unwrap());
    let created = https
        .post(url("/api/workers"))
        .header("authorization", &bearer)
        .json(&json!({ "name": "over-tls" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let origin = format!("https://{}", farm.base);
    let mut terminal = open_terminal_at(
        &format!("wss://{}", farm.base),
        "over-tls",
        &[("cookie", &cookie), ("origin", &origin)],
        Some(Connector::Rustls(certificate.client_config())),
    )
    .await
    .unwrap();
    run_until(&mut terminal, "echo tls-$((20+22))\r", "tls-42").await;

    // Another site's page still may not open it, https or not.
    let foreign = open_terminal_at(
        &format!("wss://{}", farm.base),
        "over-tls",
        &[("cookie", &cookie), ("origin", "https://evil.example")],
        Some(Connector::Rustls(certificate.client_config())),
    )
    .await;
    assert!(foreign.is_err(), "a foreign origin opened a terminal");
}

#[tokio::test]
async fn plain_http_to_the_https_port_gets_nothing() {
    let certificate = Certificate::new();
    let farm = certificate.farm().await;
    let plain = reqwest::get(format!("http://{}/api/workers", farm.base)).await;
    assert!(plain.is_err(), "plain http was answered: {plain:?}");
    // And the dashboard still serves https afterwards.
    assert_eq!(certificate.login_page(&farm.base).await, StatusCode::OK);
}

/// Handshakes happen beside the accept loop: connections that never say a word do not keep
/// a real client waiting until they time out.
#[tokio::test]
async fn silent_connections_keep_no_one_out() {
    let certificate = Certificate::new();
    let farm = certificate.farm().await;
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(tokio::net::TcpStream::connect(&farm.base).await.unwrap());
    }
    // One that starts a handshake and stops half-way is no different.
    let mut half = tokio::net::TcpStream::connect(&farm.base).await.unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
        .await
        .unwrap();

    assert_eq!(certificate.login_page(&farm.base).await, StatusCode::OK);
    // The silent ones are still waiting for their handshake: the answer did not wait for
    // their deadline to pass.
    for stream in silent.iter().chain([&half]) {
        let mut byte = [0u8; 1];
        match stream.try_read(&mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("a silent connection was already closed: {other:?}"),
        }
    }
}

#[test]
fn a_certificate_without_a_key_or_with_the_wrong_key_is_refused_at_start() {
    let without_key = Config::try_parse_from(["farm", "--tls-cert", "cert.pem"]).unwrap_err();
    assert!(
        without_key.to_string().contains("--tls-key"),
        "{without_key}"
    );

    let one = Certificate::new();
    let other = Certificate::new();
    let wrong_key = refusal(&one.cert(), &other.key());
    assert!(wrong_key.contains("does not fit"), "{wrong_key}");

    let missing = refusal(Path::new("/nonexistent/cert.pem"), &one.key());
    assert!(missing.contains("/nonexistent/cert.pem"), "{missing}");
    assert!(missing.contains("FARM_TLS_CERT"), "{missing}");

    // A key where the certificate should be, and the other way round.
    let swapped = refusal(&one.key(), &one.cert());
    assert!(swapped.contains("no certificate in"), "{swapped}");
}

fn refusal(cert: &Path, key: &Path) -> String {
    let config = Config::parse_from([
        "farm",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    server::tls::from_config(&config).unwrap_err()
}
