//! One live terminal: xterm.js on one side, ttyd's protocol over a websocket on the other.
//! When the socket drops, it reconnects by itself with backoff, at once when the tab becomes
//! visible again or the network returns; when the device says it went offline the socket is
//! closed at once rather than left to linger half-dead. tmux redraws the session on every new
//! connection.
//! Dropping the session closes the socket and frees the terminal.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use farm::{close_codes, ttyd};
use js_sys::{ArrayBuffer, Uint8Array};
use leptos::prelude::{GetUntracked, RwSignal, Set, Update};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, HtmlElement, MessageEvent, ResizeObserver, WebSocket};

use super::gestures::{copy_paste_keys, TouchScroll};
use super::renderer::{RatioWatch, Renderer};
use super::xterm::{Dimensions, Disposable, Fit, Terminal};
use super::{ConnectionState, KeyBarState, TerminalStatus};

const TERMINAL_OPTIONS: &str = r##"{
    "cursorBlink": true,
    "fontFamily": "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    "scrollback": 5000,
    "theme": { "background": "#0b0d10", "foreground": "#d8dee9", "cursor": "#f0c674" }
}"##;

/// First pause before reconnecting; it doubles on every failed attempt. Longer than the
/// dashboard's gap between two `workers` events (250 ms): a worker deleted elsewhere leaves
/// the page before its terminal knocks again on a door that is gone.
const RETRY_FIRST_MS: i32 = 500;
/// Longest pause between two attempts.
const RETRY_MAX_MS: i32 = 8_000;

pub struct Session {
    inner: Rc<Inner>,
    fit: Fit,
    observer: ResizeObserver,
    _ratio: RatioWatch,
    disposables: Vec<Disposable>,
    renderer: Option<Renderer>,
    touch: Option<TouchScroll>,
    _on_data: Closure<dyn FnMut(String)>,
    _on_resize: Closure<dyn FnMut(Dimensions)>,
    _on_title: Closure<dyn FnMut(String)>,
    _on_bell: Closure<dyn FnMut()>,
    _on_key: Closure<dyn FnMut(web_sys::KeyboardEvent) -> bool>,
    _on_box_resize: Closure<dyn FnMut()>,
    on_wake: Closure<dyn FnMut()>,
    on_offline: Closure<dyn FnMut()>,
}

/// What the socket's handlers share; they hold it weakly so that dropping the session ends it.
struct Inner {
    terminal: Terminal,
    path: String,
    state: RwSignal<ConnectionState>,
    socket: RefCell<Option<Connection>>,
    failures: Cell<u32>,
    retry: Cell<Option<i32>>,
}

/// A websocket and the handlers that must live as long as it.
struct Connection {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.close().ok();
    }
}

