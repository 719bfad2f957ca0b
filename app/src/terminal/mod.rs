//! The terminal component: an xterm.js terminal in the browser, attached to a worker's ttyd
//! through the dashboard's websocket proxy. The server renders only its empty box.

mod font;
#[cfg(feature = "hydrate")]
mod gestures;
mod keys;
#[cfg(feature = "hydrate")]
mod renderer;
#[cfg(feature = "hydrate")]
mod session;
#[cfg(feature = "hydrate")]
mod xterm;

use leptos::prelude::*;

pub use keys::{KeyBar, KeyBarState};

/// The state of the websocket behind a terminal, shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    Connected,
    /// The connection dropped; the terminal tries again by itself.
    Reconnecting,
    /// The worker's terminal is not running; the terminal keeps trying, more slowly.
    WorkerStopped,
    /// The terminal could not start in this browser.
    Failed,
}

impl ConnectionState {
    /// One word for CSS classes and tests.
    pub fn label(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Reconnecting => "reconnecting",
            ConnectionState::WorkerStopped => "stopped",
            ConnectionState::Failed => "failed",
        }
    }

    /// What the indicator says.
    pub fn text(self) -> &'static str {
        match self {
            ConnectionState::WorkerStopped => "worker stopped",
            other => other.label(),
        }
    }
}

/// What a terminal reports about itself, for the page around it to show.
#[derive(Debug, Clone, Copy)]
pub struct TerminalStatus {
    pub state: RwSignal<ConnectionState>,
    /// The title the program in the terminal set; plain text, shown as text.
    pub title: RwSignal<String>,
    /// How often the terminal's bell rang.
    pub bells: RwSignal<u32>,
    /// "webgl" or "dom": which renderer draws it.
    pub renderer: RwSignal<&'static str>,
}

impl TerminalStatus {
    pub fn new() -> Self {
        TerminalStatus {
            state: RwSignal::new(ConnectionState::Connecting),
            title: RwSignal::new(String::new()),
            bells: RwSignal::new(0),
            renderer: RwSignal::new("dom"),
        }
    }
}

impl Default for TerminalStatus {
    fn default() -> Self {
        TerminalStatus::new()
    }
}

/// Path of the websocket that reaches a worker's terminal through our proxy.
pub fn websocket_path(id: &str) -> String {
    format!("/api/workers/{id}/terminal")
}

#[component]
pub fn Terminal(
    id: String,
    status: TerminalStatus,
    keys: KeyBarState,
    /// Whether the key bar's keys are for this terminal (in a grid, only the focused tile's
    /// are); always when not given.
    #[prop(optional, into)]
    active: Option<Signal<bool>>,
) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();

    #[cfg(feature = "hydrate")]
    {
        // Owned by this component: when it unmounts, the session is dropped, which closes the
        // socket and frees the terminal.
        let live = StoredValue::new_local(None::<session::Session>);
        let id = id.clone();
        Effect::new(move || {
            let Some(element) = host.get() else { return };
            if live.with_value(Option::is_some) {
                return;
            }
            match session::Session::start(&element, &websocket_path(&id), status, keys) {
                Ok(session) => live.set_value(Some(session)),
                Err(e) => {
                    leptos::logging::error!("terminal failed to start: {e:?}");
                    status.state.set(ConnectionState::Failed);
                }
            }
        });
        // The key bar's font size applies to the running terminal too.
        Effect::new(move || {
            let size = keys.font_size.get();
            live.with_value(|session| {
                if let Some(session) = session {
                    session.set_font_size(size);
                }
            });
        });
        // Keys and pastes from the key bar go straight to the session.
        let for_me = move || active.is_none_or(|active| active.get_untracked());
        Effect::new(move || {
            if let Some(bytes) = keys.send.get().filter(|_| for_me()) {
                live.with_value(|session| {
                    if let Some(session) = session {
                        session.send_input(&bytes);
                    }
                });
            }
        });
        Effect::new(move || {
            if let Some(text) = keys.paste.get().filter(|_| for_me()) {
                live.with_value(|session| {
                    if let Some(session) = session {
                        session.paste(&text);
                    }
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (keys, active);

    view! {
        <div class="term-host" node_ref=host data-worker=id data-renderer=move || status.renderer.get()></div>
    }
}
