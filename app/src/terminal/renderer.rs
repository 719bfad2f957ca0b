//! Drawing: xterm.js's WebGL renderer where the browser has WebGL (much faster for a busy
//! screen), its DOM renderer otherwise, and back to the DOM renderer if the GPU takes the
//! context away.
//!
//! WebGL above a device pixel ratio of 1: @xterm/addon-webgl 0.19 sizes its canvas's drawing
//! buffer from what a `device-pixel-content-box` ResizeObserver reports, but its GL viewport
//! (and the resolution its shaders divide by) from its own cell arithmetic, and only the
//! latter when the terminal is laid out (xtermjs/xterm.js PR #6115). Where the browser's
//! device-pixel box is not the CSS box times the ratio (Chromium's device emulation reports
//! CSS pixels: DevTools' device mode, headless Chromium at a device scale factor), the buffer
//! is left a fraction of the viewport and the text lands outside it: a blank terminal. We
//! keep WebGL and watch the same box: when a canvas's buffer is off the scale its box and the
//! ratio give, xterm.js is made to lay the terminal out again, which sizes the buffer and the
//! viewport together. WebGL rather than the DOM renderer on such screens because it stays
//! fast on the busy, colourful screens Claude Code draws, and the repair costs one layout
//! after a resize, only where the browser misreports; the DOM renderer stays the fallback
//! without WebGL or after a context loss.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::{RwSignal, Set};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, EventTarget};

use super::xterm::{Disposable, Terminal, Webgl};

/// Keeps the WebGL addon and its context-loss handler for as long as the terminal lives.
pub struct Renderer {
    webgl: Option<WebglRenderer>,
}

struct WebglRenderer {
    addon: Webgl,
    subscription: Disposable,
    _on_lost: Closure<dyn FnMut()>,
    scale: ScaleGuard,
}

impl Renderer {
    pub fn attach(terminal: &Terminal, kind: RwSignal<&'static str>) -> Result<Renderer, JsValue> {
        let Ok(addon) = Webgl::new() else {
            kind.set("dom");
            return Ok(Renderer { webgl: None });
        };
        if terminal.load_addon(&addon).is_err() {
            // No WebGL here (no GPU, or it is switched off): xterm keeps its DOM renderer.
            kind.set("dom");
            return Ok(Renderer { webgl: None });
        }
        let lost = {
            let addon = addon.clone();
            Closure::<dyn FnMut()>::new(move || {
                addon.dispose();
                kind.set("dom");
            })
        };
        let subscription = addon.on_context_loss(&lost);
        let scale = ScaleGuard::watch(terminal)?;
        kind.set("webgl");
        Ok(Renderer {
            webgl: Some(WebglRenderer {
                addon,
                subscription,
                _on_lost: lost,
                scale,
            }),
        })
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        if let Some(webgl) = self.webgl.take() {
            webgl.scale.observer.disconnect();
            webgl.subscription.dispose();
            webgl.addon.dispose();
        }
    }
}

/// Watches the WebGL renderer's canvases and lays the terminal out again whenever one's
/// drawing buffer is off scale (see the module's comment).
struct ScaleGuard {
    observer: BoxObserver,
    _on_resize: Closure<dyn FnMut()>,
}

