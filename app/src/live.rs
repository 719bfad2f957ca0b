//! Live updates: the dashboard listens to `/api/events` (server-sent events driven by Docker's
//! event stream), which pushes the workers after each change. Nothing polls, and no page
//! lists the workers on a change.

use farm::gauges::Gauge;
use farm::worker::Worker;
use leptos::prelude::*;

use crate::dashboard::list_workers;

/// What a page needs to stay current: a counter that moves on every change, the workers as
/// last pushed, every worker's CPU and memory, and whether the event stream is connected.
#[derive(Clone, Copy)]
pub struct Live {
    pub changes: RwSignal<u64>,
    /// `None` until a push came (and when one could not be read).
    pub pushed: RwSignal<Option<Vec<Worker>>>,
    pub gauges: RwSignal<Vec<(String, Gauge)>>,
    pub connected: RwSignal<bool>,
}

impl Live {
    /// The workers: as last pushed, or asked of the server when none was (the server's
    /// render, a page not yet live).
    pub fn workers(self) -> impl std::future::Future<Output = Result<Vec<Worker>, ServerFnError>> {
        let pushed = self.pushed.get_untracked();
        async move {
            match pushed {
                Some(workers) => Ok(workers),
                None => list_workers().await,
            }
        }
    }

    /// The worker's latest gauge, if one came.
    pub fn gauge(&self, id: &str) -> Option<Gauge> {
        self.gauges
            .with(|all| all.iter().find(|(g, _)| g == id).map(|(_, gauge)| *gauge))
    }
}

/// Listens for as long as the calling component lives; its children find it with
/// `use_context::<Live>()`.
pub fn use_live_updates() -> Live {
    let live = Live {
        changes: RwSignal::new(0),
        pushed: RwSignal::new(None),
        gauges: RwSignal::new(Vec::new()),
        connected: RwSignal::new(false),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    {
        let listener = StoredValue::new_local(None::<listener::Listener>);
        Effect::new(move || {
            if listener.with_value(Option::is_some) {
                return;
            }
            match listener::Listener::start(live) {
                Ok(started) => listener.set_value(Some(started)),
                Err(e) => leptos::logging::error!("live updates failed to start: {e:?}"),
            }
        });
    }
    live
}

#[cfg(feature = "hydrate")]
mod listener {
    use leptos::prelude::{Set, Update};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::EventSource;

    use farm::events::{GAUGES, PATH as EVENTS_PATH, WORKERS_CHANGED};

    use super::Live;

    /// An open EventSource; the browser reconnects it by itself. Dropping it closes it.
    pub struct Listener {
        source: EventSource,
        _on_change: Closure<dyn FnMut(web_sys::MessageEvent)>,
        _on_gauges: Closure<dyn FnMut(web_sys::MessageEvent)>,
        _on_open: Closure<dyn FnMut()>,
        _on_error: Closure<dyn FnMut()>,
    }

    impl Listener {
        pub fn start(live: Live) -> Result<Listener, JsValue> {
            let source = EventSource::new(EVENTS_PATH)?;
            let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    // A list that cannot be read (or an empty one: the server could not make
                    // it) is asked for instead.
                    let pushed = event
                        .data()
                        .as_string()
                        .and_then(|json| serde_json::from_str(&json).ok());
                    live.pushed.set(pushed);
                    live.changes.update(|n| *n += 1);
                },
            );
            source.add_event_listener_with_callback(
                WORKERS_CHANGED,
                on_change.as_ref().unchecked_ref(),
            )?;
            let on_gauges = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    if let Some(text) = event.data().as_string() {
                        live.gauges.set(farm::gauges::decode(&text));
                    }
                },
            );
            source.add_event_listener_with_callback(GAUGES, on_gauges.as_ref().unchecked_ref())?;
            let on_open = Closure::<dyn FnMut()>::new(move || live.connected.set(true));
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            let on_error = {
                let source = source.clone();
                Closure::<dyn FnMut()>::new(move || {
                    live.connected.set(false);
                    // The browser retries a stream that dropped by itself; it gives up only
                    // when the dashboard refused it, which means the login session ended.
                    if source.ready_state() == EventSource::CLOSED {
                        crate::login::go_to_login();
                    }
                })
            };
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            Ok(Listener {
                source,
                _on_change: on_change,
                _on_gauges: on_gauges,
                _on_open: on_open,
                _on_error: on_error,
            })
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            self.source.close();
        }
    }
}
