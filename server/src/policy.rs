//! What the browser is told to allow: the Content-Security-Policy and the other headers every
//! answer carries. Pages run only the dashboard's own scripts and its WASM, plus the inline
//! hydration scripts Leptos writes, each with a nonce made for that one answer; a script
//! that markup from a worker, a log or a URL might smuggle in runs nowhere.

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy shared by pages and every other answer, ending with the script sources a page
/// adds its nonce to. Styles may be inline: xterm.js writes its own `<style>` for the DOM
/// renderer and Leptos sets `style` attributes; a style cannot run code.
macro_rules! common {
    () => {
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'; script-src 'self' 'wasm-unsafe-eval'"
    };
}

/// The policy of every answer that is not a page rendered by the app (the login page, the
/// API, static files): the dashboard's own script files only.
const DEFAULT: &str = common!();

/// The policy of a page the app renders, allowing the inline scripts that carry `nonce`.
fn page_policy(nonce: &str) -> String {
    format!(concat!(common!(), " 'nonce-{}'"), nonce)
}

/// Called while a page renders (as part of its context): gives the answer the policy with
/// this render's nonce.
pub fn for_page() {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    let policy = HeaderValue::from_str(&page_policy(&nonce.to_string()))
        .expect("a nonce is URL-safe base64");
    response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
}

/// The headers every answer gets, unless a page set its own policy.
pub fn layers(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT),
        ))
        // No other site may frame the dashboard (clickjacking into a terminal), nor sniff a
        // type into what it serves.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_come_only_from_the_dashboard_or_carry_the_nonce() {
        for policy in [DEFAULT.to_owned(), page_policy("abc")] {
            let script = policy
                .split(';')
                .map(str::trim)
                .find(|d| d.starts_with("script-src"))
                .unwrap();
            assert!(!script.contains("unsafe-inline"), "{script}");
            assert!(!script.contains("'unsafe-eval'"), "{script}");
            for directive in [
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ] {
                assert!(policy.contains(directive), "{policy}");
            }
        }
        assert!(page_policy("abc").contains("'nonce-abc'"));
    }
}
