//! ttyd's websocket protocol (1.7): one command byte, then the payload. Shared by the browser
//! terminal and the tests that talk to a worker through the proxy.

/// The websocket subprotocol ttyd insists on: without it ttyd accepts and never speaks.
pub const SUBPROTOCOL: &str = "tty";

/// Client → ttyd: keystrokes and pasted text.
pub const INPUT: u8 = b'0';
/// Client → ttyd: `{"columns":C,"rows":R}`.
pub const RESIZE: u8 = b'1';
/// ttyd → client: terminal output.
pub const OUTPUT: u8 = b'0';
/// ttyd → client: window title.
pub const SET_TITLE: u8 = b'1';
/// ttyd → client: client preferences as JSON.
pub const SET_PREFERENCES: u8 = b'2';

/// The first message of a connection; ttyd starts the command only after it.
pub fn handshake(columns: u16, rows: u16) -> Vec<u8> {
    format!(r#"{{"AuthToken":"","columns":{columns},"rows":{rows}}}"#).into_bytes()
}

pub fn input(bytes: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(bytes.len() + 1);
    message.push(INPUT);
    message.extend_from_slice(bytes);
    message
}

pub fn resize(columns: u16, rows: u16) -> Vec<u8> {
    let mut message = vec![RESIZE];
    message.extend_from_slice(format!(r#"{{"columns":{columns},"rows":{rows}}}"#).as_bytes());
    message
}

/// A message from ttyd, split into its kind and payload.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    Output(&'a [u8]),
    Title(&'a [u8]),
    Preferences(&'a [u8]),
    Unknown,
}

pub fn parse(message: &[u8]) -> ServerMessage<'_> {
    match message.split_first() {
        Some((&OUTPUT, rest)) => ServerMessage::Output(rest),
        Some((&SET_TITLE, rest)) => ServerMessage::Title(rest),
        Some((&SET_PREFERENCES, rest)) => ServerMessage::Preferences(rest),
        _ => ServerMessage::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_carry_their_command_byte() {
        assert_eq!(
            handshake(80, 24),
            br#"{"AuthToken":"","columns":80,"rows":24}"#
        );
        assert_eq!(input(b"ls\r"), b"0ls\r");
        assert_eq!(resize(120, 40), br#"1{"columns":120,"rows":40}"#);
    }

    #[test]
    fn server_messages_are_split() {
        assert_eq!(parse(b"0hello"), ServerMessage::Output(b"hello"));
        assert_eq!(parse(b"1bash"), ServerMessage::Title(b"bash"));
        assert_eq!(parse(b"2{}"), ServerMessage::Preferences(b"{}"));
        assert_eq!(parse(b""), ServerMessage::Unknown);
        assert_eq!(parse(b"9x"), ServerMessage::Unknown);
    }
}
