//! The dashboard: every worker of the farm as a card, and the form that creates one.

use farm::limits::FarmUse;
use farm::worker::Worker;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::agent_view::{needs_me, titled, AgentAlerts, AgentBadge, AgentLine, AlertToggles};
use crate::batch_view::{BatchPanel, SelectBox, Selection};
use crate::create_options::{FormOptions, OptionsFields};
use crate::errors::message;
use crate::gauge_view::{gauge_of, GaugeLine};
use crate::grid::MultiView;
use crate::layout::Layout;
use crate::live::use_live_updates;
use crate::login::LogoutButton;
use crate::page_title::PageTitle;
use crate::presets_view::{use_presets, PresetsPanel};
use crate::usage_view::{FarmSpend, UsageLine};

#[server(prefix = "/rpc")]
pub async fn list_workers() -> Result<Vec<Worker>, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.list().await.map_err(ServerFnError::new)
}

#[server(prefix = "/rpc")]
pub async fn farm_usage() -> Result<FarmUse, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.usage().await.map_err(ServerFnError::new)
}

/// The form's further fields arrive as `options[env]`, `options[secrets]`… (`OptionsFields`).
#[server(prefix = "/rpc")]
pub async fn create_worker(
    name: String,
    git_repo: String,
    prompt: String,
    options: FormOptions,
) -> Result<Worker, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    let request = farm::worker::NewWorker {
        name: Some(name),
        git_repo: Some(git_repo),
        prompt: Some(prompt),
        ..Default::default()
    };
    let request = options
        .apply(request)
        .map_err(|e| ServerFnError::new(e.0))?;
    service.create(request).await.map_err(ServerFnError::new)
}

#[server(prefix = "/rpc")]
pub async fn delete_worker(id: String) -> Result<(), ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.delete(&id).await.map_err(ServerFnError::new)
}

