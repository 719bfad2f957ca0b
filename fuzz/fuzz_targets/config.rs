//! Settings from flags, the environment or `.env`: any arguments either parse or give an
//! error, and what parses yields an address, limits and names without a panic. The password
//! hash is parsed too (never hashed here: that is slow on purpose).
#![no_main]

use clap::Parser;
use farm::auth::password::StoredPassword;
use farm::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = StoredPassword::parse(&text);
    let args = std::iter::once("claude-worker-farm").chain(text.split('\0'));
    let Ok(config) = Config::try_parse_from(args) else {
        return;
    };
    let _ = config.listen_addr();
    let _ = config.limit_rules().check();
    assert!(config.network().starts_with(&config.instance));
    let printed = format!("{config:?}");
    if let Some(password) = config.password.as_ref().filter(|p| p.expose().len() > 8) {
        assert!(
            !printed.contains(password.expose()),
            "the password is printed"
        );
    }
});
