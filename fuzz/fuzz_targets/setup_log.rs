//! A worker's log, which the dashboard reads to learn how its clone went: a worker (and the
//! repository it clones) controls every byte. Lines stay bounded however the bytes come, and
//! a failure reason shown to the user has no control characters and a bounded length.
#![no_main]

use farm::setup::{LineSplitter, SetupReader, MAX_LINE_BYTES};
use farm::store::Setup;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut splitter = LineSplitter::default();
    let mut reader = SetupReader::default();
    // The first byte decides where the stream is cut into chunks, as Docker's frames may be.
    let (step, rest) = data
        .split_first()
        .map_or((1, data), |(s, r)| (usize::from(*s).max(1), r));
    for chunk in rest.chunks(step) {
        for line in splitter.push(chunk) {
            // At most a kept partial line plus one chunk, each invalid byte shown as U+FFFD.
            assert!(line.len() <= (MAX_LINE_BYTES + 256) * 3, "{}", line.len());
            reader.feed(&line);
        }
    }
    if let Some(Setup::Failed { reason }) = reader.setup() {
        assert!(!reason.chars().any(char::is_control), "{reason:?}");
        assert!(reason.chars().count() <= 300);
    }
});