impl Session {
    pub fn start(
        host: &HtmlElement,
        path: &str,
        status: TerminalStatus,
        keys: KeyBarState,
    ) -> Result<Session, JsValue> {
        let options = js_sys::JSON::parse(TERMINAL_OPTIONS)?;
        let terminal = Terminal::new(&options);
        terminal
            .options()
            .set_font_size(f64::from(keys.font_size.get_untracked()));
        let fit = Fit::new();
        terminal.load_addon(&fit)?;
        terminal.open(host);
        let renderer = Renderer::attach(&terminal, status.renderer)?;
        fit.fit();
        let on_key = copy_paste_keys(&terminal);
        terminal.attach_custom_key_event_handler(&on_key);
        let state = status.state;

        let inner = Rc::new(Inner {
            terminal: terminal.clone(),
            path: path.to_owned(),
            state,
            socket: RefCell::new(None),
            failures: Cell::new(0),
            retry: Cell::new(None),
        });
        connect(&inner)?;

        let on_data = {
            let inner = Rc::downgrade(&inner);
            Closure::<dyn FnMut(String)>::new(move |data: String| {
                // Sticky Ctrl or Alt from the key bar apply to the next key typed.
                let bytes = keys.typed(&data);
                with(&inner, |inner| inner.send_input(&bytes));
            })
        };
        let on_resize = {
            let inner = Rc::downgrade(&inner);
            Closure::<dyn FnMut(Dimensions)>::new(move |size: Dimensions| {
                with(&inner, |inner| {
                    inner.send(&ttyd::resize(size.cols(), size.rows()))
                });
            })
        };
        // The program's title and bell reach the page only as a string and a count, which
        // the page shows as text.
        let on_title = Closure::<dyn FnMut(String)>::new(move |title: String| {
            status.title.set(title);
        });
        let on_bell = Closure::<dyn FnMut()>::new(move || status.bells.update(|n| *n += 1));
        let disposables = vec![
            terminal.on_data(&on_data),
            terminal.on_resize(&on_resize),
            terminal.on_title_change(&on_title),
            terminal.on_bell(&on_bell),
        ];
        let touch = {
            let inner = Rc::downgrade(&inner);
            TouchScroll::attach(host, &terminal, move |bytes| {
                with(&inner, |inner| inner.send_input(bytes));
            })?
        };

        // Refit whenever the box changes size (window, rotation, grid layout), and when the
        // device pixel ratio does: cells are whole device pixels, so the same box holds
        // another number of them.
        let on_box_resize = {
            let fit = fit.clone();
            Closure::<dyn FnMut()>::new(move || fit.fit())
        };
        let observer = ResizeObserver::new(on_box_resize.as_ref().unchecked_ref())?;
        observer.observe(host);
        let ratio = {
            let fit = fit.clone();
            RatioWatch::new(move || fit.fit())
        };

        // Back in view or back online: try now rather than wait for the next attempt.
        let on_wake = {
            let inner = Rc::downgrade(&inner);
            Closure::<dyn FnMut()>::new(move || {
                if let Some(inner) = inner.upgrade() {
                    let hidden = web_sys::window()
                        .and_then(|w| w.document())
                        .is_some_and(|d| d.hidden());
                    if !hidden && inner.retry.get().is_some() {
                        retry_now(&inner);
                    }
                }
            })
        };
        // The device says it lost its network: a socket may linger half-dead for minutes, so
        // it is closed now; the indicator says so and `online` brings the session back.
        let on_offline = {
            let inner = Rc::downgrade(&inner);
            Closure::<dyn FnMut()>::new(move || {
                if let Some(inner) = inner.upgrade() {
                    if let Some(connection) = inner.socket.borrow().as_ref() {
                        connection.socket.close().ok();
                    }
                }
            })
        };
        let window = web_sys::window().ok_or("no window")?;
        window.add_event_listener_with_callback("online", on_wake.as_ref().unchecked_ref())?;
        window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref())?;
        if let Some(document) = window.document() {
            document.add_event_listener_with_callback(
                "visibilitychange",
                on_wake.as_ref().unchecked_ref(),
            )?;
        }

        Ok(Session {
            inner,
            fit,
            observer,
            _ratio: ratio,
            disposables,
            renderer: Some(renderer),
            touch: Some(touch),
            _on_data: on_data,
            _on_resize: on_resize,
            _on_title: on_title,
            _on_bell: on_bell,
            _on_key: on_key,
            _on_box_resize: on_box_resize,
            on_wake,
            on_offline,
        })
    }
}

impl Session {
    /// Pastes text through xterm.js, which sends it on as typed input.
    pub fn paste(&self, text: &str) {
        self.inner.terminal.paste(text);
        self.inner.terminal.focus();
    }

    /// A new font size: the terminal refits its box, and ttyd hears the new size.
    pub fn set_font_size(&self, size: u8) {
        let options = self.inner.terminal.options();
        if options.font_size() != f64::from(size) {
            options.set_font_size(f64::from(size));
            self.fit.fit();
        }
    }

    /// Sends keys as if typed, and gives the terminal the focus back.
    pub fn send_input(&self, bytes: &[u8]) {
        self.inner.send_input(bytes);
        self.inner.terminal.focus();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let wake = self.on_wake.as_ref().unchecked_ref();
            window
                .remove_event_listener_with_callback("online", wake)
                .ok();
            window
                .remove_event_listener_with_callback(
                    "offline",
                    self.on_offline.as_ref().unchecked_ref(),
                )
                .ok();
            if let Some(document) = window.document() {
                document
                    .remove_event_listener_with_callback("visibilitychange", wake)
                    .ok();
            }
            if let Some(timer) = self.inner.retry.take() {
                window.clear_timeout_with_handle(timer);
            }
        }
        self.observer.disconnect();
        self.inner.socket.borrow_mut().take();
        for disposable in &self.disposables {
            disposable.dispose();
        }
        self.touch.take();
        self.renderer.take();
        self.inner.terminal.dispose();
    }
}