impl ScaleGuard {
    fn watch(terminal: &Terminal) -> Result<ScaleGuard, JsValue> {
        let screen = terminal
            .element()
            .and_then(|element| element.query_selector(".xterm-screen").ok().flatten())
            .ok_or("the terminal is not open")?;
        let canvases: Vec<Canvas> =
            std::iter::successors(screen.first_element_child(), Element::next_element_sibling)
                .filter(|child| child.tag_name().eq_ignore_ascii_case("canvas"))
                .map(JsCast::unchecked_into)
                .collect();
        let on_resize = {
            let terminal = terminal.clone();
            let canvases = canvases.clone();
            // The addon's own observer was made first, so it has already resized the buffer
            // when this one is called (observers are called in the order they were made).
            Closure::<dyn FnMut()>::new(move || {
                if canvases.iter().any(off_scale) {
                    lay_out_again(&terminal);
                }
            })
        };
        let observer = BoxObserver::new(on_resize.as_ref().unchecked_ref());
        let options = js_sys::JSON::parse(r#"{"box": "device-pixel-content-box"}"#)?;
        for canvas in &canvases {
            observer.observe(canvas, &options);
        }
        Ok(ScaleGuard {
            observer,
            _on_resize: on_resize,
        })
    }
}

/// Whether a canvas's drawing buffer is more than a CSS pixel off its box times the device
/// pixel ratio. Less is the rounding the addon's observer is there to correct.
fn off_scale(canvas: &Canvas) -> bool {
    let (width, height) = (canvas.client_width(), canvas.client_height());
    if width == 0 || height == 0 {
        // Not laid out: hidden, or gone with the addon after a context loss.
        return false;
    }
    let ratio = web_sys::window().map_or(1.0, |window| window.device_pixel_ratio());
    let off = |buffer: u32, css: i32| (f64::from(buffer) - f64::from(css) * ratio).abs() > ratio;
    off(canvas.width(), width) || off(canvas.height(), height)
}

/// Makes xterm.js work out its render dimensions again, as a change of font does: the WebGL
/// renderer then sizes its drawing buffer and its viewport together. The size is back before
/// anything is drawn.
fn lay_out_again(terminal: &Terminal) {
    let options = terminal.options();
    let size = options.font_size();
    options.set_font_size(size + 1.0);
    options.set_font_size(size);
}

/// Calls back whenever the device pixel ratio changes (browser zoom, the window moved to a
/// screen of another density). A resolution query matches one ratio only, so a new one is
/// armed after every change.
pub struct RatioWatch {
    state: Rc<RatioState>,
}

struct RatioState {
    query: RefCell<Option<MediaQueryList>>,
    listener: Closure<dyn FnMut()>,
}

impl RatioWatch {
    pub fn new(mut on_change: impl FnMut() + 'static) -> RatioWatch {
        let state = Rc::new_cyclic(|me: &Weak<RatioState>| {
            let me = me.clone();
            RatioState {
                query: RefCell::new(None),
                listener: Closure::new(move || {
                    if let Some(state) = me.upgrade() {
                        state.arm();
                    }
                    on_change();
                }),
            }
        });
        state.arm();
        RatioWatch { state }
    }
}

impl RatioState {
    fn arm(&self) {
        self.disarm();
        let Some(window) = web_sys::window() else {
            return;
        };
        let query = match_media(&format!(
            "(resolution: {}dppx)",
            window.device_pixel_ratio()
        ));
        query
            .add_event_listener_with_callback("change", self.listener.as_ref().unchecked_ref())
            .ok();
        self.query.replace(Some(query));
    }

    fn disarm(&self) {
        if let Some(query) = self.query.take() {
            query
                .remove_event_listener_with_callback(
                    "change",
                    self.listener.as_ref().unchecked_ref(),
                )
                .ok();
        }
    }
}

impl Drop for RatioWatch {
    fn drop(&mut self) {
        self.state.disarm();
    }
}

// Bound here rather than through web-sys, whose features for them this crate does not enable.
#[wasm_bindgen]
extern "C" {
    /// A canvas: its drawing buffer's size in device pixels.
    #[wasm_bindgen(extends = Element)]
    #[derive(Clone)]
    type Canvas;

    #[wasm_bindgen(method, getter)]
    fn width(this: &Canvas) -> u32;

    #[wasm_bindgen(method, getter)]
    fn height(this: &Canvas) -> u32;

    /// A ResizeObserver that is told which box to watch.
    #[wasm_bindgen(js_name = ResizeObserver)]
    type BoxObserver;

    #[wasm_bindgen(constructor, js_class = ResizeObserver)]
    fn new(callback: &js_sys::Function) -> BoxObserver;

    #[wasm_bindgen(method, js_class = ResizeObserver)]
    fn observe(this: &BoxObserver, target: &Element, options: &JsValue);

    #[wasm_bindgen(method, js_class = ResizeObserver)]
    fn disconnect(this: &BoxObserver);

    #[wasm_bindgen(extends = EventTarget)]
    type MediaQueryList;

    #[wasm_bindgen(js_name = matchMedia)]
    fn match_media(query: &str) -> MediaQueryList;
}
