//! Logging in and out: the login page and its form for browsers, `POST /api/login` and
//! `POST /api/logout` for scripts. The page is plain HTML (no WASM): it must work before
//! anything else of the dashboard may be fetched.

use std::net::{IpAddr, SocketAddr};

use app::page_title::escape_html;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use farm::auth::{COOKIE, DEVICE_COOKIE, DEVICE_LIFETIME};
use farm::FarmError;
use serde::Deserialize;

use crate::api::json_body;
use crate::guard::{cookie, token, Guard};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn page(State(guard): State<Guard>, Query(query): Query<NextQuery>) -> Response {
    if !guard.auth.enabled() {
        return Redirect::to("/").into_response();
    }
    login_page(StatusCode::OK, &safe_next(query.next.as_deref()), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    password: String,
    next: Option<String>,
}

/// The login form: a session cookie and back to where the browser wanted to go.
pub async fn submit(
    State(guard): State<Guard>,
    headers: HeaderMap,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let client = client_ip(&guard, &headers, connection);
    let device = cookie(&headers, DEVICE_COOKIE);
    match guard.auth.login(client, device, &form.password).await {
        Ok(session) => {
            let https = guard.reached_over_https(&headers);
            let mut response = Redirect::to(&next).into_response();
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                session_cookie(&session.token, session.lifetime.as_secs(), https),
            );
            cookies.append(header::SET_COOKIE, device_cookie(&session.device, https));
            response
        }
        Err(e) => {
            let status = e.status();
            let mut response = login_page(status, &next, Some(&e.to_string()));
            if let FarmError::TooManyAttempts(seconds) = e {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiLogin {
    password: String,
}

/// `POST /api/login {"password": "…"}` → `{"token": "cwf_…", "expires_in": seconds}`.
pub async fn api_login(
    State(guard): State<Guard>,
    headers: HeaderMap,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<ApiLogin>, JsonRejection>,
) -> Result<Response, FarmError> {
    let request: ApiLogin = json_body(body, r#"{"password": "…"}"#)?;
    let client = client_ip(&guard, &headers, connection);
    // Scripts hold no device cookie: they are known by their address.
    let session = guard.auth.login(client, None, &request.password).await?;
    let body = serde_json::json!({
        "token": session.token,
        "expires_in": session.lifetime.as_secs(),
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutQuery {
    #[serde(default)]
    everywhere: bool,
}

/// The dashboard's "Log out" buttons: end this session (or all) and show the login page.
pub async fn logout(
    State(guard): State<Guard>,
    Query(query): Query<LogoutQuery>,
    request: Request,
) -> Response {
    let ended = end(&guard, request.headers(), query.everywhere).await;
    let mut response = match ended {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(e) => e.into_response(),
    };
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, guard.reached_over_https(request.headers())),
    );
    response
}

/// `POST /api/logout[?everywhere=true]`: the bearer token (or cookie) stops working.
pub async fn api_logout(
    State(guard): State<Guard>,
    Query(query): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Result<StatusCode, FarmError> {
    end(&guard, &headers, query.everywhere).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end(guard: &Guard, headers: &HeaderMap, everywhere: bool) -> Result<(), FarmError> {
    match token(headers) {
        // Only a valid session may end every session.
        Some(token) if everywhere && guard.auth.check(token).await? => {
            guard.auth.logout_everywhere().await
        }
        Some(token) => guard.auth.logout(token).await,
        None => Ok(()),
    }
}

/// The address whose wrong passwords are counted: the peer, or with a trusted reverse proxy
/// the client it names last in `X-Forwarded-For` (the one it saw itself).
fn client_ip(
    guard: &Guard,
    headers: &HeaderMap,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> IpAddr {
    let forwarded = guard
        .trust_proxy
        .then(|| headers.get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok());
    let peer = connection.map(|Extension(ConnectInfo(addr))| addr.ip());
    forwarded.or(peer).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The browser's device token, sent back only to the login form (`auth::limiter`).
fn device_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = DEVICE_LIFETIME.as_secs();
    let cookie = format!(
        "{DEVICE_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).expect("a token is URL-safe base64")
}

fn session_cookie(token: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).expect("a token is URL-safe base64")
}

/// Where to go after the login: a path on this dashboard only, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn login_page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let error = error.map_or_else(String::new, |e| {
        format!(
            r#"<p class="form-error" role="alert">{}</p>"#,
            escape_html(&capitalised(e))
        )
    });
    let next = escape_html(next);
    let site = crate::SITE_NAME;
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="color-scheme" content="dark light"/>
<title>Log in · Claude Worker Farm</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
<link rel="stylesheet" href="/pkg/{site}.css"/>
</head>
<body>
<main class="login-page">
<form class="login" method="post" action="/login">
<h1>Claude Worker Farm</h1>
<label><span>Password</span>
<input type="password" name="password" autocomplete="current-password" required autofocus/></label>
<input type="hidden" name="next" value="{next}"/>
<button type="submit" class="primary">Log in</button>
{error}
</form>
</main>
</body>
</html>"#
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_back_stays_on_this_dashboard() {
        assert_eq!(safe_next(Some("/workers/a?x=1")), "/workers/a?x=1");
        for unsafe_next in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(unsafe_next)), "/", "{unsafe_next:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_cookie_is_http_only_and_secure_behind_tls() {
        let plain = session_cookie("cwf_t", 60, false);
        assert_eq!(
            plain,
            "cwf_session=cwf_t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        let secure = session_cookie("cwf_t", 60, true);
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }
}
