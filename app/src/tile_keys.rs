//! Moving the keyboard between the multi view's tiles without a mouse: Alt+Shift+→ and ←
//! (or ↓ and ↑) go to the next and previous tile. The shortcut is caught before the terminal
//! sees it, so no program in a tile receives it; no common terminal program binds it.

/// The tile `step` places away from `current` among `ids`, wrapping around; the first (or
/// last) tile when none is current.
pub fn neighbour<'a>(ids: &'a [String], current: Option<&str>, step: isize) -> Option<&'a str> {
    let len = isize::try_from(ids.len()).ok().filter(|&n| n > 0)?;
    let at = current.and_then(|c| ids.iter().position(|id| id == c));
    let next = match at {
        Some(at) => (isize::try_from(at).ok()? + step).rem_euclid(len),
        None if step < 0 => len - 1,
        None => 0,
    };
    ids.get(usize::try_from(next).ok()?).map(String::as_str)
}

/// Which way a key moves, when it is the shortcut.
fn step_of(alt: bool, shift: bool, ctrl: bool, key: &str) -> Option<isize> {
    if !alt || !shift || ctrl {
        return None;
    }
    match key {
        "ArrowRight" | "ArrowDown" => Some(1),
        "ArrowLeft" | "ArrowUp" => Some(-1),
        _ => None,
    }
}

#[cfg(feature = "hydrate")]
pub use listen::TileKeys;

#[cfg(feature = "hydrate")]
mod listen {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{AddEventListenerOptions, HtmlElement, KeyboardEvent};

    use super::{neighbour, step_of};

    /// The shortcut, listened for on the window while the multi view is shown. It listens in
    /// the capture phase so it runs before xterm.js's own handler on its textarea.
    pub struct TileKeys {
        listener: Closure<dyn FnMut(KeyboardEvent)>,
    }

    impl TileKeys {
        pub fn attach(shown: Memo<Vec<String>>, active: RwSignal<Option<String>>) -> Option<Self> {
            let listener = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
                let Some(step) = step_of(
                    event.alt_key(),
                    event.shift_key(),
                    event.ctrl_key() || event.meta_key(),
                    &event.key(),
                ) else {
                    return;
                };
                let ids = shown.get_untracked();
                let current = active.get_untracked();
                let Some(next) = neighbour(&ids, current.as_deref(), step) else {
                    return;
                };
                event.prevent_default();
                event.stop_propagation();
                focus_tile(next);
            });
            let options = AddEventListenerOptions::new();
            options.set_capture(true);
            web_sys::window()?
                .add_event_listener_with_callback_and_add_event_listener_options(
                    "keydown",
                    listener.as_ref().unchecked_ref(),
                    &options,
                )
                .ok()?;
            Some(TileKeys { listener })
        }
    }

    impl Drop for TileKeys {
        fn drop(&mut self) {
            if let Some(window) = web_sys::window() {
                window
                    .remove_event_listener_with_callback_and_bool(
                        "keydown",
                        self.listener.as_ref().unchecked_ref(),
                        true,
                    )
                    .ok();
            }
        }
    }

    /// Gives the keyboard to a tile's terminal; its focus event makes it the active tile.
    fn focus_tile(id: &str) {
        // Worker ids are slugs (letters, digits, dashes), safe inside the selector.
        let selector = format!("[data-tile=\"{id}\"] textarea");
        let target = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&selector).ok().flatten())
            .and_then(|e| e.dyn_into::<HtmlElement>().ok());
        if let Some(textarea) = target {
            textarea.focus().ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn steps_wrap_around_the_tiles() {
        let three = ids(&["a", "b", "c"]);
        assert_eq!(neighbour(&three, Some("a"), 1), Some("b"));
        assert_eq!(neighbour(&three, Some("c"), 1), Some("a"));
        assert_eq!(neighbour(&three, Some("a"), -1), Some("c"));
        assert_eq!(neighbour(&three, Some("b"), -1), Some("a"));
    }

    #[test]
    fn without_a_current_tile_it_starts_at_an_end() {
        let three = ids(&["a", "b", "c"]);
        assert_eq!(neighbour(&three, None, 1), Some("a"));
        assert_eq!(neighbour(&three, None, -1), Some("c"));
        // A tile that left the grid counts as none.
        assert_eq!(neighbour(&three, Some("gone"), 1), Some("a"));
        assert_eq!(neighbour(&[], None, 1), None);
        assert_eq!(neighbour(&ids(&["only"]), Some("only"), 1), Some("only"));
    }

    #[test]
    fn only_alt_shift_arrows_are_the_shortcut() {
        assert_eq!(step_of(true, true, false, "ArrowRight"), Some(1));
        assert_eq!(step_of(true, true, false, "ArrowDown"), Some(1));
        assert_eq!(step_of(true, true, false, "ArrowLeft"), Some(-1));
        assert_eq!(step_of(true, true, false, "ArrowUp"), Some(-1));
        assert_eq!(step_of(true, false, false, "ArrowRight"), None);
        assert_eq!(step_of(false, true, false, "ArrowRight"), None);
        assert_eq!(step_of(true, true, true, "ArrowRight"), None);
        assert_eq!(step_of(true, true, false, "x"), None);
    }
}
