//! Acting on several workers at once: the dashboard's selection, and the panel that sends
//! the selected workers one prompt, or restarts or deletes them, with a result per worker.

use farm::batch::{check_prompt, BatchAction, BatchRequest, BatchResult};
use farm::worker::Worker;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::errors::message;
use crate::layout::toggle_id;

#[server(prefix = "/rpc", input = Json)]
pub async fn batch_workers(request: BatchRequest) -> Result<Vec<BatchResult>, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.batch(&request).await.map_err(ServerFnError::new)
}

/// The ids chosen on the dashboard, while choosing is on.
#[derive(Clone, Copy, Default)]
pub struct Selection {
    pub on: RwSignal<bool>,
    pub ids: RwSignal<Vec<String>>,
}

impl Selection {
    pub fn toggle(&self, id: &str) {
        self.ids.update(|ids| toggle_id(ids, id));
    }
}

/// The box on a card that selects it.
#[component]
pub fn SelectBox(selection: Selection, id: String, name: String) -> impl IntoView {
    let checked = {
        let id = id.clone();
        move || selection.ids.with(|ids| ids.contains(&id))
    };
    view! {
        <Show when=move || selection.on.get()>
            <input
                type="checkbox"
                class="select-box"
                aria-label=format!("Select {name}")
                prop:checked=checked.clone()
                on:change={
                    let id = id.clone();
                    move |_| selection.toggle(&id)
                }
            />
        </Show>
    }
}

/// What to do with the selected workers, and how it went for each.
#[component]
pub fn BatchPanel(selection: Selection, workers: Signal<Vec<Worker>>) -> impl IntoView {
    let run = ServerAction::<BatchWorkers>::new();
    let prompt = RwSignal::new(String::new());
    let confirming_delete = RwSignal::new(false);
    // What the results say of a worker it went well for.
    let done = RwSignal::new("done");
    // Workers deleted meanwhile leave the selection.
    Effect::new(move || {
        let existing = workers.get();
        selection
            .ids
            .update(|ids| ids.retain(|id| existing.iter().any(|w| &w.id == id)));
    });
    let count = move || selection.ids.with(Vec::len);
    let send = move |action: BatchAction| {
        done.set(match action {
            BatchAction::Prompt { .. } => "sent",
            BatchAction::Restart => "restarted",
            BatchAction::Delete => "deleted",
        });
        run.dispatch(BatchWorkers {
            request: BatchRequest {
                ids: selection.ids.get_untracked(),
                action,
            },
        });
    };
    let prompt_problem = move || {
        let text = prompt.get();
        (!text.is_empty())
            .then(|| check_prompt(&text).err().map(|e| e.0))
            .flatten()
    };
    let on_send = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        send(BatchAction::Prompt {
            text: prompt.get_untracked(),
        });
    };
    let on_delete = move |_| {
        if confirming_delete.get_untracked() {
            confirming_delete.set(false);
            send(BatchAction::Delete);
        } else {
            confirming_delete.set(true);
        }
    };
    let name_of = move |id: &str| {
        workers.with_untracked(|list| {
            list.iter()
                .find(|w| w.id == id)
                .map_or_else(|| id.to_owned(), |w| w.name.clone())
        })
    };
    let results = move || {
        run.value().get().map(|outcome| match outcome {
            Ok(results) => view! {
                <ul class="batch-results" aria-label="Results">
                    {results.into_iter().map(|r| {
                        let name = name_of(&r.id);
                        let (mark, text) = if r.ok {
                            ("ok", done.get_untracked().to_owned())
                        } else {
                            ("failed", r.error.unwrap_or_default())
                        };
                        view! {
                            <li class=format!("batch-result {mark}") data-result=mark data-worker=r.id>
                                <strong>{name}</strong>": "{text}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{message(&e)}</p> }.into_any(),
        })
    };
    let idle = move || count() == 0 || run.pending().get();
    view! {
        <section class="panel batch-panel" aria-label="Selected workers">
            <p class="batch-count">
                {move || match count() {
                    0 => "Select workers with their boxes.".to_owned(),
                    1 => "1 worker selected".to_owned(),
                    n => format!("{n} workers selected"),
                }}
            </p>
            <form class="batch-form" on:submit=on_send>
                <input type="text" name="prompt" placeholder="A prompt to type into each selected terminal"
                    aria-label="Prompt" autocomplete="off"
                    prop:value=move || prompt.get()
                    on:input=move |e| prompt.set(event_target_value(&e))/>
                <button type="submit" class="primary"
                    disabled=move || idle() || prompt.get().trim().is_empty() || prompt_problem().is_some()>
                    "Send"
                </button>
                <button type="button" disabled=idle on:click=move |_| send(BatchAction::Restart)>"Restart"</button>
                <button type="button" class="danger" disabled=idle on:click=on_delete
                    on:blur=move |_| confirming_delete.set(false)>
                    {move || if confirming_delete.get() { "Really delete?" } else { "Delete" }}
                </button>
            </form>
            {move || prompt_problem().map(|p| view! { <p class="form-error" role="status">{p}</p> })}
            {results}
        </section>
    }
}