impl Inner {
    /// Sends typed or pasted input, a big paste in several messages.
    fn send_input(&self, bytes: &[u8]) {
        for message in ttyd::input_messages(bytes) {
            self.send(&message);
        }
    }

    /// Sends a message if the socket is open; input typed while disconnected is dropped.
    fn send(&self, message: &[u8]) {
        if let Some(connection) = self.socket.borrow().as_ref() {
            if connection.socket.ready_state() == WebSocket::OPEN {
                connection.socket.send_with_u8_array(message).ok();
            }
        }
    }
}

fn with(inner: &Weak<Inner>, f: impl FnOnce(&Inner)) {
    if let Some(inner) = inner.upgrade() {
        f(&inner);
    }
}

/// Opens a new websocket to the worker's terminal, replacing any previous one.
fn connect(inner: &Rc<Inner>) -> Result<(), JsValue> {
    let socket = WebSocket::new_with_str(&socket_url(&inner.path)?, ttyd::SUBPROTOCOL)?;
    socket.set_binary_type(BinaryType::Arraybuffer);

    let on_open = {
        let inner = Rc::downgrade(inner);
        Closure::<dyn FnMut()>::new(move || {
            with(&inner, |inner| {
                inner.failures.set(0);
                let terminal = &inner.terminal;
                inner.send(&ttyd::handshake(terminal.cols(), terminal.rows()));
                inner.state.set(ConnectionState::Connected);
                terminal.focus();
            });
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));

    let on_message = {
        let inner = Rc::downgrade(inner);
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() else {
                return;
            };
            // Only the command byte is copied into WASM; the output goes to xterm.js as a
            // view of the message's own buffer.
            let whole = Uint8Array::new(&buffer);
            if whole.length() > 0 && whole.get_index(0) == ttyd::OUTPUT {
                with(&inner, |inner| {
                    inner
                        .terminal
                        .write(&Uint8Array::new_with_byte_offset(&buffer, 1));
                });
            }
        })
    };
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

    let on_close = {
        let inner = Rc::downgrade(inner);
        Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            if event.code() == close_codes::SESSION_ENDED {
                // Logged out (here or elsewhere): reconnecting would only be refused.
                crate::login::go_to_login();
                return;
            }
            if let Some(inner) = inner.upgrade() {
                let state = if event.code() == close_codes::TERMINAL_UNREACHABLE {
                    ConnectionState::WorkerStopped
                } else {
                    ConnectionState::Reconnecting
                };
                inner.state.set(state);
                schedule_retry(&inner);
            }
        })
    };
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

    inner.socket.replace(Some(Connection {
        socket,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    }));
    Ok(())
}

/// Tries again after a pause that doubles with every failure, up to [`RETRY_MAX_MS`].
fn schedule_retry(inner: &Rc<Inner>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let failures = inner.failures.get();
    inner.failures.set(failures.saturating_add(1));
    let delay = RETRY_FIRST_MS
        .saturating_mul(1 << failures.min(6))
        .min(RETRY_MAX_MS);
    let weak = Rc::downgrade(inner);
    let retry = Closure::once_into_js(move || {
        if let Some(inner) = weak.upgrade() {
            inner.retry.set(None);
            reconnect(&inner);
        }
    });
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), delay)
        .ok();
    inner.retry.set(timer);
}

fn retry_now(inner: &Rc<Inner>) {
    if let (Some(window), Some(timer)) = (web_sys::window(), inner.retry.take()) {
        window.clear_timeout_with_handle(timer);
    }
    reconnect(inner);
}

fn reconnect(inner: &Rc<Inner>) {
    if connect(inner).is_err() {
        schedule_retry(inner);
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
