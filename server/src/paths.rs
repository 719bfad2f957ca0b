//! Every request path is canonical before any route sees it. axum matches paths exactly, but
//! the Leptos router behind the fallback reads `/./`, `/workers/a/` or `/a/../` as a page
//! of its own, outside the routes that give pages their context: such paths once panicked.
//! A dot segment (plain or percent-encoded) is refused, an empty one too, and a trailing
//! slash on a page sends the browser to the path without it.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use farm::FarmError;

/// What to do with a path.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Canonical,
    Refuse(&'static str),
    /// The same path without its trailing slash.
    Trim,
}

fn verdict(path: &str) -> Verdict {
    if path == "/" {
        return Verdict::Canonical;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Verdict::Refuse("the path must start with '/'");
    };
    let rest = match rest.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => rest,
    };
    for segment in rest.split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return Verdict::Refuse(
                "the path has a '.' or '..' segment: ask for the page or route by its own path",
            );
        }
        if segment.is_empty() {
            return Verdict::Refuse("the path has an empty segment ('//'): remove it");
        }
    }
    if path.ends_with('/') {
        Verdict::Trim
    } else {
        Verdict::Canonical
    }
}

pub async fn canonical(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    match verdict(path) {
        Verdict::Canonical => next.run(request).await,
        Verdict::Refuse(why) => FarmError::InvalidInput(why.into()).into_response(),
        Verdict::Trim if matches!(*request.method(), Method::GET | Method::HEAD) => {
            // No segment is empty, so the trimmed path cannot start with `//` (another
            // site's address).
            let mut target = path.trim_end_matches('/').to_owned();
            if let Some(query) = request.uri().query() {
                target.push('?');
                target.push_str(query);
            }
            Redirect::permanent(&target).into_response()
        }
        Verdict::Trim => FarmError::InvalidInput(
            "the path ends with '/': send the request to the path without it".into(),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_paths_are_refused_or_trimmed() {
        for path in [
            "/",
            "/workers/a",
            "/api/workers/a/logs",
            "/pkg/x.wasm",
            "/a.b/c..d",
        ] {
            assert_eq!(verdict(path), Verdict::Canonical, "{path}");
        }
        for path in [
            "/.",
            "/./",
            "/..",
            "/a/../",
            "/%2e%2e/",
            "/%2E",
            "/workers/./a",
            "//",
            "//evil.example/",
            "/a//b",
            "/workers//",
        ] {
            assert!(matches!(verdict(path), Verdict::Refuse(_)), "{path}");
        }
        for path in ["/workers/a/", "/api/workers/"] {
            assert_eq!(verdict(path), Verdict::Trim, "{path}");
        }
    }
}
