//! The outside attack run's findings, each replayed as an attack on the real server: markup
//! in a URL, odd paths, silent and trickling connections, parallel password guesses,
//! over-size websocket frames, options hidden in git URLs, unknown fields in JSON bodies.
//! (Secrets in logs: `secrets.rs`; the injected link in a real browser: the e2e tests.)

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::{api_token, PASSWORD};
use crate::client::open_terminal;
use crate::dashboard_process::Dashboard;
use crate::support::{state_dir, token, InstanceCleanup, TestFarm, PATIENCE};
use crate::{run_until, Socket};

const PAYLOAD: &str = "%3C%2Ftitle%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";

#[tokio::test]
async fn markup_in_a_worker_url_comes_back_as_text_under_a_strict_script_policy() {
    let farm = TestFarm::start().await;
    for path in [
        format!("/workers/{PAYLOAD}"),
        format!("/workers/{PAYLOAD}?x=%3Cb%3E"),
        format!("/{PAYLOAD}"),
    ] {
        let response = farm.get(&path).await;
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = response.text().await.unwrap();
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(!page.contains("</title><script"), "{path}: {page}");
        let script = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {policy}"));
        assert!(!script.contains("unsafe-inline"), "{policy}");
        for directive in ["object-src 'none'", "base-uri 'none'"] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        // Every inline script the page has carries this answer's nonce.
        let nonce = script
            .split_whitespace()
            .find_map(|s| s.strip_prefix("'nonce-"))
            .map(|s| s.trim_end_matches('\''))
            .unwrap_or_else(|| panic!("{path}: no nonce in {script}"));
        for tag in page.split("<script").skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            assert!(
                tag.contains(" src=") || tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: an inline script without the nonce: <script{tag}>"
            );
        }
    }
    let unknown = farm.get(&format!("/workers/{PAYLOAD}")).await.text().await;
    assert!(unknown.unwrap().contains("No such worker"));
    // The login page and the API get the policy too.
    let api = farm.get("/api/workers").await;
    assert!(api.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("object-src 'none'"));
}

#[tokio::test]
async fn no_path_makes_the_server_panic() {
    let farm = TestFarm::start().await;
    let parts = [
        "",
        ".",
        "..",
        "%2e",
        "%2E%2e",
        "workers",
        "api",
        "pkg",
        "a",
        "A-b",
        "%00",
        "%ff",
        "%3Cscript%3E",
        "é",
        "login",
        "rpc",
        "terminal",
        "logs",
        "~",
        "*",
        ";",
        "..;",
    ];
    let mut paths = vec!["/./".to_owned(), "/.".to_owned(), "/workers/x/".to_owned()];
    // Every pair and a sample of triples of the parts above, with and without a trailing
    // slash: over two thousand paths.
    for a in parts {
        for b in parts {
            paths.push(format!("/{a}/{b}"));
            paths.push(format!("/{a}/{b}/"));
            for c in ["workers", "..", "", "terminal"] {
                paths.push(format!("/{a}/{b}/{c}"));
            }
        }
    }
    paths.push(format!("/workers/{}", "a".repeat(10_000)));
    for path in &paths {
        for method in ["GET", "POST", "DELETE"] {
            // Sent raw: an HTTP client's URL parser would resolve the dot segments.
            let answer = send_raw_path(&farm.base, method, path).await;
            let status = answer.unwrap_or_else(|e| panic!("{method} {path}: no answer ({e})"));
            assert!(
                status < 500 || status == 502 || status == 503,
                "{method} {path}: {status}"
            );
        }
    }
}

/// Sends `method path` as it is (no normalising client in between) and returns the status.
async fn send_raw_path(base: &str, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(base).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {base}\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed before an answer (a panic?)"));
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {line}")))
}

/// The session cookie of a login through the API, for a browser-like client.
async fn session_cookie(base: &str) -> String {
    format!("cwf_session={}", api_token(base).await)
}

