//! The body of `POST /api/workers` and of the create server function: any bytes either give
//! a clear error or a worker whose id is a slug, whose name is bounded, whose git URL git
//! cannot take for an option (in any part: user, host, port, path) or a local path, and
//! whose limits are within the caps, and whose variables and secrets are well-named, bounded
//! and none of those the farm sets.
#![no_main]

use farm::git_url::{self, MAX_GIT_URL_BYTES};
use farm::limits::{LimitRules, Limits};
use farm::worker::{is_valid_id, NewWorker, MAX_NAME_CHARS};
use farm::worker_env::{check_name, MAX_VALUE_BYTES, MAX_VARS};
use libfuzzer_sys::fuzz_target;

const RULES: LimitRules = LimitRules {
    default: Limits {
        memory_mb: 2048,
        cpus: 2.0,
    },
    max: Limits {
        memory_mb: 8192,
        cpus: 4.0,
    },
};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<NewWorker>(data) else {
        return;
    };
    if let Ok(spec) = request.validate(|| "worker-fallback".into()) {
        assert!(is_valid_id(&spec.id), "{:?}", spec.id);
        assert!(spec.name.chars().count() <= MAX_NAME_CHARS);
        assert!(!spec.name.chars().any(char::is_control));
        assert!(spec.options.env.len() + spec.secrets.len() <= MAX_VARS);
        for (name, value) in &spec.options.env {
            assert!(check_name(name).is_ok(), "{name}");
            assert!(value.len() <= MAX_VALUE_BYTES && !value.contains('\0'));
        }
        for (name, value) in &spec.secrets {
            assert!(check_name(name).is_ok(), "{name}");
            assert!(value.expose().len() <= MAX_VALUE_BYTES);
            assert!(!spec.options.env.contains_key(name));
        }
        if let Some(url) = &spec.git_repo {
            assert!(url.len() <= MAX_GIT_URL_BYTES);
            assert!(!url.starts_with('-'), "{url}");
            // `::` only inside an IPv6 address's brackets (never `transport::address`).
            let outside_brackets: String = url
                .split('[')
                .map(|part| part.split_once(']').map_or(part, |(_, after)| after))
                .collect();
            assert!(!outside_brackets.contains("::"), "{url}");
            assert!(!url.to_ascii_lowercase().starts_with("file:"), "{url}");
            assert!(
                !url.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{url}"
            );
            // No part git hands to ssh may read as an option.
            let parts = git_url::parse(url).expect("an accepted URL parses");
            assert!(!parts.host.starts_with('-'), "{url}");
            assert!(!parts.user.is_some_and(|u| u.starts_with('-')), "{url}");
            assert!(!parts.path.split('/').any(|s| s.starts_with('-')), "{url}");
        }
    }
    if let Ok(limits) = RULES.resolve(request.memory_mb, request.cpus) {
        assert!(limits.memory_mb <= RULES.max.memory_mb);
        assert!(limits.cpus.is_finite() && limits.cpus <= RULES.max.cpus && limits.cpus > 0.0);
    }
});
