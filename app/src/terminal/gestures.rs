//! What people expect from a terminal beyond typing: the copy and paste shortcuts of desktop
//! terminals, and scrolling back with a finger on a phone.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent, TouchEvent};

use super::keys::wheel;
use super::xterm::Terminal;

/// Ctrl+Shift+C (and Ctrl+Insert) copy the selection; Ctrl+C copies when there is a selection
/// and interrupts otherwise; Ctrl+Shift+V and Shift+Insert paste. Pastes are left to the
/// browser, whose paste event xterm.js turns into input (bracketed when the program asks).
pub fn copy_paste_keys(terminal: &Terminal) -> Closure<dyn FnMut(KeyboardEvent) -> bool> {
    let terminal = terminal.clone();
    Closure::new(move |event: KeyboardEvent| {
        if event.type_() != "keydown" || event.meta_key() {
            return true;
        }
        let key = event.key().to_ascii_lowercase();
        let (ctrl, shift) = (event.ctrl_key(), event.shift_key());
        let copy = match (ctrl, shift, key.as_str()) {
            (true, true, "c") | (true, false, "insert") => true,
            (true, false, "c") => terminal.has_selection(),
            _ => false,
        };
        if copy {
            // The copy command fires the browser's copy event on xterm.js's textarea, which
            // puts the selection on the clipboard; unlike the Clipboard API this also works on
            // a plain-http address of the farm.
            copy_command();
            if !shift {
                terminal.clear_selection();
            }
            event.prevent_default();
            return false;
        }
        let paste = matches!(
            (ctrl, shift, key.as_str()),
            (true, true, "v") | (false, true, "insert")
        );
        !paste
    })
}

fn copy_command() {
    if let Some(document) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
    {
        document.exec_command("copy").ok();
    }
}

/// A finger dragged over the terminal scrolls it. tmux takes the mouse, so the drag becomes
/// mouse-wheel events for tmux (its copy mode shows the scrollback); a program that does not
/// take the mouse gets xterm.js's own scrollback moved instead.
pub struct TouchScroll {
    host: HtmlElement,
    on_start: Closure<dyn FnMut(TouchEvent)>,
    on_move: Closure<dyn FnMut(TouchEvent)>,
}

impl TouchScroll {
    pub fn attach(
        host: &HtmlElement,
        terminal: &Terminal,
        send: impl Fn(&[u8]) + 'static,
    ) -> Result<TouchScroll, JsValue> {
        let last_y = std::rc::Rc::new(std::cell::Cell::new(None::<f64>));
        let on_start = {
            let last_y = last_y.clone();
            Closure::<dyn FnMut(TouchEvent)>::new(move |event: TouchEvent| {
                let single = event.touches().length() == 1;
                last_y.set(
                    single
                        .then(|| event.touches().get(0))
                        .flatten()
                        .map(|t| f64::from(t.client_y())),
                );
            })
        };
        let on_move = {
            let terminal = terminal.clone();
            let host = host.clone();
            Closure::<dyn FnMut(TouchEvent)>::new(move |event: TouchEvent| {
                let (Some(start), Some(touch)) = (last_y.get(), event.touches().get(0)) else {
                    return;
                };
                let rows = terminal.rows().max(1);
                let line = f64::from(host.client_height()) / f64::from(rows);
                let moved = f64::from(touch.client_y()) - start;
                let lines = (moved / line.max(1.0)).trunc() as i32;
                if lines == 0 {
                    return;
                }
                event.prevent_default();
                last_y.set(Some(start + f64::from(lines) * line));
                if terminal.modes().mouse_tracking_mode() == "none" {
                    terminal.scroll_lines(-lines);
                } else {
                    send(&wheel(lines, terminal.cols() / 2 + 1, rows / 2 + 1));
                }
            })
        };
        let options = web_sys::AddEventListenerOptions::new();
        options.set_passive(true);
        host.add_event_listener_with_callback_and_add_event_listener_options(
            "touchstart",
            on_start.as_ref().unchecked_ref(),
            &options,
        )?;
        // Not passive: a drag that scrolls the terminal must not also scroll the page.
        options.set_passive(false);
        host.add_event_listener_with_callback_and_add_event_listener_options(
            "touchmove",
            on_move.as_ref().unchecked_ref(),
            &options,
        )?;
        Ok(TouchScroll {
            host: host.clone(),
            on_start,
            on_move,
        })
    }
}

impl Drop for TouchScroll {
    fn drop(&mut self) {
        let host = &self.host;
        host.remove_event_listener_with_callback(
            "touchstart",
            self.on_start.as_ref().unchecked_ref(),
        )
        .ok();
        host.remove_event_listener_with_callback(
            "touchmove",
            self.on_move.as_ref().unchecked_ref(),
        )
        .ok();
    }
}
