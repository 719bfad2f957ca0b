//! The dashboard's layout as the user left it: whether the multi view is on, which workers
//! have a tile, which tile is maximised. Kept in the browser's local storage, so that a
//! reload (or the next visit) finds the same grid.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
const KEY: &str = "claude-worker-farm.layout";

#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub multi: RwSignal<bool>,
    /// Worker ids, in the order their tiles were added.
    pub tiles: RwSignal<Vec<String>>,
    pub maximised: RwSignal<Option<String>>,
}

impl Layout {
    /// Starts as the server rendered it (no grid), so that hydration matches; once the page
    /// is live the saved layout is loaded, and from then on every change is saved.
    pub fn load() -> Layout {
        let layout = Layout {
            multi: RwSignal::new(false),
            tiles: RwSignal::new(Vec::new()),
            maximised: RwSignal::new(None),
        };
        #[cfg(feature = "hydrate")]
        Effect::new(move |loaded: Option<()>| {
            let storage = storage();
            if loaded.is_none() {
                if let Some(saved) = storage
                    .as_ref()
                    .and_then(|s| s.get_item(KEY).ok().flatten())
                {
                    layout.restore(&saved);
                }
            }
            let encoded = layout.encode();
            if let Some(storage) = storage {
                storage.set_item(KEY, &encoded).ok();
            }
        });
        layout
    }

    /// Adds the worker's tile, or removes it if it has one.
    pub fn toggle(&self, id: &str) {
        self.tiles.update(|tiles| toggle_id(tiles, id));
        if self.maximised.get_untracked().as_deref() == Some(id) {
            self.maximised.set(None);
        }
    }

    /// One line: `multi=1;tiles=a,b;max=b`. Ids are slugs, so commas and semicolons are free.
    #[cfg(any(feature = "hydrate", test))]
    fn encode(&self) -> String {
        format!(
            "multi={};tiles={};max={}",
            u8::from(self.multi.get()),
            self.tiles.get().join(","),
            self.maximised.get().unwrap_or_default()
        )
    }

    #[cfg(any(feature = "hydrate", test))]
    fn restore(&self, saved: &str) {
        for part in saved.split(';') {
            match part.split_once('=') {
                Some(("multi", on)) => self.multi.set(on == "1"),
                Some(("tiles", ids)) => self.tiles.set(
                    ids.split(',')
                        .filter(|id| farm::worker::is_valid_id(id))
                        .map(str::to_owned)
                        .collect(),
                ),
                Some(("max", id)) if farm::worker::is_valid_id(id) => {
                    self.maximised.set(Some(id.to_owned()))
                }
                _ => {}
            }
        }
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Adds `id` to the list, or takes it out if it is there.
pub fn toggle_id(ids: &mut Vec<String>, id: &str) {
    if let Some(at) = ids.iter().position(|i| i == id) {
        ids.remove(at);
    } else {
        ids.push(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_layout_comes_back_and_bad_ids_are_dropped() {
        // Signals live in an owner (and, with the server's features, in its arena).
        Owner::new_root(None).with(layout_round_trip);
    }

    fn layout_round_trip() {
        let saved = Layout::load();
        saved.multi.set(true);
        saved.toggle("alpha");
        saved.toggle("beta");
        saved.maximised.set(Some("beta".into()));
        let encoded = saved.encode();
        assert_eq!(encoded, "multi=1;tiles=alpha,beta;max=beta");

        let loaded = Layout::load();
        loaded.restore(&encoded);
        assert!(loaded.multi.get());
        assert_eq!(loaded.tiles.get(), vec!["alpha", "beta"]);
        assert_eq!(loaded.maximised.get().as_deref(), Some("beta"));
        // Removing the maximised tile leaves no maximised tile behind.
        loaded.toggle("beta");
        assert_eq!(loaded.tiles.get(), vec!["alpha"]);
        assert_eq!(loaded.maximised.get(), None);

        let tampered = Layout::load();
        tampered.restore("multi=1;tiles=ok,../etc,<b>;max=<i>");
        assert_eq!(tampered.tiles.get(), vec!["ok"]);
        assert_eq!(tampered.maximised.get(), None);
    }
}
