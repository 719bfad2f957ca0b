//! What a worker's agent watcher prints, which the dashboard reads to tell the agent's
//! status: the worker controls every byte (it may replace the watcher's input files, or
//! print anything into its pane). Reading never panics, keeps bounded state, and any status
//! it gives carries a bounded one-line text.
#![no_main]

use std::time::{Duration, Instant};

use farm::agent::feed::AgentFeed;
use farm::agent::MAX_LINE_CHARS;
use farm::setup::LineSplitter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut splitter = LineSplitter::default();
    let mut feed = AgentFeed::default();
    let start = Instant::now();
    let (step, rest) = data
        .split_first()
        .map_or((1, data), |(s, r)| (usize::from(*s).max(1), r));
    for (i, chunk) in rest.chunks(step).enumerate() {
        // Time moves on with every chunk: the screen's word after an interrupt is used too.
        let now = start + Duration::from_secs(i as u64);
        for line in splitter.push(chunk) {
            feed.push(&line, now);
        }
        if let Some((_, Some(line), _)) = feed.status(now) {
            assert!(line.chars().count() <= MAX_LINE_CHARS + 1, "{line:?}");
            assert!(!line.contains('\n'), "{line:?}");
        }
    }
});
