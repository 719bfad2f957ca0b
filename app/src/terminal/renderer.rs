//! Drawing: xterm.js's WebGL renderer where the browser has WebGL (much faster for a busy
//! screen), its DOM renderer otherwise, and back to the DOM renderer if the GPU takes the
//! context away.

use leptos::prelude::{RwSignal, Set};
use wasm_bindgen::prelude::*;

use super::xterm::{Disposable, Terminal, Webgl};

/// Keeps the WebGL addon and its context-loss handler for as long as the terminal lives.
pub struct Renderer {
    webgl: Option<WebglRenderer>,
}

struct WebglRenderer {
    addon: Webgl,
    subscription: Disposable,
    _on_lost: Closure<dyn FnMut()>,
}

impl Renderer {
    pub fn attach(terminal: &Terminal, kind: RwSignal<&'static str>) -> Renderer {
        let Ok(addon) = Webgl::new() else {
            kind.set("dom");
            return Renderer { webgl: None };
        };
        if terminal.load_addon(&addon).is_err() {
            // No WebGL here (no GPU, or it is switched off): xterm keeps its DOM renderer.
            kind.set("dom");
            return Renderer { webgl: None };
        }
        let lost = {
            let addon = addon.clone();
            Closure::<dyn FnMut()>::new(move || {
                addon.dispose();
                kind.set("dom");
            })
        };
        let subscription = addon.on_context_loss(&lost);
        kind.set("webgl");
        Renderer {
            webgl: Some(WebglRenderer {
                addon,
                subscription,
                _on_lost: lost,
            }),
        }
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        if let Some(webgl) = self.webgl.take() {
            webgl.subscription.dispose();
            webgl.addon.dispose();
        }
    }
}
