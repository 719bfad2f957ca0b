//! Authentication, Origin and Host checks on the real server: nothing is served without a
//! login, a login opens pages, API, event stream and terminals, logout closes them (open
//! ones included), wrong passwords are rate-limited per client, other sites are refused.

use std::process::{Command, Stdio};

use futures_util::StreamExt;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{redirect, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, protocol::frame::coding::CloseCode, Message};

use crate::redis::RedisServer;
use crate::support::{free_port, token, InstanceCleanup, TestFarm, PATIENCE};
use crate::{open_terminal, run_until};

pub const PASSWORD: &str = "a long test password";

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_header(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Logs in through the form; returns the `Set-Cookie` header.
async fn log_in(farm: &TestFarm, headers: &[(&str, &str)]) -> String {
    let mut request = client()
        .post(farm.url("/login"))
        .form(&[("password", PASSWORD), ("next", "/")]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()[SET_COOKIE].to_str().unwrap().to_owned()
}

/// A bearer token from `POST /api/login`.
pub async fn api_token(base: &str) -> String {
    let response = client()
        .post(format!("http://{base}/api/login"))
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn status_of(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn without_a_login_nothing_is_served_and_a_login_opens_everything() {
    let farm = TestFarm::start_with(&["--password", PASSWORD]).await;
    let http = client();
    let token = api_token(&farm.base).await;
    let created = http
        .post(farm.url("/api/workers"))
        .header("authorization", bearer(&token))
        .json(&json!({ "name": "guarded" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // Pages send the browser to the login page and back; everything else answers 401.
    for (path, next) in [
        ("/", "%2F"),
        ("/workers/guarded?x=1", "%2Fworkers%2Fguarded%3Fx%3D1"),
    ] {
        let response = http.get(farm.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], format!("/login?next={next}"));
    }
    for path in [
        "/api/workers",
        "/api/workers/guarded",
        "/api/events",
        "/api/workers/guarded/logs",
    ] {
        let response = http.get(farm.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized", "{path}");
    }
    for path in [
        "/api/workers/guarded/restart",
        "/rpc/list_workers",
        "/api/workers",
    ] {
        let response = http
            .post(farm.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let response = http
        .delete(farm.url("/api/workers/guarded"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A made-up or malformed token is no better than none.
    for made_up in ["cwf_made-up", "", "Basic abc"] {
        let status = status_of(
            http.get(farm.url("/api/workers"))
                .header("authorization", bearer(made_up)),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{made_up}");
    }
    // The terminal refuses before the upgrade: no shell without a login.
    let refused = open_terminal(&farm.base, "guarded", &[]).await.unwrap_err();
    assert!(
        matches!(&refused, tungstenite::Error::Http(r) if r.status() == 401),
        "{refused}"
    );
    // The login page itself is served, with the way back in it.
    let page = http
        .get(farm.url("/login?next=/workers/guarded"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"type="password""#), "{html}");
    assert!(html.contains(r#"value="/workers/guarded""#), "{html}");

    // A wrong password shows the page again with the reason, and sets no cookie.
    let wrong = http
        .post(farm.url("/login"))
        .form(&[("password", "not it at all"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!wrong.headers().contains_key(SET_COOKIE));
    assert!(wrong.text().await.unwrap().contains("Wrong password"));

    // The right one: a cookie that opens the page, the API, the events and the terminal.
    let response = http
        .post(farm.url("/login"))
        .form(&[("password", PASSWORD), ("next", "/workers/guarded")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/workers/guarded");
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in [
        "cwf_session=cwf_",
        "; Path=/",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Max-Age=604800",
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let cookie = cookie_header(&set_cookie);
    let page = http
        .get(farm.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let workers = http
        .get(farm.url("/api/workers"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(workers.status(), StatusCode::OK);
    let mut events = http
        .get(farm.url("/api/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.chunk().await.unwrap().is_some());
    let mut terminal = open_terminal(&farm.base, "guarded", &[("cookie", &cookie)])
        .await
        .unwrap();
    run_until(&mut terminal, "echo logged-$((20+22))\r", "logged-42").await;

    // Logging out ends the session: the open terminal is told so, the event stream ends,
    // and the cookie opens nothing more. The bearer token of the other session still works.
    let out = http
        .post(farm.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()[LOCATION], "/login");
    assert!(out.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let close = tokio::time::timeout(PATIENCE, async {
        while let Some(message) = terminal.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame;
            }
        }
        None
    })
    .await
    .expect("the terminal stayed open after logout");
    let frame = close.expect("a close frame");
    assert_eq!(
        frame.code,
        CloseCode::from(farm::close_codes::SESSION_ENDED)
    );
    let rest = tokio::time::timeout(PATIENCE, async {
        while events.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(rest.is_ok(), "the event stream stayed open after logout");
    let status = status_of(http.get(farm.url("/api/workers")).header("cookie", &cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = status_of(
        http.get(farm.url("/api/workers"))
            .header("authorization", bearer(&token)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn scripts_use_bearer_tokens_and_json_only() {
    let farm = TestFarm::start_with(&["--password", PASSWORD]).await;
    let http = client();
    let wrong = http
        .post(farm.url("/api/login"))
        .json(&json!({ "password": "nope nope nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (one, two) = (api_token(&farm.base).await, api_token(&farm.base).await);
    assert_ne!(one, two);

    // JSON only: a form or plain text is refused with a message that says what to send.
    let form = http
        .post(farm.url("/api/workers"))
        .header("authorization", bearer(&one))
        .form(&[("name", "formed")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = form.json().await.unwrap();
    assert_eq!(body["code"], "not_json");
    assert!(
        body["error"].as_str().unwrap().contains("application/json"),
        "{body}"
    );
    let created = http
        .post(farm.url("/api/workers"))
        .header("authorization", bearer(&one))
        .json(&json!({ "name": "scripted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(farm
        .containers()
        .contains(&"claude-worker-scripted".to_owned()));
    assert!(farm
        .containers()
        .iter()
        .all(|c| c != "claude-worker-formed"));

    // Logging out everywhere ends the other token too.
    let out = http
        .post(farm.url("/api/logout?everywhere=true"))
        .header("authorization", bearer(&one))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    for token in [&one, &two] {
        let status = status_of(
            http.get(farm.url("/api/workers"))
                .header("authorization", bearer(token)),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn wrong_passwords_are_rate_limited_per_client() {
    let farm = TestFarm::start_with(&["--password", PASSWORD]).await;
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap()
    };
    let attempt = |http: reqwest::Client, password: &'static str| {
        let url = farm.url("/api/login");
        async move {
            http.post(url)
                .json(&json!({ "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..farm::auth::limiter::PER_CLIENT {
        assert_eq!(
            attempt(from(1), "guess guess guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Held back, even with the right password, for the rest of the window.
    let held = attempt(from(1), PASSWORD).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = held.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = held.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    // Another address is not held back by the first one's guesses.
    assert_eq!(attempt(from(2), PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn other_sites_and_other_host_names_are_refused() {
    let farm = TestFarm::start_with(&["--password", PASSWORD]).await;
    let http = client();
    let token = api_token(&farm.base).await;
    let evil = http
        .post(farm.url("/api/workers"))
        .header("authorization", bearer(&token))
        .header("origin", "http://evil.example")
        .json(&json!({ "name": "forged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(farm.containers().is_empty());
    // A form posted from another site cannot log in (login CSRF) nor out.
    let forged_login = http
        .post(farm.url("/login"))
        .header("origin", "http://evil.example")
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_login.status(), StatusCode::FORBIDDEN);
    let own = format!("http://{}", farm.base);
    let cookie = cookie_header(&log_in(&farm, &[("origin", &own)]).await);
    let created = http
        .post(farm.url("/api/workers"))
        .header("cookie", &cookie)
        .header("origin", &own)
        .json(&json!({ "name": "same-site" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let refused = open_terminal(
        &farm.base,
        "same-site",
        &[("cookie", &cookie), ("origin", "http://evil.example")],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, tungstenite::Error::Http(r) if r.status() == 403),
        "{refused}"
    );
    let mut terminal = open_terminal(
        &farm.base,
        "same-site",
        &[("cookie", &cookie), ("origin", &own)],
    )
    .await
    .unwrap();
    run_until(&mut terminal, "echo same-$((1+1))\r", "same-2").await;

    // Without a password the dashboard answers only to loopback names: a page that got its
    // own name to point at 127.0.0.1 (DNS rebinding) is refused.
    let open = TestFarm::start().await;
    let rebound = http
        .get(open.url("/api/workers"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let body: Value = rebound.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("localhost"),
        "{body}"
    );
    let port = open.base.rsplit(':').next().unwrap();
    for host in [format!("localhost:{port}"), open.base.clone()] {
        let status = status_of(
            http.get(open.url("/api/workers"))
                .header("host", host.as_str()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn behind_a_trusted_tls_proxy_the_cookie_is_secure() {
    let forwarded = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "farm.example"),
        ("origin", "https://farm.example"),
    ];
    let behind = TestFarm::start_with(&["--password", PASSWORD, "--trust-proxy"]).await;
    let set_cookie = log_in(&behind, &forwarded).await;
    assert!(set_cookie.ends_with("; Secure"), "{set_cookie}");
    // Not trusted, the same headers are anyone's: the origin does not match the host.
    let direct = TestFarm::start_with(&["--password", PASSWORD]).await;
    let mut request = client()
        .post(direct.url("/login"))
        .form(&[("password", PASSWORD)]);
    for (name, value) in forwarded {
        request = request.header(name, value);
    }
    assert_eq!(status_of(request).await, StatusCode::FORBIDDEN);
}

/// Runs the real binary with `settings` and returns its exit status and standard error, for
/// a run that is expected to stop by itself.
fn run_binary(settings: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_claude-worker-farm"))
        .args(settings)
        .env_remove("FARM_PASSWORD")
        .env_remove("FARM_PASSWORD_HASH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_binary_hashes_passwords_and_will_not_listen_openly_without_one() {
    let (ok, hash, _) = run_binary(&["hash-password"], &format!("{PASSWORD}\n"));
    assert!(ok);
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    let (ok, _, error) = run_binary(&["hash-password"], "short\n");
    assert!(!ok);
    assert!(error.contains("at least"), "{error}");

    // Beyond loopback without a password: no start, and a message that says what to set.
    let instance = format!("cwf-test-{}", token());
    let _cleanup = InstanceCleanup(instance.clone());
    let bind = format!("0.0.0.0:{}", free_port());
    let (ok, _, error) = run_binary(&["--bind", &bind, "--instance", &instance], "");
    assert!(!ok);
    assert!(error.contains("FARM_PASSWORD_HASH"), "{error}");

    // The printed hash is a working configuration.
    let farm = TestFarm::start_with(&["--password-hash", hash]).await;
    api_token(&farm.base).await;
}

/// Logs in twice on a farm started with `settings`, logs one session out, and starts the same
/// farm again (a restart, or a second dashboard): the kept session opens it, the ended one
/// does not. Returns both tokens (kept, ended), for a look at what the store kept.
async fn sessions_across_a_restart(settings: &[&str], shared: bool) -> (String, String) {
    let first = TestFarm::start_with(settings).await;
    let instance = first.instance.clone();
    let kept = api_token(&first.base).await;
    let ended = api_token(&first.base).await;
    let logout = client()
        .post(first.url("/api/logout"))
        .header("authorization", bearer(&ended));
    assert_eq!(status_of(logout).await, StatusCode::NO_CONTENT);
    if !shared {
        drop(first);
    }
    let again = TestFarm::start_as(&instance, settings).await;
    for (token, expected) in [(&kept, StatusCode::OK), (&ended, StatusCode::UNAUTHORIZED)] {
        let request = client()
            .get(again.url("/api/workers"))
            .header("authorization", bearer(token));
        assert_eq!(status_of(request).await, expected);
    }
    (kept, ended)
}

#[tokio::test]
async fn with_redis_a_login_outlives_the_dashboard_and_logout_reaches_every_dashboard() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    let settings = ["--password", PASSWORD, "--redis-url", url.as_str()];
    // Another dashboard on the same Redis, while the first runs.
    sessions_across_a_restart(&settings, true).await;
    // The same dashboard started again.
    let (kept, _) = sessions_across_a_restart(&settings, false).await;
    // Redis holds no token, only hashes of them.
    let keys = redis.cli(&["--scan"]);
    assert!(keys.contains(":session:"), "{keys}");
    assert!(
        !keys.contains(&kept[farm::auth::TOKEN_PREFIX.len()..]),
        "{keys}"
    );
}

#[tokio::test]
async fn without_redis_a_login_outlives_a_restart_and_a_logout_too() {
    let (kept, _) = sessions_across_a_restart(&["--password", PASSWORD], false).await;
    // The session files hold hashes only.
    for file in std::fs::read_dir(crate::support::state_dir()).unwrap() {
        let saved = std::fs::read_to_string(file.unwrap().path()).unwrap_or_default();
        assert!(
            !saved.contains(&kept[farm::auth::TOKEN_PREFIX.len()..]),
            "{saved}"
        );
    }
}
