//! The phone key bar: the keys an on-screen keyboard lacks (Esc, Tab, sticky Ctrl and Alt,
//! arrows, paste), and the terminal's font size. Its buttons keep the focus in the terminal,
//! so the keyboard stays up.

use leptos::ev::PointerEvent;
use leptos::prelude::*;

use super::font;

/// What the key bar shares with the terminals: keys to send, the sticky modifiers that
/// apply to the next key typed on the keyboard, and the font size.
#[derive(Clone, Copy)]
pub struct KeyBarState {
    pub send: RwSignal<Option<Vec<u8>>>,
    /// Text from the clipboard, to paste through the terminal.
    pub paste: RwSignal<Option<String>>,
    pub ctrl: RwSignal<bool>,
    pub alt: RwSignal<bool>,
    /// In CSS pixels; every terminal given this state follows it.
    pub font_size: RwSignal<u8>,
}

impl KeyBarState {
    pub fn new() -> Self {
        KeyBarState {
            send: RwSignal::new(None),
            paste: RwSignal::new(None),
            ctrl: RwSignal::new(false),
            alt: RwSignal::new(false),
            font_size: RwSignal::new(font::remembered()),
        }
    }

    /// Applies (and releases) the sticky modifiers to what the keyboard typed.
    pub fn typed(&self, data: &str) -> Vec<u8> {
        with_modifiers(data.as_bytes(), take(self.ctrl), take(self.alt))
    }

    /// A key from the bar: Alt applies; Ctrl stays for the next typed key (it does not
    /// change Esc, Tab or the arrows).
    fn typed_raw(&self, bytes: &[u8]) -> Vec<u8> {
        with_modifiers(bytes, false, take(self.alt))
    }
}

/// Whether a sticky modifier is on; it is released by being used.
fn take(modifier: RwSignal<bool>) -> bool {
    let on = modifier.get_untracked();
    if on {
        modifier.set(false);
    }
    on
}

impl Default for KeyBarState {
    fn default() -> Self {
        Self::new()
    }
}

/// `data` as a terminal sends it with Ctrl and/or Alt held: Ctrl turns one ASCII character
/// into its control code (c → 0x03), Alt prefixes ESC.
pub fn with_modifiers(data: &[u8], ctrl: bool, alt: bool) -> Vec<u8> {
    let mut bytes = data.to_vec();
    if ctrl && bytes.len() == 1 {
        bytes[0] = match bytes[0] {
            b'?' => 0x7f,
            c @ (b'@'..=b'_' | b'a'..=b'z') => c.to_ascii_uppercase() & 0x1f,
            b' ' => 0,
            c => c,
        };
    }
    if alt {
        bytes.insert(0, 0x1b);
    }
    bytes
}

const ESC: &[u8] = b"\x1b";
const TAB: &[u8] = b"\t";
const LEFT: &[u8] = b"\x1b[D";
const UP: &[u8] = b"\x1b[A";
const DOWN: &[u8] = b"\x1b[B";
const RIGHT: &[u8] = b"\x1b[C";

#[component]
pub fn KeyBar(keys: KeyBarState) -> impl IntoView {
    // pointerdown, not click: acting before the focus moves keeps the phone keyboard open.
    let key = move |bytes: &'static [u8]| {
        move |ev: PointerEvent| {
            ev.prevent_default();
            keys.send.set(Some(keys.typed_raw(bytes)));
        }
    };
    let toggle = move |modifier: RwSignal<bool>| {
        move |ev: PointerEvent| {
            ev.prevent_default();
            modifier.update(|on| *on = !*on);
        }
    };
    let paste = move |ev: PointerEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        read_clipboard(keys.paste);
    };
    let font_size = move |step: fn(u8) -> u8| {
        move |ev: PointerEvent| {
            ev.prevent_default();
            let size = step(keys.font_size.get_untracked());
            keys.font_size.set(size);
            #[cfg(feature = "hydrate")]
            font::remember(size);
        }
    };
    // A size chosen in another tab applies here too.
    #[cfg(feature = "hydrate")]
    {
        let listener = window_event_listener(leptos::ev::storage, move |_| {
            keys.font_size.set(font::remembered());
        });
        on_cleanup(move || listener.remove());
    }
    view! {
        <div class="key-bar" role="toolbar" aria-label="Terminal keys">
            <button on:pointerdown=key(ESC)>"Esc"</button>
            <button on:pointerdown=key(TAB)>"Tab"</button>
            <button class:active=move || keys.ctrl.get() aria-pressed=move || keys.ctrl.get().to_string()
                on:pointerdown=toggle(keys.ctrl)>"Ctrl"</button>
            <button class:active=move || keys.alt.get() aria-pressed=move || keys.alt.get().to_string()
                on:pointerdown=toggle(keys.alt)>"Alt"</button>
            <button on:pointerdown=key(LEFT) aria-label="Left">"←"</button>
            <button on:pointerdown=key(UP) aria-label="Up">"↑"</button>
            <button on:pointerdown=key(DOWN) aria-label="Down">"↓"</button>
            <button on:pointerdown=key(RIGHT) aria-label="Right">"→"</button>
            <button on:pointerdown=paste>"Paste"</button>
            <button on:pointerdown=font_size(font::smaller) aria-label="Smaller text">"A−"</button>
            <button on:pointerdown=font_size(font::larger) aria-label="Larger text">"A+"</button>
        </div>
    }
}

/// Reads the clipboard (the browser may ask the user first) and hands the text to `paste`.
#[cfg(feature = "hydrate")]
fn read_clipboard(paste: RwSignal<Option<String>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let read = window.navigator().clipboard().read_text();
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(read).await {
            Ok(text) => paste.set(text.as_string()),
            Err(e) => leptos::logging::warn!("clipboard not readable: {e:?}"),
        }
    });
}

/// Mouse-wheel events in SGR encoding (the one tmux asks for) at a cell: a finger moving down
/// (positive `lines`) shows older lines, as the wheel turned up does.
#[cfg(any(feature = "hydrate", test))]
pub fn wheel(lines: i32, column: u16, row: u16) -> Vec<u8> {
    let button = if lines > 0 { 64 } else { 65 };
    let event = format!("\x1b[<{button};{column};{row}M");
    event.repeat(lines.unsigned_abs() as usize).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_makes_control_codes() {
        assert_eq!(with_modifiers(b"c", true, false), [0x03]);
        assert_eq!(with_modifiers(b"C", true, false), [0x03]);
        assert_eq!(with_modifiers(b"[", true, false), [0x1b]);
        assert_eq!(with_modifiers(b"?", true, false), [0x7f]);
        assert_eq!(with_modifiers(b" ", true, false), [0x00]);
        assert_eq!(with_modifiers(b"1", true, false), b"1");
        assert_eq!(with_modifiers(b"ls", true, false), b"ls");
    }

    #[test]
    fn alt_prefixes_escape() {
        assert_eq!(with_modifiers(b"b", false, true), b"\x1bb");
        assert_eq!(with_modifiers(b"x", true, true), [0x1b, 0x18]);
        assert_eq!(with_modifiers(b"plain", false, false), b"plain");
    }

    #[test]
    fn a_drag_becomes_wheel_events_in_sgr_encoding() {
        assert_eq!(wheel(2, 40, 12), b"\x1b[<64;40;12M\x1b[<64;40;12M");
        assert_eq!(wheel(-1, 1, 1), b"\x1b[<65;1;1M");
        assert!(wheel(0, 1, 1).is_empty());
    }
}
