//! One worker's terminal, filling the screen; also what "New tab" opens.

use farm::worker::Worker;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::errors::message;
use crate::terminal::{KeyBar, KeyBarState, Terminal, TerminalStatus};

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
    let status = TerminalStatus::new();
    let state = status.state;
    let keys = KeyBarState::new();
    let name = move || {
        worker
            .get()
            .and_then(Result::ok)
            .map_or_else(id, |w| w.name)
    };
    // The program's title (tmux passes on what the shell or Claude Code sets) names the tab,
    // as plain text.
    let page_title = move || match status.title.get() {
        title if title.trim().is_empty() => format!("{} · Claude Worker Farm", name()),
        title => format!("{title} · {}", name()),
    };

    view! {
        <div class="terminal-page">
            <header class="topbar terminal-bar">
                <A href="/" attr:class="back" attr:aria-label="All workers">"←"</A>
                <Suspense fallback=move || view! { <h1>{id}</h1> }>
                    {move || worker.get().map(|w| match w {
                        Ok(w) => view! { <h1>{w.name}</h1> }.into_any(),
                        Err(e) => view! { <h1 class="form-error">{message(&e)}</h1> }.into_any(),
                    })}
                </Suspense>
                <Title text=page_title/>
                <span class="term-title" title=move || status.title.get()>
                    {move || status.title.get()}
                </span>
                {move || (status.bells.get() > 0).then(|| view! {
                    <span class="badge bell" title="The terminal's bell rang">
                        "bell " {status.bells.get()}
                    </span>
                })}
                <span class=move || format!("badge conn-{}", state.get().label())>
                    {move || state.get().text()}
                </span>
            </header>
            {move || {
                let id = id();
                view! { <Terminal id status keys/> }
            }}
            <KeyBar keys/>
        </div>
    }
}