#[server(prefix = "/rpc")]
pub async fn restart_worker(id: String) -> Result<Worker, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.restart(&id).await.map_err(ServerFnError::new)
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let create = ServerAction::<CreateWorker>::new();
    let delete = ServerAction::<DeleteWorker>::new();
    let restart = ServerAction::<RestartWorker>::new();
    let live = use_live_updates();
    let workers = Resource::new(
        move || {
            (
                live.changes.get(),
                create.version().get(),
                delete.version().get(),
                restart.version().get(),
            )
        },
        move |_| live.workers(),
    );
    let usage = Resource::new(
        move || {
            (
                live.changes.get(),
                create.version().get(),
                delete.version().get(),
            )
        },
        |_| farm_usage(),
    );
    // The latest usage, for the form's checks (which must not read the resource outside a
    // Suspense).
    let usage_now = RwSignal::new(None::<FarmUse>);
    Effect::new(move || {
        if let Some(Ok(latest)) = usage.get() {
            usage_now.set(Some(latest));
        }
    });
    // The latest list, kept while a new one loads: the grid's terminals must not be torn down
    // and rebuilt on every update.
    let current = RwSignal::new(Vec::<Worker>::new());
    Effect::new(move || {
        if let Some(Ok(list)) = workers.get() {
            current.set(list);
        }
    });
    let layout = Layout::load();
    let waiting =
        Memo::new(move |_| current.with(|list| list.iter().filter(|w| needs_me(w)).count()));
    let only_waiting = RwSignal::new(false);
    let selection = Selection::default();
    // The terminals on the page: a worker shown there tells the user itself.
    let on_page = Signal::derive(move || {
        if layout.multi.get() {
            layout.tiles.get()
        } else {
            Vec::new()
        }
    });
    // What the create form holds, for checking it as the user types.
    let typed_name = RwSignal::new(String::new());
    let typed_repo = RwSignal::new(String::new());
    let typed_task = RwSignal::new(String::new());
    let typed_options = RwSignal::new(FormOptions::default());
    let presets = use_presets();
    // A created worker appears in the list; the form empties for the next one.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move || {
        if matches!(create.value().get(), Some(Ok(_))) {
            if let Some(form) = form.get() {
                form.reset();
            }
            typed_name.set(String::new());
            typed_repo.set(String::new());
            typed_task.set(String::new());
            typed_options.set(FormOptions::default());
        }
    });
    // The same checks as the server's, as the user types (the domain crate is shared with
    // the browser), plus the one the server would answer with 409: an id already taken.
    let checked = move || {
        let request = farm::worker::NewWorker {
            name: Some(typed_name.get()),
            git_repo: Some(typed_repo.get()),
            prompt: Some(typed_task.get()),
            ..Default::default()
        };
        // What a preset holds is checked when the server lays it under the request; it may
        // hold the repository a token is for, so that pair is left to the server too.
        let spec = typed_options
            .with(|options| options.apply(request))
            .and_then(|mut request| {
                if request.preset.is_some() {
                    request.git_token = None;
                }
                request.validate(|| "a generated id".into())
            })
            .map_err(|e| e.0)?;
        let taken = current.with(|list| list.iter().any(|w| w.id == spec.id));
        if taken {
            return Err(format!(
                "a worker with id '{}' already exists: choose another name",
                spec.id
            ));
        }
        // The server would refuse it for want of room: said before the click.
        if let Some(refusal) = usage_now.with(|u| u.as_ref().and_then(FarmUse::refusal)) {
            return Err(refusal);
        }
        Ok(spec.id)
    };
    let form_hint = move || match checked() {
        Err(problem) => view! { <p class="form-error" role="status">{problem}</p> }.into_any(),
        Ok(id) if !typed_name.get().trim().is_empty() => {
            view! { <p class="form-hint">"Its id will be "<code>{id}</code></p> }.into_any()
        }
        Ok(_) => ().into_any(),
    };
    let create_error = move || {
        create.value().get().and_then(Result::err).map(|e| {
            view! { <p class="form-error" role="alert">{message(&e)}</p> }
        })
    };
    let card_error = move || {
        let failed =
            |e: ServerFnError| view! { <p class="form-error" role="alert">{message(&e)}</p> };
        delete
            .value()
            .get()
            .and_then(Result::err)
            .map(failed)
            .or_else(|| restart.value().get().and_then(Result::err).map(failed))
    };

    view! {
        <header class="topbar">
            <h1>"Claude Worker Farm"</h1>
            <span
                class=move || if live.connected.get() { "badge conn-connected" } else { "badge conn-connecting" }
                data-live=move || if live.connected.get() { "on" } else { "off" }
                title="Worker status updates as Docker reports changes"
            >
                {move || if live.connected.get() { "live" } else { "connecting" }}
            </span>
            <LogoutButton/>
            <AgentAlerts workers=current looking_at=on_page/>
        </header>
        <PageTitle text=Signal::derive(move || titled(waiting.get(), "Claude Worker Farm"))/>
        <main class="dashboard">
            <section class="panel create-panel">
                <h2>"New worker"</h2>
                <ActionForm action=create node_ref=form attr:class="create-form">
                    <label>
                        <span>"Name"</span>
                        <input type="text" name="name" placeholder="My Worker" maxlength="64" autocomplete="off"
                            on:input=move |e| typed_name.set(event_target_value(&e))/>
                    </label>
                    <label>
                        <span>"Git repository"</span>
                        <input type="text" name="git_repo" placeholder="https://github.com/user/repo.git"
                            autocomplete="off" autocapitalize="off" spellcheck="false"
                            on:input=move |e| typed_repo.set(event_target_value(&e))/>
                    </label>
                    <label>
                        <span>"Task for Claude (optional)"</span>
                        <input type="text" name="prompt" placeholder="Fix the failing tests" autocomplete="off"
                            on:input=move |e| typed_task.set(event_target_value(&e))/>
                    </label>
                    <OptionsFields options=typed_options presets=presets.names()/>
                    <button type="submit" class="primary" disabled=move || create.pending().get() || checked().is_err()>
                        {move || if create.pending().get() { "Creating…" } else { "Create worker" }}
                    </button>
                </ActionForm>
                {form_hint}
                {create_error}
                <Transition fallback=|| ()>
                    {move || usage.get().and_then(Result::ok).map(|u| view! {
                        <p class="farm-use" data-farm-use="">
                            {format!(
                                "{} of {} workers · {} of {} MiB memory given",
                                u.workers, u.max_workers, u.memory_given_mb, u.memory_budget_mb
                            )}
                        </p>
                    })}
                </Transition>
                <FarmSpend workers=current.into()/>
                <PresetsPanel presets/>
            </section>
            <div class="view-switch">
                <button
                    class="toggle"
                    aria-pressed=move || layout.multi.get().to_string()
                    on:click=move |_| layout.multi.update(|on| *on = !*on)
                >
                    "Multi view"
                </button>
                <button
                    class="toggle needs-me"
                    aria-pressed=move || only_waiting.get().to_string()
                    on:click=move |_| only_waiting.update(|on| *on = !*on)
                    title="Only the workers whose agent asks something or has finished"
                >
                    {move || format!("Needs me ({})", waiting.get())}
                </button>
                <button
                    class="toggle"
                    aria-pressed=move || selection.on.get().to_string()
                    on:click=move |_| selection.on.update(|on| *on = !*on)
                    title="Choose workers to send a prompt to, restart or delete together"
                >
                    "Select"
                </button>
                <AlertToggles/>
                <Show when=move || layout.multi.get()>
                    <span class="hint">"Click a worker to add or remove its terminal."</span>
                    <span class="hint keyboard-only">"Alt+Shift+← → moves between tiles."</span>
                </Show>
            </div>
            <Show when=move || selection.on.get()>
                <BatchPanel selection workers=current.into()/>
            </Show>
            <Show when=move || layout.multi.get()>
                <MultiView layout workers=current.into()/>
            </Show>
            <section class="workers">
                {card_error}
                <Transition fallback=|| view! { <p class="page-message">"Loading workers…"</p> }>
                    {move || workers.get().map(|result| match result {
                        Ok(list) if list.is_empty() => view! {
                            <p class="page-message">"No workers yet: create one to get a terminal."</p>
                        }.into_any(),
                        Ok(list) if only_waiting.get() && !list.iter().any(needs_me) => view! {
                            <p class="page-message">"No agent is waiting for you."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="worker-grid">
                                {list
                                    .into_iter()
                                    .filter(|w| !only_waiting.get() || needs_me(w))
                                    .map(|w| view! { <WorkerCard worker=w delete restart layout selection/> })
                                    .collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{message(&e)}</p> }.into_any(),
                    })}
                </Transition>
            </section>
        </main>
    }
}

