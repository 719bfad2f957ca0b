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
    handshake_with_token("", columns, rows)
}

/// The handshake of a client that talks to ttyd directly: `token` is the base64 of its
/// `--credential` (the dashboard's proxy puts it in for browsers).
pub fn handshake_with_token(token: &str, columns: u16, rows: u16) -> Vec<u8> {
    // Base64 needs no escaping inside a JSON string.
    debug_assert!(!token.contains(['"', '\\']));
    format!(r#"{{"AuthToken":"{token}","columns":{columns},"rows":{rows}}}"#).into_bytes()
}

pub fn input(bytes: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(bytes.len() + 1);
    message.push(INPUT);
    message.extend_from_slice(bytes);
    message
}

/// Most input bytes in one message: a big paste goes as several, well under the proxy's cap on
/// message size, and each reaches the program in order.
pub const MAX_INPUT_CHUNK: usize = 16 * 1024;

/// Input as messages of at most [`MAX_INPUT_CHUNK`] bytes each.
pub fn input_messages(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    bytes.chunks(MAX_INPUT_CHUNK).map(input)
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

    #[test]
    fn big_input_is_split_into_bounded_messages() {
        let pasted = vec![b'p'; MAX_INPUT_CHUNK * 2 + 5];
        let messages: Vec<Vec<u8>> = input_messages(&pasted).collect();
        assert_eq!(messages.len(), 3);
        assert!(messages
            .iter()
            .all(|m| m[0] == INPUT && m.len() <= MAX_INPUT_CHUNK + 1));
        let joined: Vec<u8> = messages.iter().flat_map(|m| m[1..].to_vec()).collect();
        assert_eq!(joined, pasted);
        assert_eq!(
            input_messages(b"x").collect::<Vec<_>>(),
            vec![b"0x".to_vec()]
        );
    }
}
