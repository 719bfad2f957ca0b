//! What a browser sends the terminal proxy: the proxy reads resizes and the handshake (to
//! clamp sizes, and to put the worker's credential in the handshake) and passes everything
//! else untouched. Nothing may panic, and what reaches ttyd is either the browser's bytes or
//! a size within the limits, with our credential and never the browser's.
#![no_main]

use axum::body::Bytes;
use farm::proxy::{guard_frame, MAX_COLUMNS, MAX_ROWS};
use farm::ttyd;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let forwarded = guard_frame(Bytes::copy_from_slice(data), "dG9rZW4=");
    match data.first() {
        Some(&ttyd::RESIZE) | Some(b'{') => {
            if let Some(sent) = forwarded {
                let json = if sent.first() == Some(&ttyd::RESIZE) {
                    &sent[1..]
                } else {
                    &sent[..]
                };
                let size: serde_json::Value = serde_json::from_slice(json).expect("we send JSON");
                assert!(size["columns"].as_u64().unwrap() <= MAX_COLUMNS);
                assert!(size["rows"].as_u64().unwrap() <= MAX_ROWS);
                if sent.first() == Some(&b'{') {
                    assert_eq!(
                        size["AuthToken"], "dG9rZW4=",
                        "the browser's token went through"
                    );
                }
            }
        }
        _ => assert_eq!(forwarded.as_deref(), Some(data)),
    }
    // The other direction, as the browser reads ttyd's messages, and pasted input.
    let _ = ttyd::parse(data);
    for message in ttyd::input_messages(data) {
        assert!(message.len() <= ttyd::MAX_INPUT_CHUNK + 1);
    }
});
