//! What the agents have spent, from Claude Code's own transcripts: a line on each card and
//! tile, and the farm's total over the workers on the page.

use farm::agent::usage::AgentUsage;
use farm::worker::Worker;
use leptos::prelude::*;

/// `12.3k tokens · $0.42` with each kind of token in its tooltip; nothing until the worker
/// has summed its first answer.
#[component]
pub fn UsageLine(#[prop(into)] usage: Signal<Option<AgentUsage>>) -> impl IntoView {
    move || {
        usage.get().map(|u| {
            view! {
                <p class="usage" data-usage=u.tokens() title=u.detail()>{u.summary()}</p>
            }
        })
    }
}

/// The running workers' spending together, beside the farm's other totals.
#[component]
pub fn FarmSpend(workers: Signal<Vec<Worker>>) -> impl IntoView {
    let total = Memo::new(move |_| {
        workers.with(|list| {
            let spent: Vec<AgentUsage> = list.iter().filter_map(|w| w.usage).collect();
            (!spent.is_empty()).then(|| AgentUsage::total(&spent))
        })
    });
    move || {
        total.get().map(|u| {
            view! {
                <p class="farm-spend" data-farm-spend=u.tokens() title=u.detail()>
                    {format!("Claude Code: {}", u.summary())}
                </p>
            }
        })
    }
}
