//! Thin bindings to @xterm/xterm 6 and its fit and WebGL addons, loaded as page globals
//! (`Terminal`, `FitAddon.FitAddon`, `WebglAddon.WebglAddon`). Only what the session uses is
//! bound.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    pub type Terminal;

    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Terminal;

    #[wasm_bindgen(method)]
    pub fn open(this: &Terminal, parent: &HtmlElement);

    /// The terminal's own element, once it is open.
    #[wasm_bindgen(method, getter)]
    pub fn element(this: &Terminal) -> Option<HtmlElement>;

    /// Its options; setting one applies it at once.
    #[wasm_bindgen(method, getter)]
    pub fn options(this: &Terminal) -> Options;

    /// Output as UTF-8 bytes; xterm.js may keep the array until it is parsed, so it must not
    /// be a view into WASM memory.
    #[wasm_bindgen(method)]
    pub fn write(this: &Terminal, data: &Uint8Array);

    #[wasm_bindgen(method, js_name = write)]
    pub fn write_str(this: &Terminal, data: &str);

    /// Pastes like the user's own paste: line endings and bracketed paste as the program asks.
    #[wasm_bindgen(method)]
    pub fn paste(this: &Terminal, data: &str);

    #[wasm_bindgen(method, getter)]
    pub fn cols(this: &Terminal) -> u16;

    #[wasm_bindgen(method, getter)]
    pub fn rows(this: &Terminal) -> u16;

    #[wasm_bindgen(method)]
    pub fn focus(this: &Terminal);

    #[wasm_bindgen(method)]
    pub fn dispose(this: &Terminal);

    /// Throws when the addon cannot start (the WebGL one without WebGL).
    #[wasm_bindgen(method, catch, js_name = loadAddon)]
    pub fn load_addon(this: &Terminal, addon: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method, js_name = getSelection)]
    pub fn get_selection(this: &Terminal) -> String;

    #[wasm_bindgen(method, js_name = hasSelection)]
    pub fn has_selection(this: &Terminal) -> bool;

    #[wasm_bindgen(method, js_name = clearSelection)]
    pub fn clear_selection(this: &Terminal);

    /// Scrolls xterm's own scrollback (used when the program does not take the mouse).
    #[wasm_bindgen(method, js_name = scrollLines)]
    pub fn scroll_lines(this: &Terminal, amount: i32);

    /// Which mouse events the program asked for: "none" unless it takes the mouse (tmux does).
    #[wasm_bindgen(method, getter)]
    pub fn modes(this: &Terminal) -> Modes;

    /// `false` from the handler keeps a key from xterm.js (the browser still acts on it).
    #[wasm_bindgen(method, js_name = attachCustomKeyEventHandler)]
    pub fn attach_custom_key_event_handler(
        this: &Terminal,
        handler: &Closure<dyn FnMut(web_sys::KeyboardEvent) -> bool>,
    );

    #[wasm_bindgen(method, js_name = onTitleChange)]
    pub fn on_title_change(this: &Terminal, listener: &Closure<dyn FnMut(String)>) -> Disposable;

    #[wasm_bindgen(method, js_name = onBell)]
    pub fn on_bell(this: &Terminal, listener: &Closure<dyn FnMut()>) -> Disposable;

    #[wasm_bindgen(method, js_name = onData)]
    pub fn on_data(this: &Terminal, listener: &Closure<dyn FnMut(String)>) -> Disposable;

    #[wasm_bindgen(method, js_name = onResize)]
    pub fn on_resize(this: &Terminal, listener: &Closure<dyn FnMut(Dimensions)>) -> Disposable;
}

#[wasm_bindgen]
extern "C" {

    /// `{ cols, rows }` as passed to `onResize` listeners.
    pub type Dimensions;

    #[wasm_bindgen(method, getter)]
    pub fn cols(this: &Dimensions) -> u16;

    #[wasm_bindgen(method, getter)]
    pub fn rows(this: &Dimensions) -> u16;

    pub type Options;

    #[wasm_bindgen(method, getter, js_name = fontSize)]
    pub fn font_size(this: &Options) -> f64;

    #[wasm_bindgen(method, setter, js_name = fontSize)]
    pub fn set_font_size(this: &Options, size: f64);

    pub type Modes;

    #[wasm_bindgen(method, getter, js_name = mouseTrackingMode)]
    pub fn mouse_tracking_mode(this: &Modes) -> String;

    pub type Disposable;

    #[wasm_bindgen(method)]
    pub fn dispose(this: &Disposable);
}

/// The fit addon's UMD bundle exposes its class as `FitAddon.FitAddon`.
#[wasm_bindgen(js_namespace = FitAddon)]
extern "C" {
    #[wasm_bindgen(js_name = FitAddon)]
    #[derive(Clone)]
    pub type Fit;

    #[wasm_bindgen(constructor, js_class = FitAddon)]
    pub fn new() -> Fit;

    #[wasm_bindgen(method, js_class = FitAddon)]
    pub fn fit(this: &Fit);
}

/// The WebGL renderer's UMD bundle exposes its class as `WebglAddon.WebglAddon`.
#[wasm_bindgen(js_namespace = WebglAddon)]
extern "C" {
    #[wasm_bindgen(js_name = WebglAddon)]
    #[derive(Clone)]
    pub type Webgl;

    #[wasm_bindgen(constructor, catch, js_class = WebglAddon)]
    pub fn new() -> Result<Webgl, JsValue>;

    /// The GPU took the context away (driver reset, too many contexts): the addon must go.
    #[wasm_bindgen(method, js_class = WebglAddon, js_name = onContextLoss)]
    pub fn on_context_loss(this: &Webgl, listener: &Closure<dyn FnMut()>) -> Disposable;

    #[wasm_bindgen(method, js_class = WebglAddon)]
    pub fn dispose(this: &Webgl);
}
