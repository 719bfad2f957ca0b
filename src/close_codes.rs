//! Websocket close codes the terminal proxy sends to browsers, so the page can tell a stopped
//! worker from a network hiccup. Shared with the WASM front end.

/// The browser sent a frame or message larger than the proxy takes (RFC 6455's "message too
/// big").
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The worker's ttyd cannot be reached: the worker is stopped or still starting.
pub const TERMINAL_UNREACHABLE: u16 = 4502;
/// ttyd broke the connection without a close frame.
pub const TERMINAL_LOST: u16 = 4503;
/// The browser did not take the terminal's output for too long (a stalled network, a frozen
/// tab): it was dropped so that it holds nothing up, and reconnects to a fresh redraw.
pub const VIEWER_TOO_SLOW: u16 = 4508;
/// The browser's login session ended (it logged out, here or everywhere): the page goes to
/// the login page instead of reconnecting.
pub const SESSION_ENDED: u16 = 4401;
