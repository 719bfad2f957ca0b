//! The multi view: live terminals of several workers side by side. The grid has as many
//! columns as it has room for (one on a phone, up to four on a wide screen); a tile can be
//! maximised, and the keyboard goes to the tile last clicked, which is outlined. On a touch
//! screen one key bar serves the grid: its keys go to that tile. Alt+Shift+arrows move the
//! keyboard from tile to tile.

use farm::worker::Worker;
use leptos::prelude::*;

use crate::agent_view::AgentBadge;
use crate::gauge_view::{gauge_of, GaugeLine};
use crate::layout::Layout;
use crate::terminal::{KeyBar, KeyBarState, Terminal, TerminalStatus};
use crate::usage_view::UsageLine;

#[component]
pub fn MultiView(layout: Layout, workers: Signal<Vec<Worker>>) -> AnyView {
    // Only tiles of workers that exist: one deleted elsewhere goes from the grid too. A memo,
    // read by the grid, its column count and its tiles: worked out once per change, and a
    // status change that leaves the tiles as they are touches none of them.
    let shown = Memo::new(move |_| {
        let workers = workers.get();
        let mut ids: Vec<String> = layout
            .tiles
            .get()
            .into_iter()
            .filter(|id| workers.iter().any(|w| &w.id == id))
            .collect();
        if let Some(max) = layout.maximised.get() {
            ids.retain(|id| *id == max);
        }
        ids
    });
    let columns = move || shown.with(Vec::len).clamp(1, 4);
    let keys = KeyBarState::new();
    let active = RwSignal::new(None::<String>);
    // Alt+Shift+arrows move the keyboard between tiles; the listener goes with the grid.
    #[cfg(feature = "hydrate")]
    StoredValue::new_local(crate::tile_keys::TileKeys::attach(shown, active));
    view! {
        <section class="multi-view" aria-label="Terminals">
            <Show
                when=move || shown.with(|ids| !ids.is_empty())
                fallback=|| view! {
                    <p class="page-message">"Multi view: click workers below to put their terminals here."</p>
                }
            >
                <div class="tile-grid" data-columns=columns>
                    <For each=move || shown.get() key=|id| id.clone() let:id>
                        <Tile id=id.clone() layout workers keys active/>
                    </For>
                </div>
                <KeyBar keys/>
            </Show>
        </section>
    }
    // Type-erased: the dashboard's whole view type is otherwise too deep for the compiler.
    .into_any()
}

#[component]
fn Tile(
    id: String,
    layout: Layout,
    workers: Signal<Vec<Worker>>,
    keys: KeyBarState,
    active: RwSignal<Option<String>>,
) -> AnyView {
    let status = TerminalStatus::new();
    // The last tile typed in keeps its outline (and the key bar) until another is chosen.
    let focused = {
        let id = id.clone();
        Memo::new(move |_| active.get().as_deref() == Some(id.as_str()))
    };
    let on_focus = {
        let id = id.clone();
        move |_| active.set(Some(id.clone()))
    };
    let worker = {
        let id = id.clone();
        Memo::new(move |_| workers.get().into_iter().find(|w| w.id == id))
    };
    let name = {
        let id = id.clone();
        Memo::new(move |_| worker.get().map_or_else(|| id.clone(), |w| w.name))
    };
    let badge = Memo::new(move |_| worker.get().map_or("gone", |w| w.status.label()));
    let out_of_memory = Memo::new(move |_| worker.get().is_some_and(|w| w.out_of_memory.is_some()));
    let agent = Memo::new(move |_| worker.get().and_then(|w| w.agent));
    let usage = Memo::new(move |_| worker.get().and_then(|w| w.usage));
    let maximised = {
        let id = id.clone();
        Memo::new(move |_| layout.maximised.get().as_deref() == Some(id.as_str()))
    };
    let on_maximise = {
        let id = id.clone();
        move |_| {
            layout
                .maximised
                .set((!maximised.get_untracked()).then(|| id.clone()))
        }
    };
    let on_close = {
        let id = id.clone();
        move |_| layout.toggle(&id)
    };
    let tile_id = id.clone();
    view! {
        <article
            class="tile"
            class:focused=move || focused.get()
            data-tile=tile_id
            on:focusin=on_focus
        >
            <header class="tile-bar">
                <h3>{name}</h3>
                <AgentBadge agent=agent/>
                <span class=move || format!("badge status-{}", badge.get())>{badge}</span>
                {move || out_of_memory.get().then(|| view! {
                    <span class="badge status-failed" title="A process was killed for want of memory">"out of memory"</span>
                })}
                <span class=move || format!("badge conn-{}", status.state.get().label())>
                    {move || status.state.get().text()}
                </span>
                <button class="icon" on:click=on_maximise aria-pressed=move || maximised.get().to_string()
                    title=move || if maximised.get() { "Back to the grid" } else { "Maximise" }>
                    {move || if maximised.get() { "⤡" } else { "⤢" }}
                </button>
                <button class="icon" on:click=on_close title="Remove from the grid" aria-label="Remove from the grid">"×"</button>
            </header>
            <div class="tile-meters">
                <GaugeLine gauge=gauge_of(id.clone())/>
                <UsageLine usage=usage/>
            </div>
            <Terminal id=id status keys active=focused/>
        </article>
    }
    .into_any()
}