#[tokio::test]
async fn thousands_of_silent_connections_do_not_keep_a_logged_in_user_out() {
    // The test holds thousands of sockets open, and so does the farm in this process.
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let farm = TestFarm::start_with(&["--password", PASSWORD]).await;
    let cookie = session_cookie(&farm.base).await;
    let http = reqwest::Client::new();
    let created = http
        .post(farm.url("/api/workers"))
        .header("cookie", &cookie)
        .header("origin", farm.url(""))
        .json(&json!({ "name": "crowded" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // 2,000 connections that say nothing, from the user's own address.
    let mut silent = Vec::new();
    for _ in 0..2000 {
        silent.push(TcpStream::connect(&farm.base).await.unwrap());
    }
    // A client that trickles its headers, a byte at a time.
    let mut trickler = TcpStream::connect(&farm.base).await.unwrap();
    trickler.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();

    // The user's page, server function and terminal still work meanwhile.
    let page = http
        .get(farm.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let origin = farm.url("");
    let mut terminal = open_terminal(
        &farm.base,
        "crowded",
        &[("cookie", &cookie), ("origin", &origin)],
    )
    .await
    .unwrap();
    let mark = token();
    run_until(
        &mut terminal,
        &format!("echo crowd-{mark}\r"),
        &format!("crowd-{mark}"),
    )
    .await;

    // Most of the silent ones were closed to make room; the trickler is dropped at its
    // header deadline, however many bytes it sends.
    let mut still_open = 0;
    for stream in silent {
        let mut byte = [0u8; 1];
        let mut stream = stream.into_std().unwrap();
        match std::io::Read::read(&mut stream, &mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => still_open += 1,
            _ => {}
        }
    }
    assert!(
        still_open <= farm_caps().per_address,
        "{still_open} silent connections still open"
    );
    let dropped = async {
        let mut buf = [0u8; 256];
        loop {
            if trickler.write_all(b"X").await.is_err() {
                return;
            }
            match tokio::time::timeout(Duration::from_secs(1), trickler.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(_)) | Err(_) => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, dropped)
        .await
        .expect("a client that trickles its headers is never dropped");
}

fn farm_caps() -> server::connections::Caps {
    server::connections::Caps::for_this_process(false)
}

#[tokio::test]
async fn a_hundred_parallel_wrong_passwords_get_at_most_the_limit_checked() {
    let farm = TestFarm::start_with(&["--password", PASSWORD]).await;
    let http = reqwest::Client::new();
    let guesses = (0..100).map(|n| {
        let request = http
            .post(farm.url("/api/login"))
            .json(&json!({ "password": format!("guess number {n}") }));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    });
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("a guess answered {other}"),
        }
    }
    assert_eq!(checked, farm::auth::limiter::PER_CLIENT);
}

/// The dashboard's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn over_size_websocket_frames_are_refused_with_1009_and_hold_no_memory() {
    let instance = format!("cwf-test-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    let dashboard = Dashboard::start(&instance, &["--state-dir", &state_dir()]).await;
    let base = dashboard.base.clone();
    let created = reqwest::Client::new()
        .post(format!("http://{base}/api/workers"))
        .json(&json!({ "name": "big frames" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    // The terminal answers before the attack starts.
    let mut warm = open_terminal(&base, "big-frames", &[]).await.unwrap();
    let mark = token();
    run_until(
        &mut warm,
        &format!("echo warm-{mark}\r"),
        &format!("warm-{mark}"),
    )
    .await;
    let before = resident_kib(dashboard.pid());

    // Twenty viewers each announce a 16 MiB frame, send its first 4 MiB and stall.
    let mut closes = Vec::new();
    for _ in 0..20 {
        let mut socket = open_terminal(&base, "big-frames", &[]).await.unwrap();
        announce_big_frame(&mut socket).await;
        closes.push(socket);
    }
    for socket in &mut closes {
        let close = tokio::time::timeout(PATIENCE, close_code(socket))
            .await
            .expect("an over-size frame was never answered");
        assert_eq!(close, Some(CloseCode::Size), "not closed with 1009");
    }
    let after = resident_kib(dashboard.pid());
    // Without the frame cap each of them could make the dashboard hold 16 MiB.
    let grown_mib = after.saturating_sub(before) / 1024;
    assert!(
        grown_mib < 20,
        "the dashboard grew by {grown_mib} MiB for 20 over-size frames"
    );
    // And an over-size message in ordinary frames is refused the same way.
    let mut socket = open_terminal(&base, "big-frames", &[]).await.unwrap();
    let big = vec![b'0'; (1 << 20) + 1];
    futures_util::SinkExt::send(&mut socket, Message::binary(big))
        .await
        .ok();
    let close = tokio::time::timeout(PATIENCE, close_code(&mut socket))
        .await
        .expect("an over-size message was never answered");
    assert_eq!(close, Some(CloseCode::Size));
    // The terminal still works for everyone else.
    run_until(
        &mut warm,
        &format!("echo after-{mark}\r"),
        &format!("after-{mark}"),
    )
    .await;
}

/// Writes the header of a masked 16 MiB binary frame and its first 4 MiB, straight to the
/// socket under the websocket.
async fn announce_big_frame(socket: &mut Socket) {
    let mut frame = vec![0x82, 0x80 | 127];
    frame.extend_from_slice(&(16u64 << 20).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.resize(frame.len() + (4 << 20), b'x');
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = socket.get_mut() else {
        panic!("plain http here");
    };
    // The dashboard may close before taking all of it: that is the point.
    tcp.write_all(&frame).await.ok();
}

/// The close code the server sends, if any, before the socket ends.
async fn close_code(socket: &mut Socket) -> Option<CloseCode> {
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

#[tokio::test]
async fn options_hidden_in_git_urls_and_unknown_fields_are_refused() {
    let farm = TestFarm::start().await;
    for url in [
        "ssh://host:-oProxyCommand=touch%20/tmp/pwned/repo",
        "ssh://-oProxyCommand=x@host/repo",
        "git@host:-oProxyCommand=x",
        "https://host:port/repo",
    ] {
        let response = farm
            .post(
                "/api/workers",
                &json!({ "name": "hooked", "git_repo": url }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("git URL"),
            "{url}: {body}"
        );
    }
    assert!(
        farm.containers().is_empty(),
        "a refused create left a container"
    );

    // One rule for every JSON body: a field the route does not know is an error.
    for (path, body) in [
        ("/api/workers", json!({ "name": "x", "force": true })),
        (
            "/api/workers/batch",
            json!({ "ids": ["a"], "action": "delete", "force": true }),
        ),
        (
            "/api/workers/batch",
            json!({ "ids": ["a"], "action": "prompt", "text": "hi", "enter": false }),
        ),
        ("/api/login", json!({ "password": "x", "remember": true })),
    ] {
        let response = farm.post(path, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        let answer: Value = response.json().await.unwrap();
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains("unknown field"), "{path} {body}: {error}");
    }
}