#[component]
fn WorkerCard(
    worker: Worker,
    delete: ServerAction<DeleteWorker>,
    restart: ServerAction<RestartWorker>,
    layout: Layout,
    selection: Selection,
) -> impl IntoView {
    // Deleting ends the tmux session: the first press only asks for a second one.
    let confirming = RwSignal::new(false);
    let id = worker.id.clone();
    let on_delete = move |_| {
        if confirming.get_untracked() {
            delete.dispatch(DeleteWorker { id: id.clone() });
        } else {
            confirming.set(true);
        }
    };
    let restart_id = worker.id.clone();
    let on_restart = move |_| {
        restart.dispatch(RestartWorker {
            id: restart_id.clone(),
        });
    };
    let status = worker.status.label();
    // The age needs the browser's clock: shown once the page is live, so that the server's
    // render and the hydrated page agree.
    let age = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    {
        let created = worker.created;
        Effect::new(move || {
            let now = (js_sys::Date::now() / 1000.0) as i64;
            age.set(age_text(now - created));
        });
    }
    let in_grid = {
        let id = worker.id.clone();
        move || layout.multi.get() && layout.tiles.get().contains(&id)
    };
    // In the multi view a click on the card (not on one of its buttons or links) adds or
    // removes the worker's tile.
    let on_card_click = {
        let id = worker.id.clone();
        move |event: leptos::ev::MouseEvent| {
            if layout.multi.get_untracked() && !on_control(&event) {
                layout.toggle(&id);
            }
        }
    };
    view! {
        <li class="worker-card" class:in-grid=in_grid data-worker=worker.id.clone() on:click=on_card_click>
            <div class="worker-head">
                <SelectBox selection id=worker.id.clone() name=worker.name.clone()/>
                <h3>{worker.name.clone()}</h3>
                <AgentBadge agent=worker.agent.clone()/>
                <span class=format!("badge status-{status}")>{status}</span>
            </div>
            <p class="worker-id">
                {worker.id.clone()}" · "
                <a href=format!("/api/workers/{}/logs?tail=500", worker.id) target="_blank" rel="noopener">
                    "logs"
                </a>
            </p>
            <p class="worker-age">{age}</p>
            <AgentLine agent=worker.agent.clone()/>
            <UsageLine usage=worker.usage/>
            <GaugeLine gauge=gauge_of(worker.id.clone())/>
            {worker.status.detail().map(|detail| {
                view! { <p class=format!("worker-detail status-{status}")>{detail}</p> }
            })}
            {worker.out_of_memory.map(|_| {
                let limit = worker
                    .limits
                    .map(|l| format!(" (limit {} MiB)", l.memory_mb))
                    .unwrap_or_default();
                view! {
                    <p class="worker-detail status-failed" data-alert="out-of-memory">
                        {format!("Out of memory{limit}: a process was killed. Restart the worker, or give it more memory.")}
                    </p>
                }
            })}
            {worker.git_repo.clone().map(|repo| {
                let title = repo.clone();
                view! { <p class="worker-repo" title=title>{repo}</p> }
            })}
            <div class="worker-actions">
                <A href=worker.terminal_url.clone() attr:class="button primary">"Open terminal"</A>
                <a class="button" href=worker.terminal_url.clone() target="_blank" rel="noopener">"New tab"</a>
                <button on:click=on_restart disabled=move || restart.pending().get()>"Restart"</button>
                <button class="danger" on:click=on_delete on:blur=move |_| confirming.set(false)>
                    {move || if confirming.get() { "Really delete?" } else { "Delete" }}
                </button>
            </div>
        </li>
    }
}

/// Whether a click landed on a button, link or field inside the card.
fn on_control(event: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("button, a, input").ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = event;
        false
    }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago": how long a worker has existed.
#[cfg(any(feature = "hydrate", test))]
fn age_text(seconds: i64) -> String {
    match seconds.max(0) {
        0..=59 => "created just now".into(),
        s @ 60..=3_599 => format!("created {} min ago", s / 60),
        s @ 3_600..=86_399 => format!("created {} h ago", s / 3_600),
        s if s < 2 * 86_400 => "created 1 day ago".into(),
        s => format!("created {} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::age_text;

    #[test]
    fn ages_read_like_people_say_them() {
        assert_eq!(age_text(-5), "created just now");
        assert_eq!(age_text(59), "created just now");
        assert_eq!(age_text(60), "created 1 min ago");
        assert_eq!(age_text(3_599), "created 59 min ago");
        assert_eq!(age_text(7_200), "created 2 h ago");
        assert_eq!(age_text(86_400), "created 1 day ago");
        assert_eq!(age_text(3 * 86_400 + 5), "created 3 days ago");
    }
}
