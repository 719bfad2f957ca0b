//! One worker's terminal, filling the screen; also what "New tab" opens.

use farm::worker::is_valid_id;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::agent_view::{needs_me, titled, AgentAlerts, AgentBadge};
use crate::errors::message;
use crate::live::use_live_updates;
use crate::page_title::PageTitle;
use crate::terminal::{KeyBar, KeyBarState, Terminal, TerminalStatus};

/// What the page says for an id that names no worker, instead of echoing it.
const NO_SUCH_WORKER: &str = "No such worker";

#[component]
pub fn TerminalPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let live = use_live_updates();
    // Every worker, live: the switcher lists them and the badge shows this one's status.
    let workers = Resource::new(move || live.changes.get(), move |_| live.workers());
    let status = TerminalStatus::new();
    let state = status.state;
    let keys = KeyBarState::new();
    let this_worker = move || {
        workers
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|w| w.id == id()))
    };
    // Only a worker that exists lends the page its name: an id from the URL is never shown.
    let name = move || match workers.get() {
        None => None,
        Some(Ok(_)) => Some(this_worker().map_or_else(|| NO_SUCH_WORKER.to_owned(), |w| w.name)),
        Some(Err(_)) => Some(String::new()),
    };
    // The latest list, for what must not read the resource outside a Suspense: the title's
    // count and the alerts (empty as the server renders, so hydration agrees).
    let current = RwSignal::new(Vec::<farm::worker::Worker>::new());
    // Whether the list has this worker: unknown (`None`) as the server renders and until the
    // page is live, so the terminal mounts only for a worker that exists and never knocks at
    // the websocket of one that does not. A list that cannot be had lets the terminal try.
    let present = RwSignal::new(None::<bool>);
    Effect::new(move || {
        let now = match workers.get() {
            Some(Ok(list)) => {
                let now = list.iter().any(|w| w.id == id());
                current.set(list);
                now
            }
            Some(Err(_)) => true,
            None => return,
        };
        // Set only on a change: every set re-renders what reads it, the terminal included.
        if present.get_untracked() != Some(now) {
            present.set(Some(now));
        }
    });
    let waiting =
        Memo::new(move |_| current.with(|list| list.iter().filter(|w| needs_me(w)).count()));
    let agent = Memo::new(move |_| {
        current.with(|list| {
            list.iter()
                .find(|w| w.id == id())
                .and_then(|w| w.agent.clone())
        })
    });
    // Another worker's terminal starts without the last one's title and bells.
    Effect::new(move |previous: Option<String>| {
        let current = id();
        if previous.is_some_and(|p| p != current) {
            status.title.set(String::new());
            status.bells.set(0);
        }
        current
    });
    // The program's title (tmux passes on what the shell or Claude Code sets) names the tab,
    // as plain text.
    let page_title = move || {
        let title = match (status.title.get(), name()) {
            (_, None) => "Claude Worker Farm".to_owned(),
            (title, Some(name)) if title.trim().is_empty() || name == NO_SUCH_WORKER => {
                format!("{name} · Claude Worker Farm")
            }
            (title, Some(name)) => format!("{title} · {name}"),
        };
        titled(waiting.get(), &title)
    };
    let navigate = use_navigate();
    let on_switch = move |event: leptos::ev::Event| {
        let chosen = event_target_value(&event);
        if is_valid_id(&chosen) {
            navigate(&format!("/workers/{chosen}"), Default::default());
        }
    };

    view! {
        <div class="terminal-page">
            <header class="topbar terminal-bar">
                <A href="/" attr:class="back" attr:aria-label="All workers">"←"</A>
                <Suspense fallback=|| view! { <h1>"…"</h1> }>
                    // Inside the boundary: what reads the list must render the same on the
                    // server and in the browser.
                    {move || workers.get().map(|list| match list {
                        Ok(list) if list.iter().any(|w| w.id == id()) => {
                            let current = id();
                            let label = list
                                .iter()
                                .find(|w| w.id == current)
                                .map_or("", |w| w.status.label());
                            view! {
                                <h1 class="switcher">
                                    <select aria-label="Worker" on:change=on_switch.clone()>
                                        {list.into_iter().map(|w| {
                                            let selected = w.id == current;
                                            view! { <option value=w.id selected=selected>{w.name}</option> }
                                        }).collect_view()}
                                    </select>
                                </h1>
                                <span class=format!("badge worker-status status-{label}")>{label}</span>
                            }.into_any()
                        }
                        Ok(_) => view! {
                            <h1 class="form-error no-such-worker">{NO_SUCH_WORKER}</h1>
                        }.into_any(),
                        Err(e) => view! { <h1 class="form-error">{message(&e)}</h1> }.into_any(),
                    })}
                </Suspense>
                <PageTitle text=Signal::derive(page_title)/>
                <AgentBadge agent=agent/>
                <AgentAlerts workers=current looking_at=Signal::derive(move || vec![id()])/>
                <span class="term-title" title=move || status.title.get()>
                    {move || status.title.get()}
                </span>
                {move || (status.bells.get() > 0).then(|| view! {
                    <span class="badge bell" title="The terminal's bell rang">
                        "bell " {status.bells.get()}
                    </span>
                })}
                // No terminal, no connection to tell of.
                {move || (present.get() != Some(false)).then(|| view! {
                    <span class=move || format!("badge conn-{}", state.get().label())>
                        {move || state.get().text()}
                    </span>
                })}
            </header>
            // An id no worker has, or could have, never reaches the terminal's websocket.
            {move || {
                let id = id();
                (is_valid_id(&id) && present.get() == Some(true))
                    .then(|| view! { <Terminal id status keys/> })
            }}
            <KeyBar keys/>
        </div>
    }
}
