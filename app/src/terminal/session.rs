//! One live terminal: xterm.js on one side, ttyd's protocol over a websocket on the other.
//! Dropping the session closes the socket and frees the terminal.

use farm::ttyd;
use js_sys::{ArrayBuffer, Uint8Array};
use leptos::prelude::{RwSignal, Set};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, HtmlElement, MessageEvent, ResizeObserver, WebSocket};

use super::xterm::{Dimensions, Disposable, Fit, Terminal};
use super::ConnectionState;

const TERMINAL_OPTIONS: &str = r##"{
    "cursorBlink": true,
    "fontFamily": "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    "fontSize": 14,
    "scrollback": 5000,
    "theme": { "background": "#0b0d10", "foreground": "#d8dee9", "cursor": "#f0c674" }
}"##;

pub struct Session {
    terminal: Terminal,
    socket: WebSocket,
    observer: ResizeObserver,
    disposables: Vec<Disposable>,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_data: Closure<dyn FnMut(String)>,
    _on_resize: Closure<dyn FnMut(Dimensions)>,
    _on_box_resize: Closure<dyn FnMut()>,
}

impl Session {
    pub fn start(
        host: &HtmlElement,
        path: &str,
        state: RwSignal<ConnectionState>,
    ) -> Result<Session, JsValue> {
        let options = js_sys::JSON::parse(TERMINAL_OPTIONS)?;
        let terminal = Terminal::new(&options);
        let fit = Fit::new();
        terminal.load_addon(&fit);
        terminal.open(host);
        fit.fit();

        let socket = WebSocket::new_with_str(&socket_url(path)?, ttyd::SUBPROTOCOL)?;
        socket.set_binary_type(BinaryType::Arraybuffer);

        let on_open = {
            let (socket, terminal) = (socket.clone(), terminal.clone());
            Closure::<dyn FnMut()>::new(move || {
                send(&socket, &ttyd::handshake(terminal.cols(), terminal.rows()));
                state.set(ConnectionState::Connected);
                terminal.focus();
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));

        let on_message = {
            let terminal = terminal.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() else {
                    return;
                };
                // Only the command byte is copied into WASM; the output goes to xterm.js as a
                // view of the message's own buffer.
                let whole = Uint8Array::new(&buffer);
                if whole.length() > 0 && whole.get_index(0) == ttyd::OUTPUT {
                    terminal.write(&Uint8Array::new_with_byte_offset(&buffer, 1));
                }
            })
        };
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

        let on_close = {
            let terminal = terminal.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                let reason = match event.reason() {
                    r if r.is_empty() => format!("code {}", event.code()),
                    r => r,
                };
                terminal.write_str(&format!("\r\n\x1b[2m[disconnected: {reason}]\x1b[0m\r\n"));
                state.set(ConnectionState::Disconnected);
            })
        };
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

        let on_data = {
            let socket = socket.clone();
            Closure::<dyn FnMut(String)>::new(move |data: String| {
                send(&socket, &ttyd::input(data.as_bytes()));
            })
        };
        let on_resize = {
            let socket = socket.clone();
            Closure::<dyn FnMut(Dimensions)>::new(move |size: Dimensions| {
                send(&socket, &ttyd::resize(size.cols(), size.rows()));
            })
        };
        let disposables = vec![terminal.on_data(&on_data), terminal.on_resize(&on_resize)];

        // Refit whenever the box changes size (window, rotation, grid layout).
        let on_box_resize = Closure::<dyn FnMut()>::new(move || fit.fit());
        let observer = ResizeObserver::new(on_box_resize.as_ref().unchecked_ref())?;
        observer.observe(host);

        Ok(Session {
            terminal,
            socket,
            observer,
            disposables,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_data: on_data,
            _on_resize: on_resize,
            _on_box_resize: on_box_resize,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.observer.disconnect();
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.close().ok();
        for disposable in &self.disposables {
            disposable.dispose();
        }
        self.terminal.dispose();
    }
}

/// Sends a message if the socket is open; input typed while disconnected is dropped.
fn send(socket: &WebSocket, message: &[u8]) {
    if socket.ready_state() == WebSocket::OPEN {
        socket.send_with_u8_array(message).ok();
    }
}

fn socket_url(path: &str) -> Result<String, JsValue> {
    let location = web_sys::window().ok_or("no window")?.location();
    let scheme = if location.protocol()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Ok(format!("{scheme}://{}{path}", location.host()?))
}
