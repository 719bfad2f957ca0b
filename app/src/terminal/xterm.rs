//! Thin bindings to @xterm/xterm 6 and its fit addon, loaded as page globals (`Terminal`,
//! `FitAddon.FitAddon`). Only what the session uses is bound.

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

    #[wasm_bindgen(method, js_name = loadAddon)]
    pub fn load_addon(this: &Terminal, addon: &Fit);

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

    pub type Disposable;

    #[wasm_bindgen(method)]
    pub fn dispose(this: &Disposable);
}

/// The fit addon's UMD bundle exposes its class as `FitAddon.FitAddon`.
#[wasm_bindgen(js_namespace = FitAddon)]
extern "C" {
    #[wasm_bindgen(js_name = FitAddon)]
    pub type Fit;

    #[wasm_bindgen(constructor, js_class = FitAddon)]
    pub fn new() -> Fit;

    #[wasm_bindgen(method, js_class = FitAddon)]
    pub fn fit(this: &Fit);
}
