//! Which requests a browser page may make: a page on another site must not drive the
//! dashboard with the user's cookie (state-changing requests and websocket upgrades are
//! checked against `Origin`), and with authentication off a page must not reach it under
//! another name through DNS rebinding (the `Host` must then be a loopback name).

use axum::http::{header, HeaderMap};

/// Header a reverse proxy sets to the host the browser asked for.
pub const FORWARDED_HOST: &str = "x-forwarded-host";
/// Header a reverse proxy sets to the scheme the browser used.
pub const FORWARDED_PROTO: &str = "x-forwarded-proto";

/// The host (and port) the browser addressed: `Host`, or `X-Forwarded-Host` when a reverse
/// proxy in front of the dashboard is trusted to set it.
pub fn request_host(headers: &HeaderMap, trust_proxy: bool) -> Option<&str> {
    let forwarded = trust_proxy
        .then(|| first_value(headers, FORWARDED_HOST))
        .flatten();
    forwarded.or_else(|| headers.get(header::HOST)?.to_str().ok())
}

/// Whether the browser reached the dashboard over https (told by a trusted proxy).
pub fn is_https(headers: &HeaderMap, trust_proxy: bool) -> bool {
    trust_proxy
        && first_value(headers, FORWARDED_PROTO).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A proxy chain may list several values; the first is what the browser sent.
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// Browsers send `Origin` with every websocket upgrade and cross-site request; it must name
/// the host the request was sent to. Requests without `Origin` are not from a page on
/// another site (browsers always add it there) and pass: scripts and tests send none.
pub fn origin_allowed(headers: &HeaderMap, trust_proxy: bool) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (origin.to_str(), request_host(headers, trust_proxy)) else {
        return false;
    };
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
    })
}

/// Whether a `Host` header names this machine's loopback: `localhost`, `127.x.y.z` or
/// `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    #[test]
    fn same_origin_passes() {
        let allowed = |origin: &str, host: &str| {
            origin_allowed(&headers(&[("origin", origin), ("host", host)]), false)
        };
        assert!(allowed("http://localhost:8080", "localhost:8080"));
        assert!(allowed("https://Farm.example", "farm.example"));
        assert!(origin_allowed(
            &headers(&[("host", "localhost:8080")]),
            false
        ));
    }

    #[test]
    fn other_origins_are_refused() {
        let allowed = |origin: &str, host: &str| {
            origin_allowed(&headers(&[("origin", origin), ("host", host)]), false)
        };
        assert!(!allowed("http://evil.example", "localhost:8080"));
        assert!(!allowed("http://localhost:8080.evil", "localhost:8080"));
        assert!(!allowed("http://localhost:9090", "localhost:8080"));
        assert!(!allowed("null", "localhost:8080"));
        assert!(!allowed("file://localhost:8080", "localhost:8080"));
        // No Host to compare with: refused.
        assert!(!origin_allowed(&headers(&[("origin", "http://a")]), false));
    }

    #[test]
    fn a_trusted_proxy_names_the_host_and_scheme() {
        let behind = headers(&[
            ("origin", "https://farm.example"),
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "farm.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(origin_allowed(&behind, true));
        assert!(is_https(&behind, true));
        // Not trusted: the forwarded headers are anyone's to send, and count for nothing.
        assert!(!origin_allowed(&behind, false));
        assert!(!is_https(&behind, false));
        let chain = headers(&[("x-forwarded-proto", "https, http")]);
        assert!(is_https(&chain, true));
    }

    #[test]
    fn loopback_hosts_are_told_from_others() {
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST:1",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "192.168.1.2:8080",
            "[::2]:8080",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
