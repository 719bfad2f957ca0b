//! The headers every request is judged by before any route (Host, Origin, X-Forwarded-*):
//! no panic, and an Origin is only ever accepted when it names the host the request was sent
//! to.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use farm::auth::origin::{is_https, is_loopback_host, origin_allowed, request_host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut headers = HeaderMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    for trust_proxy in [false, true] {
        let host = request_host(&headers, trust_proxy).map(str::to_owned);
        let _ = is_https(&headers, trust_proxy);
        if let Some(host) = &host {
            let _ = is_loopback_host(host);
        }
        let origin = headers.get("origin").and_then(|o| o.to_str().ok());
        if origin_allowed(&headers, trust_proxy) {
            if let Some(origin) = origin {
                let authority = origin.split_once("://").map(|(_, a)| a);
                assert!(authority
                    .is_some_and(|a| host.as_deref().is_some_and(|h| a.eq_ignore_ascii_case(h))));
            }
        }
    }
});
