//! The Leptos app: the HTML shell, the routes, and the pages with their server functions.
//! Built twice: with `ssr` into the server, with `hydrate` into the browser's WASM.

mod agent_view;
pub mod batch_view;
mod create_options;
pub mod dashboard;
mod errors;
mod gauge_view;
mod grid;
mod layout;
mod live;
mod login;
pub mod page_title;
pub mod presets_view;
pub mod terminal;
pub mod terminal_page;
#[cfg(any(feature = "hydrate", test))]
mod tile_keys;
mod usage_view;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::dashboard::Dashboard;
use crate::page_title::PageTitle;
use crate::terminal_page::TerminalPage;

/// The document around the app. xterm.js comes as classic deferred scripts placed before the
/// hydration script, so its globals exist when the WASM starts.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover"/>
                <meta name="theme-color" content="#111418"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/vendor/xterm.css"/>
                <script defer src="/vendor/xterm.js"></script>
                <script defer src="/vendor/addon-fit.js"></script>
                <script defer src="/vendor/addon-webgl.js"></script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    agent_view::provide_alert_settings();
    view! {
        <Stylesheet id="leptos" href="/pkg/claude-worker-farm.css"/>
        <PageTitle text="Claude Worker Farm".to_owned()/>
        <Router>
            <Routes fallback=|| view! { <p class="page-message">"Page not found."</p> }>
                <Route path=path!("/") view=Dashboard/>
                <Route path=path!("/workers/:id") view=TerminalPage/>
            </Routes>
        </Router>
    }
}
