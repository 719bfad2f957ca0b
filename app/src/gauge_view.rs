//! A worker's live CPU and memory on its card and tile, from the gauges the event stream
//! brings (`Live::gauges`). Nothing shows until the first snapshot arrives.

use farm::gauges::Gauge;
use leptos::prelude::*;

use crate::live::Live;

/// The worker's latest gauge, following the page's live updates.
pub fn gauge_of(id: String) -> Signal<Option<Gauge>> {
    let live = use_context::<Live>();
    Signal::derive(move || live.and_then(|live| live.gauge(&id)))
}

/// `CPU 12% · 340 / 2048 MiB` with a bar for the memory, which turns red near the limit.
#[component]
pub fn GaugeLine(gauge: Signal<Option<Gauge>>) -> impl IntoView {
    move || {
        gauge.get().map(|g| {
            let fraction = g.memory_fraction();
            let level = if fraction >= 0.9 {
                "high"
            } else if fraction >= 0.7 {
                "raised"
            } else {
                "normal"
            };
            view! {
                <div class="gauge" data-gauge=level title="Live CPU (of one core) and memory, from Docker">
                    <span class="gauge-text">{g.text()}</span>
                    <span class="gauge-bar" aria-hidden="true">
                        <span class="gauge-fill" style=format!("width: {:.0}%", fraction * 100.0)></span>
                    </span>
                </div>
            }
        })
    }
}
