//! One worker's terminal, filling the screen; also what "New tab" opens.

use farm::worker::Worker;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::errors::message;
use crate::terminal::{ConnectionState, KeyBar, KeyBarState, Terminal};

#[server(prefix = "/rpc")]
pub async fn get_worker(id: String) -> Result<Worker, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.get(&id).await.map_err(ServerFnError::new)
}

#[component]
pub fn TerminalPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let worker = Resource::new(id, get_worker);
    let state = RwSignal::new(ConnectionState::Connecting);
    let keys = KeyBarState::new();

    view! {
        <div class="terminal-page">
            <header class="topbar terminal-bar">
                <A href="/" attr:class="back" attr:aria-label="All workers">"←"</A>
                <Suspense fallback=move || view! { <h1>{id}</h1> }>
                    {move || worker.get().map(|w| match w {
                        Ok(w) => view! {
                            <Title text=format!("{} · Claude Worker Farm", w.name)/>
                            <h1>{w.name}</h1>
                        }.into_any(),
                        Err(e) => view! { <h1 class="form-error">{message(&e)}</h1> }.into_any(),
                    })}
                </Suspense>
                <span class=move || format!("badge conn-{}", state.get().label())>
                    {move || state.get().text()}
                </span>
            </header>
            {move || {
                let id = id();
                view! { <Terminal id state keys/> }
            }}
            <KeyBar keys/>
        </div>
    }
}
