//! The gate every request passes before any route: the Host check against DNS rebinding,
//! the Origin check against other sites, and the session check when authentication is on.
//! Websocket upgrades are requests too, so all three happen before the upgrade.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use farm::auth::origin::{is_https, is_loopback_host, origin_allowed, request_host};
use farm::auth::{Auth, COOKIE};
use farm::FarmError;

use crate::connections::Connection;

/// What the gate knows: the authentication and how far to trust the network in front.
#[derive(Clone)]
pub struct Guard {
    pub auth: Auth,
    pub trust_proxy: bool,
    /// The dashboard serves https itself (FARM_TLS_CERT).
    pub serves_https: bool,
    /// With authentication off on loopback, only loopback names may address the dashboard.
    pub loopback_only: bool,
}

impl Guard {
    /// Whether the browser reached the dashboard over https: served here, or by a trusted
    /// proxy in front that says so.
    pub fn reached_over_https(&self, headers: &HeaderMap) -> bool {
        self.serves_https || is_https(headers, self.trust_proxy)
    }
}

/// The login session a request came with, for routes that hold a connection open: they end
/// when it does.
#[derive(Clone)]
pub struct Session {
    auth: Auth,
    token: String,
}

/// Completes when the request's session ends; never without one (authentication off).
pub async fn session_ended(session: Option<Session>) {
    match session {
        Some(session) => session.auth.ended(&session.token).await,
        None => std::future::pending().await,
    }
}

/// Paths anyone may fetch: the login itself and the site's static files (public code).
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/logout" | "/api/login" | "/favicon.svg")
        || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
}

pub async fn check(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    if guard.loopback_only
        && !request_host(headers, guard.trust_proxy).is_some_and(is_loopback_host)
    {
        return FarmError::Forbidden(
            "this dashboard has no password, so it answers only to localhost: open it as \
             http://localhost or set FARM_PASSWORD_HASH"
                .into(),
        )
        .into_response();
    }
    if changes_state(request.method(), headers) && !origin_allowed(headers, guard.trust_proxy) {
        return FarmError::Forbidden(
            "requests from other sites are refused: use the dashboard's own pages".into(),
        )
        .into_response();
    }
    if !guard.auth.enabled() {
        trust_connection(&request);
        return next.run(request).await;
    }
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(token) = token(headers).map(str::to_owned) else {
        return refuse(&request);
    };
    match guard.auth.check(&token).await {
        Ok(true) => {
            trust_connection(&request);
            request.extensions_mut().insert(Session {
                auth: guard.auth.clone(),
                token,
            });
            next.run(request).await
        }
        Ok(false) => refuse(&request),
        Err(e) => e.into_response(),
    }
}

/// The request came with a login (or needed none): its connection is no longer one of the
/// anonymous ones the server closes first when silent clients crowd it (`connections`).
fn trust_connection(request: &Request) {
    if let Some(connection) = request.extensions().get::<Connection>() {
        connection.trusted();
    }
}

/// Anything but a plain read, and every websocket upgrade (a GET that opens a shell).
fn changes_state(method: &Method, headers: &HeaderMap) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || headers.contains_key(header::UPGRADE)
}

/// The session token: a bearer token (scripts) or the session cookie (browsers).
pub fn token(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    bearer.or_else(|| cookie(headers, COOKIE))
}

/// The value of the cookie called `wanted`.
pub fn cookie<'a>(headers: &'a HeaderMap, wanted: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == wanted).then_some(value))
}

/// Pages send the browser to the login page (and back afterwards); everything else gets a
/// 401 that says how to authenticate.
fn refuse(request: &Request) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/rpc/")
        && !request.headers().contains_key(header::UPGRADE);
    if is_page {
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{query}")).into_response();
    }
    FarmError::Unauthorized(
        "log in first: send the session cookie, or a token from POST /api/login as \
         `Authorization: Bearer <token>`"
            .into(),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_token_comes_from_a_bearer_header_or_the_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(token(&headers), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; cwf_session=cwf_abc; other=1"),
        );
        assert_eq!(token(&headers), Some("cwf_abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer cwf_xyz"),
        );
        assert_eq!(token(&headers), Some("cwf_xyz"));
        let mut lookalike = HeaderMap::new();
        lookalike.insert(
            header::COOKIE,
            HeaderValue::from_static("xcwf_session=cwf_no"),
        );
        assert_eq!(token(&lookalike), None);
    }

    #[test]
    fn only_the_login_and_static_files_are_public() {
        for path in [
            "/login",
            "/api/login",
            "/pkg/claude-worker-farm.wasm",
            "/vendor/xterm.js",
            "/favicon.svg",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/workers/a",
            "/api/workers",
            "/api/events",
            "/rpc/list_workers",
            "/loginx",
            "/api/login/x",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }
}
