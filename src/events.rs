//! The live-update stream as both ends name it: the server's server-sent events and the
//! dashboard's EventSource. Shared with the WASM front end.

/// Where the stream is served.
pub const PATH: &str = "/api/events";
/// The workers changed: the event carries them as JSON (empty: ask for them).
pub const WORKERS_CHANGED: &str = "workers";
/// Every worker's CPU and memory (`farm::gauges`), every couple of seconds.
pub const GAUGES: &str = "gauges";
